# logging: raw outputs only; checks/linux/logging.py parses them.
# Running daemons by name, from /proc (no ps needed; pgrep is absent on minimal systems).
lg_procs() { cat /proc/[0-9]*/comm 2>/dev/null | sort -u; }
lg_running() { lg_procs | grep -qx "$1"; }
# files with a "== path" header; comments are dropped by parse(), which keeps line numbers
lg_cat() { for f in "$@"; do [ -f "$f" ] && echo "== $f" && cat "$f"; done; true; }
lg_rsyslog() {
  has rsyslogd || [ -x /usr/sbin/rsyslogd ] || { echo "@@not-installed"; return 0; }
  lg_cat /etc/rsyslog.conf /etc/rsyslog.d/*.conf
}
lg_syslogng() {
  has syslog-ng || [ -x /usr/sbin/syslog-ng ] || { echo "@@not-installed"; return 0; }
  lg_cat /etc/syslog-ng/syslog-ng.conf /etc/syslog-ng/conf.d/*.conf
}
# journal-upload: its URL, and whether it is enabled (systemctl when systemd runs, else the
# wants/ symlinks that `systemctl enable` leaves)
lg_journal_upload() {
  [ -x /lib/systemd/systemd-journal-upload ] || [ -x /usr/lib/systemd/systemd-journal-upload ] ||
    { echo "@@not-installed"; return 0; }
  if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
    echo "@@enabled $(systemctl is-enabled systemd-journal-upload.service 2>&1)"
    echo "@@active $(systemctl is-active systemd-journal-upload.service 2>&1)"
  else
    for l in /etc/systemd/system/*.wants/systemd-journal-upload.service; do
      [ -e "$l" ] && echo "@@enabled enabled" && break
    done
  fi
  lg_cat /etc/systemd/journal-upload.conf /etc/systemd/journal-upload.conf.d/*.conf
}
# chronyc only when chronyd runs: talking to no daemon would wait for its timeouts
lg_chrony() {
  has chronyc || { echo "@@not-installed"; return 0; }
  lg_running chronyd || { echo "@@not-running"; return 0; }
  printf 'timeout 300\nretries 2\ntracking\n' | LC_ALL=C chronyc -n
}
lg_chrony_sources() {
  if has chronyc && lg_running chronyd; then
    printf 'timeout 300\nretries 2\nsources\n' | LC_ALL=C chronyc -n
  fi
}
lg_ntp_config() {
  lg_cat /etc/chrony/chrony.conf /etc/chrony.conf /etc/chrony/conf.d/*.conf \
    /etc/chrony/sources.d/*.sources /etc/ntp.conf /etc/ntpsec/ntp.conf \
    /etc/systemd/timesyncd.conf /etc/systemd/timesyncd.conf.d/*.conf
}
lg_ntpq() {
  lg_running ntpd || { echo "@@not-running"; return 0; }
  has ntpq || { echo "@@no-ntpq"; return 0; }
  LC_ALL=C ntpq -pn
}
lg_timedatectl() {
  [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] || { echo "@@no-systemd"; return 0; }
  LC_ALL=C timedatectl show
}
field logging procs lg_procs
field logging rsyslog lg_rsyslog
field logging syslog_ng lg_syslogng
field logging journal_upload lg_journal_upload
field logging timedatectl lg_timedatectl
field logging chrony lg_chrony
field logging chrony_sources lg_chrony_sources
field logging ntpq lg_ntpq
field logging ntp_config lg_ntp_config
