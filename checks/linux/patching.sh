# patching: raw outputs only; checks/linux/patching.py parses them (linux-checks.md §1).
pt_manager() {
  if has apt-get && has dpkg-query; then echo apt; elif has dnf; then echo dnf; elif has yum; then echo yum; fi
}
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
elif has dnf || has yum; then
  # RHEL family (§1.6): dnf 4 (yum on RHEL 7, where dnf is absent). -C: the metadata cache only,
  # as apt-get -s reads the lists already there; never a download or a lock wait on the host.
  PT_DNF=dnf; has dnf || PT_DNF=yum
  pt_dnf() { LC_ALL=C "$PT_DNF" -q -C "$@"; }
  # the dnf plugin (dnf-plugins-core) reads only the rpm database; yum-utils' command on RHEL 7
  pt_needsrestarting() {
    if [ "$PT_DNF" = dnf ]; then pt_dnf needs-restarting -r; else LC_ALL=C needs-restarting -r; fi
  }
  # the update records: dnf's rpm transaction log (and its rotations), upgrades only
  pt_rpmlog() {
    for f in /var/log/dnf.rpm.log*; do
      [ -r "$f" ] || continue
      case "$f" in *.gz) zcat "$f" ;; *) cat "$f" ;; esac
    done | grep -E ' (Upgrade|Upgraded): ' | sort | tail -n 1
  }
  pt_automatic() {
    has dnf-automatic && echo "bin $(command -v dnf-automatic)"
    for f in /etc/systemd/system/timers.target.wants/dnf-automatic*.timer; do
      [ -e "$f" ] && echo "timer ${f##*/}"
    done
    [ -r /etc/dnf/automatic.conf ] && grep -E '^[[:space:]]*(\[|upgrade_type|apply_updates)' /etc/dnf/automatic.conf
    true
  }
  pt_metadata() {
    for f in /var/cache/dnf/*/repodata/repomd.xml /var/cache/yum/*/*/*/repomd.xml; do
      [ -e "$f" ] && stat -c '%Y' "$f"
    done | sort -n | tail -n 1
  }
  # name, [epoch:]version-release, arch, install time: versions, kernels and reboot dates
  pt_rpms() { rpm -qa --qf '%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\t%{INSTALLTIME}\n'; }
  pt_updateinfo() {
    if [ "$PT_DNF" = dnf ]; then pt_dnf updateinfo list --security --available
    else pt_dnf updateinfo list security available; fi  # yum 3 takes no options here
  }
  PT_CU=$(pt_dnf check-update 2>&1); PT_CU_RC=$?
  pt_checkupdate() { printf '%s' "$PT_CU"; return "$PT_CU_RC"; }
  field patching check_update pt_checkupdate
  # each dnf run costs ~0.35 s of CPU: which updates are security ones matters only if any
  # are pending (exit 100)
  if [ "$PT_CU_RC" = 100 ]; then field patching updateinfo pt_updateinfo; fi
  field patching needs_restarting pt_needsrestarting
  # dnf history (its sqlite database) only when the log, rotated weekly, holds no upgrade
  PT_LOG=$(pt_rpmlog)
  field patching rpm_log printf '%s' "$PT_LOG"
  if [ -z "$PT_LOG" ]; then field patching dnf_history pt_dnf history list; fi
  field patching automatic pt_automatic
  field patching metadata pt_metadata
  field patching running pt_running
  field patching rpms pt_rpms
fi
