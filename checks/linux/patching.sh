# patching: raw outputs only; checks/linux/patching.py parses them (linux-checks.md §1).
pt_manager() {
  if has apt-get && has dpkg-query; then echo apt; elif has dnf; then echo dnf; elif has yum; then echo yum; fi
}
pt_simulate() { LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade; }
# upgrades the simulation leaves out (apt-mark hold, phasing, unresolvable): the names listed
# under its "kept back" and "deferred due to phasing" headers
pt_kept() {
  printf '%s\n' "$PT_SIM" | awk '
    /^The following (packages have been kept back|upgrades have been deferred due to phasing):/ { on = 1; next }
    on && /^  / { print; next } { on = 0 }' | tr -s ' ' '\n' | grep -v '^$'
}
# those packages as apt would install them with holds and phasing ignored: their Inst lines
# carry candidate and origins in the simulation's own format (held ones are named under
# "The following held packages will be changed")
pt_held() {
  set -f; set -- $PT_KEPT; set +f
  LC_ALL=C apt-get -s -o Debug::NoLocking=1 --ignore-hold \
    -o APT::Get::Always-Include-Phased-Updates=true install "$@"
}
pt_aptconfig() { apt-config dump | grep -E '^(APT::Periodic|Unattended-Upgrade::)'; }
# apt history (every libapt front end writes it), reduced to what dates an update: one block
# per apt run, package lists dropped. A log that exists but cannot be read (0640 root:adm,
# collected without root) is named "@@unreadable FILE": the pipe's exit status cannot say it.
pt_history() {
  for f in /var/log/apt/history.log.* /var/log/apt/history.log; do
    [ -e "$f" ] || continue
    if [ ! -r "$f" ]; then echo "@@unreadable $f"; continue; fi
    case "$f" in
      *.gz) zcat "$f" || echo "@@unreadable $f (zcat exit $?)" ;;
      *) cat "$f" ;;
    esac
    echo
  done | awk '/^@@/ || /^(Start-Date|End-Date|Commandline|Error):/ { print; next }
       /^Upgrade:/ { print "Upgrade: yes"; next } /^$/ { print "" }'
}
pt_stamps() { for f in /var/lib/apt/periodic/*-stamp; do [ -e "$f" ] && stat -c '%n %Y' "$f"; done; true; }
# package sources (§1.1, §1.3): every configured suite, fetched or not, one line per target
pt_targets() {
  apt-get indextargets --no-release-info 'Created-By: Packages' \
    --format '$(SOURCESENTRY)|$(SITE)|$(RELEASE)|$(METAKEY)|$(FILENAME)'
}
# each fetched Release's header: who published it and when (Date:), never the file's mtime
pt_releases() {
  set -- /var/lib/apt/lists/*Release
  [ -e "$1" ] || return 0
  grep -E -H '^(Origin|Label|Suite|Codename|Version|Date|Valid-Until):' "$@"
}
# kernels by file ownership: the packages shipping /boot/vmlinuz-* (metapackages ship none)
pt_kernels() { dpkg-query -S '/boot/vmlinuz-*'; }
pt_rebootfile() {
  for f in /var/run/reboot-required /run/reboot-required; do
    if [ -e "$f" ]; then stat -c '%Y' "$f"; cat "$f.pkgs" 2>/dev/null; return 0; fi
  done
  echo absent
}
pt_needrestart() { if has needrestart; then needrestart -b -k; else echo "not installed"; return 127; fi; }
pt_running() { uname -r; uname -v; }
# what proves a container (its kernel is the host's): never assumed, only read
pt_container() {
  [ -r /run/systemd/container ] && echo "/run/systemd/container: $(cat /run/systemd/container)"
  [ -e /.dockerenv ] && echo "/.dockerenv present"
  [ -e /run/.containerenv ] && echo "/run/.containerenv present"
  tr '\000' '\n' </proc/1/environ 2>/dev/null | sed -n 's/^container=\(..*\)/PID 1 environment: container=\1/p'
  true
}
# every package with its state: installed versions, unattended-upgrades and the kernels
pt_packages() { dpkg-query -W -f='${Package}\t${Version}\t${db:Status-Abbrev}\n'; }
field patching manager pt_manager
field patching container pt_container
if has apt-get && has dpkg-query; then
  PT_SIM=$(pt_simulate 2>&1); PT_SIM_RC=$?
  pt_simulated() { printf '%s' "$PT_SIM"; return "$PT_SIM_RC"; }
  field patching simulate pt_simulated
  PT_KEPT=$(pt_kept)
  if [ -n "$PT_KEPT" ]; then field patching held pt_held; fi
  field patching apt_config pt_aptconfig
  field patching history pt_history
  field patching stamps pt_stamps
  field patching targets pt_targets
  field patching releases pt_releases
  field patching kernels pt_kernels
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
  # the enabled repositories, fetched or not (the cache-only listing reads only the .repo files)
  pt_repos() {
    if [ "$PT_DNF" = dnf ]; then pt_dnf repolist --enabled; else pt_dnf repolist enabled; fi
  }
  # each cached repository's repomd.xml: when it was published, whether it carries advisories
  pt_repomd() {
    for f in /var/cache/dnf/*/repodata/repomd.xml /var/cache/yum/*/*/*/repomd.xml; do
      [ -e "$f" ] && grep -H -E '<revision>|<timestamp>|<data type="updateinfo"' "$f"
    done
    true
  }
  # kernels by file ownership: kernel-core ships /lib/modules/<r>/vmlinuz, RHEL 7's kernel /boot's
  pt_kernels() {
    set --
    for f in /lib/modules/*/vmlinuz /boot/vmlinuz-*; do [ -e "$f" ] && set -- "$@" "$f"; done
    [ $# -gt 0 ] || return 0
    # one line per file of each owner ("=": the package's tags repeated on every line)
    rpm -qf --qf '[%{=NAME}\t%|EPOCH?{%{=EPOCH}:}:{}|%{=VERSION}-%{=RELEASE}\t%{FILENAMES}\n]' "$@" |
      grep -E '/vmlinuz(-[^/]*)?$'
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
  field patching repos pt_repos
  field patching repomd pt_repomd
  field patching kernels pt_kernels
  field patching running pt_running
  field patching rpms pt_rpms
fi
