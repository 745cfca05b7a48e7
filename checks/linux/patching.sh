# patching: raw outputs only; checks/linux/patching.py parses them (linux-checks.md §1).
pt_simulate() { LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade; }
pt_aptconfig() { apt-config dump | grep -E '^(APT::Periodic|Unattended-Upgrade::)'; }
pt_uu() { dpkg-query -W -f='${Status}\n' unattended-upgrades; }
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
pt_kernels() { dpkg-query -W -f='${Package}\t${Version}\t${db:Status-Abbrev}\n' 'linux-image-[0-9]*'; }
pt_running() { uname -r; uname -v; }
pt_packages() { dpkg-query -W -f='${Package}\t${Version}\t${db:Status-Abbrev}\n'; }
printf '"patching":{'
if has apt-get && has dpkg-query; then
  printf '"manager":"apt",'
  field simulate pt_simulate; printf ','
  field apt_config pt_aptconfig; printf ','
  field uu_status pt_uu; printf ','
  field history pt_history; printf ','
  field dpkg_log pt_dpkglog; printf ','
  field stamps pt_stamps; printf ','
  field lists pt_lists; printf ','
  field reboot_file pt_rebootfile; printf ','
  field needrestart pt_needrestart; printf ','
  field kernels pt_kernels; printf ','
  field running pt_running; printf ','
  field packages pt_packages
else
  printf '"manager":null'
fi
printf '}'
