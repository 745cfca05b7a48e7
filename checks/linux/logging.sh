# logging: raw outputs only; checks/linux/logging.py parses them.
# A process by name, from /proc (no ps needed; pgrep is absent on minimal systems): only to
# decide what to ask here; whether the daemon really runs is judged from bl_daemons' table.
lg_running() { cat /proc/[0-9]*/comm 2>/dev/null | grep -qx "$1"; }
# with systemd as PID 1, its view of the daemons' units; their main processes go to bl_daemons
lg_units() {
  _o=$(LC_ALL=C systemctl show -p Id -p ActiveState -p MainPID -p User rsyslog.service \
    syslog-ng.service chrony.service chronyd.service ntp.service ntpsec.service ntpd.service)
  _r=$?
  printf '%s\n' "$_o"
  LG_MAIN=$(printf '%s\n' "$_o" | sed -n 's/^MainPID=\([1-9][0-9]*\)$/\1/p' | tr '\n' ' ')
  return "$_r"
}
# files with a "== path" header; comments are dropped by parse(), which keeps line numbers
lg_cat() { for f in "$@"; do [ -f "$f" ] && echo "== $f" && cat "$f"; done; true; }
# rsyslog: the configuration as rsyslogd itself reads it (`-N1 -o`: every include expanded,
# in its order) and its verdict on it, then each file it names (for line numbers) and the
# usual ones (read and followed by parse() when rsyslogd cannot expand). The file is the
# running daemon's -f, else the default: sets LG_RS_CONF. Of several rsyslogd, the one running
# the installed binary as the lowest uid (root first) is read; parse() checks its LG_RS_PID.
lg_rs_conf() {
  _b=$(readlink -f "$(command -v rsyslogd)") LG_RS_PID= LG_RS_CONF= _lu=
  for p in /proc/[0-9]*; do
    { read -r _c <"$p/comm"; } 2>/dev/null || continue
    [ "$_c" = rsyslogd ] || continue
    _e=$(readlink "$p/exe" 2>/dev/null) && [ "${_e% (deleted)}" != "$_b" ] && continue
    bl_status "$p/status"; _u=$bl_uid
    [ -n "$_u" ] || continue
    if [ -z "$_lu" ] || [ "$_u" -lt "$_lu" ]; then LG_RS_PID=${p#/proc/} _lu=$_u; fi
  done
  [ -n "$LG_RS_PID" ] && LG_RS_CONF=$(tr '\0' '\n' <"/proc/$LG_RS_PID/cmdline" 2>/dev/null |
    awk 'f { print; exit } /^-f/ { if (length($0) > 2) { print substr($0, 3); exit } f = 1 }')
  [ -n "$LG_RS_CONF" ] || LG_RS_CONF=/etc/rsyslog.conf
}
lg_rs_check() {
  echo "@@config $LG_RS_CONF"
  rsyslogd -N1 -f "$LG_RS_CONF" -o "$LG_RS_FULL"
}
lg_rsyslog() {
  [ -n "$LG_RS_CONF" ] || { echo "@@not-installed"; return 0; }
  { printf '%s\n' "$LG_RS_CONF" "$LG_RS_FILES"; ls -d /etc/rsyslog.d/* 2>/dev/null; } |
    sort -u | while IFS= read -r f; do [ -n "$f" ] && lg_cat "$f"; done
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
LG_MAIN=
[ -d /run/systemd/system ] && field logging units lg_units
# the daemons the controls trust, and who really runs them (names alone prove nothing)
field logging procs bl_daemons "$LG_MAIN" "rsyslog syslog-ng-core syslog-ng chrony ntp ntpsec" \
  rsyslogd syslog-ng chronyd ntpd
LG_RS_CONF= LG_RS_FILES= LG_RS_PID=
if has rsyslogd; then
  lg_rs_conf
  field logging rsyslog_pid echo "$LG_RS_PID"
  if LG_RS_FULL=$(mktemp 2>/dev/null); then
    field logging rsyslog_check lg_rs_check
    field logging rsyslog_full cat "$LG_RS_FULL"
    LG_RS_FILES=$(sed -n 's/^##### BEGIN CONFIG: \(.*\) (put on stack)$/\1/p' "$LG_RS_FULL")
    rm -f "$LG_RS_FULL"
  fi
fi
field logging rsyslog lg_rsyslog
field logging syslog_ng lg_syslogng
field logging journal_upload lg_journal_upload
field logging timedatectl lg_timedatectl
field logging chrony lg_chrony
field logging chrony_sources lg_chrony_sources
field logging ntpq lg_ntpq
field logging ntp_config lg_ntp_config
