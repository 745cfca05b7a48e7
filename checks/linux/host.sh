# host: identity and clock of the target, so ages can be computed from its own records.
host_uname() { uname -srvm; }
host_osrel() { cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release; }
host_clock() { date +%s; date +%z; }
field host hostname hostname
field host uname host_uname
field host os_release host_osrel
field host clock host_clock
field host uid id -u
# peer: Baluarte's address as the host sees the SSH connection (lockout guards keep it allowed).
# sudo drops SSH_CONNECTION from the environment: then the nearest ancestor that has it says.
host_peer() {
  _hc=${SSH_CONNECTION:-}; _hp=$$
  while [ -z "$_hc" ] && [ "${_hp:-0}" -gt 1 ] 2>/dev/null; do
    _hc=$(tr '\000' '\n' <"/proc/$_hp/environ" 2>/dev/null | sed -n 's/^SSH_CONNECTION=//p')
    _hp=$(sed 's/.*) //' "/proc/$_hp/stat" 2>/dev/null | cut -d' ' -f2)
  done
  echo "${_hc%% *}"
}
field host peer host_peer
