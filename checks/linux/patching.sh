# patching: raw outputs only; checks/linux/patching.py parses them (linux-checks.md §1).
pt_manager() { if has apt-get && has dpkg-query; then echo apt; fi; }
pt_simulate() { LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade; }
pt_aptconfig() { apt-config dump | grep -E '^(APT::Periodic|Unattended-Upgrade::)'; }
# apt history, reduced to what dates an update: one block per apt run, package lists dropped
pt_history() {
  { for f in /var/log/apt/history.log.*.gz; do [ -r "$f" ] && zcat "$f"; done
    [ -r /var/log/apt/history.log ] && cat /var/log/apt/history.log; } |
  awk '/^(Start-Date|End-Date|Commandline|Error):/ { print; next }
       /^Upgrade:/ { print "Upgrade: yes"; next } /^$/ { print "" }'
}
pt_dpkglog() {
  { for f in /var/log/dpkg.log.*.gz; do [ -r "$f" ] && zcat "$f"; done
    cat /var/log/dpkg.log /var/log/dpkg.log.1 2>/dev/null; } | grep ' upgrade ' | sort | tail -n 1
}
pt_stamps() { for f in /var/lib/apt/periodic/*-stamp; do [ -e "$f" ] && stat -c '%n %Y' "$f"; done; true; }
pt_lists() { for f in /var/lib/apt/lists/*Release; do [ -e "$f" ] && stat -c '%Y' "$f"; done | sort -n | tail -n 1; }
pt_rebootfile() {
  for f in /var/run/reboot-required /run/reboot-required; do
    if [ -e "$f" ]; then stat -c '%Y' "$f"; cat "$f.pkgs" 2>/dev/null; return 0; fi
  done
  echo absent
}
pt_needrestart() { if has needrestart; then needrestart -b -k; else echo "not installed"; return 127; fi; }
pt_running() { uname -r; uname -v; }
# every package with its state: installed versions, unattended-upgrades and the kernels
pt_packages() { dpkg-query -W -f='${Package}\t${Version}\t${db:Status-Abbrev}\n'; }
field patching manager pt_manager
if has apt-get && has dpkg-query; then
  field patching simulate pt_simulate
  field patching apt_config pt_aptconfig
  field patching history pt_history
  field patching dpkg_log pt_dpkglog
  field patching stamps pt_stamps
  field patching lists pt_lists
  field patching reboot_file pt_rebootfile
  field patching needrestart pt_needrestart
  field patching running pt_running
  field patching packages pt_packages
fi
