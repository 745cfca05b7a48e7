# backup: raw outputs only; checks/linux/backup.py parses them (linux-checks.md §4).
# Inputs (checks/linux/backup.py settings()): BL_BK_TOOL, BL_BK_REPO, BL_BK_UNIT, BL_BK_TIMER,
# BL_BK_RESTORE=1 for a restore test, and the secrets BL_BK_PASSWORD and BL_BK_URL_PASSWORD (the
# repository URL user's, URL-encoded) read from standard input.
# The passwords only ever reach restic/borg through their environment: never an argument,
# never printed. Read-only by design (--no-lock, --bypass-lock, --no-cache) except the restore
# test, which writes to a mktemp -d directory it removes, and its record file.
BK_RECORD=/var/lib/baluarte/restore-test.json
# the repository as the tool needs it: scheme://USER@host… gets USER:PASSWORD@ (printf is a
# builtin: the password is in no command line)
bk_url() {
  case ${BL_BK_URL_PASSWORD:+set}:$BL_BK_REPO in
    set:*://*@*)
      _r=${BL_BK_REPO#*://}
      printf '%s://%s:%s@%s' "${BL_BK_REPO%%://*}" "${_r%%@*}" "$BL_BK_URL_PASSWORD" "${_r#*@}" ;;
    *) printf '%s' "$BL_BK_REPO" ;;
  esac
}
bk_restic() {
  RESTIC_REPOSITORY="$(bk_url)" RESTIC_PASSWORD="${BL_BK_PASSWORD-}" LC_ALL=C \
    restic --no-cache --no-lock -q "$@"
}
bk_borg() {
  BORG_REPO="$(bk_url)" BORG_PASSPHRASE="${BL_BK_PASSWORD-}" LC_ALL=C \
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes \
    BORG_DISPLAY_PASSPHRASE=no borg "$@"
}
# which tool to inspect: the policy's, else restic or borg told apart by the repository's
# config file (borg's is an ini file), else the systemd job, else Veeam Agent
bk_detect() {
  case "${BL_BK_TOOL-any}" in restic | borg | veeam | systemd) echo "$BL_BK_TOOL"; return 0 ;; esac
  if [ -n "${BL_BK_REPO-}" ]; then
    if [ -f "$BL_BK_REPO/config" ] && grep -q '^\[repository\]' "$BL_BK_REPO/config" 2>/dev/null; then
      echo borg
    elif [ -f "$BL_BK_REPO/config" ]; then echo restic
    else echo unknown; fi
  elif [ -n "${BL_BK_UNIT-}" ]; then echo systemd
  elif has veeamconfig; then echo veeam
  else echo none; fi
}
# a local repository path that does not exist is "missing"; remote ones are left to the tool
bk_repo_state() {
  _p=${BL_BK_REPO#local:}
  case "$_p" in /*) if [ -e "$_p" ]; then echo present; else echo missing; fi ;; *) echo remote ;; esac
}
bk_sysctl() { LC_ALL=C TZ=UTC systemctl show "$@"; }
bk_service() {
  bk_sysctl -p Id,LoadState,ActiveState,SubState,Result,ExecMainStatus,ExecMainStartTimestamp \
    -p ExecMainExitTimestamp,ExecStart "$BL_BK_UNIT"
}
bk_timer() {
  bk_sysctl -p Id,LoadState,ActiveState,UnitFileState,Unit,LastTriggerUSec,NextElapseUSecRealtime \
    "$BL_BK_TIMER"
}
bk_sessions() { veeamconfig session list | awk 'NR == 1 { print; next } { l[NR] = $0 } END { for (i = (NR > 101 ? NR - 99 : 2); i <= NR; i++) print l[i] }'; }
bk_record() { if [ -e "$BK_RECORD" ]; then cat "$BK_RECORD"; else echo absent; fi; }
# Restore test. Candidates (one path a line) are small regular files (at most 1 MiB) among the
# first 20000 entries of the newest backup, in random order. The first that still exists and is
# older than the backup is restored (a file changed since cannot match); failing that, the first
# that exists, so a backup that no longer matches its source shows as a failed test.
bk_pick() {
  _snap_epoch=$1; _fallback=
  while IFS= read -r _f; do
    [ -f "$_f" ] && [ -r "$_f" ] || continue
    [ -n "$_fallback" ] || _fallback=$_f
    if [ "$(stat -c %Y "$_f")" -lt "$_snap_epoch" ]; then echo "$_f"; return 0; fi
  done
  [ -n "$_fallback" ] && echo "$_fallback"
}
bk_shuffle() { awk 'BEGIN { srand() } { printf "%.9f\t%s\n", rand(), $0 }' | sort -n | cut -f2-; }
# prints key=value lines for this run, and records a test that was made (below)
bk_restore() {
  _t=$(mktemp -d) || { echo "result=error"; echo "detail=mktemp -d failed"; return 1; }
  _snap= _time= _file= _got= _want= _detail= _mtime=
  if [ "$bk_tool" = restic ]; then
    bk_restic ls --json latest --host "$(hostname)" 2>"$_t/err" | head -n 20000 >"$_t/ls"
    _snap=$(head -n 1 "$_t/ls" | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
    _time=$(head -n 1 "$_t/ls" | sed -n 's/.*"time":"\([^"]*\)".*/\1/p')
    awk 'NR > 1 && /"type":"file"/ && match($0, /"size":[0-9]+/) {
           size = substr($0, RSTART + 7, RLENGTH - 7) + 0
           if (size == 0 || size > 1048576 || !match($0, /"path":"[^"\\]*"/)) next
           p = substr($0, RSTART + 8, RLENGTH - 9); if (p !~ /[*?[]/) print p }' "$_t/ls" |
      bk_shuffle >"$_t/cand"
  else
    _line=$(bk_borg list --bypass-lock --last 1 --format '{archive}{TAB}{time}{NL}' 2>"$_t/err")
    _snap=${_line%%"$(printf '\t')"*}
    _time=$(echo "${_line#*"$(printf '\t')"}" | sed 's/^[A-Za-z]*, //')
    [ -n "$_snap" ] && bk_borg list --bypass-lock --format '{type}{TAB}{size}{TAB}{path}{NL}' \
      "::$_snap" 2>>"$_t/err" | head -n 20000 |
      awk -F '\t' '$1 == "-" && $2 > 0 && $2 <= 1048576 && $3 !~ /[*?[\\]/ { print "/" $3 }' |
      bk_shuffle >"$_t/cand"
  fi
  _epoch=$(date -d "$_time" +%s 2>/dev/null || echo 0)
  if [ -z "$_snap" ]; then
    _result=error; _detail="no backup to restore from: $(tail -n 1 "$_t/err")"
  elif ! _file=$(bk_pick "$_epoch" <"$_t/cand") || [ -z "$_file" ]; then
    _result=error; _detail="no small file of the backup exists on the host to compare with"
  else
    mkdir "$_t/r"
    if [ "$bk_tool" = restic ]; then
      bk_restic restore "$_snap" --target "$_t/r" --include "$_file" >"$_t/err" 2>&1
    else
      (cd "$_t/r" && bk_borg extract --bypass-lock "::$_snap" "${_file#/}") >"$_t/err" 2>&1
    fi
    _want=$(sha256sum <"$_file" | cut -c1-64)
    if [ -f "$_t/r$_file" ]; then
      _got=$(sha256sum <"$_t/r$_file" | cut -c1-64)
      if [ "$_got" = "$_want" ]; then _result=pass; else _result=fail; _detail="hashes differ"; fi
    else
      _result=fail; _detail="the file was not restored: $(tail -n 1 "$_t/err")"
    fi
    _mtime=$(stat -c %Y "$_file")
  fi
  rm -rf "$_t"
  _now=$(date +%s)
  _repo=$(printf %s "$BL_BK_REPO" | sha256sum | cut -c1-64)
  printf 'result=%s\ntool=%s\nsnapshot=%s\nfile=%s\nsource_sha256=%s\nrestored_sha256=%s\n' \
    "$_result" "$bk_tool" "$_snap" "$_file" "$_want" "$_got"
  printf 'source_mtime=%s\nbackup_time=%s\ntime=%s\ndetail=%s\n' "$_mtime" "$_epoch" "$_now" "$_detail"
  # The record, for checks without a restore test: only a test that was made (pass or fail),
  # so an attempt that could not run never hides the last real one. JSON without escaping:
  # candidates exclude " and \, and the detail is stripped of them.
  [ "$_result" = error ] && return 0
  mkdir -p "${BK_RECORD%/*}" && printf '{"time":%s,"tool":"%s","repository_sha256":"%s","snapshot":"%s","file":"%s","source_sha256":"%s","restored_sha256":"%s","source_mtime":"%s","backup_time":"%s","result":"%s","detail":"%s"}\n' \
    "$_now" "$bk_tool" "$_repo" "$_snap" "$_file" "$_want" "$_got" "$_mtime" "$_epoch" "$_result" \
    "$(printf %s "$_detail" | tr -d '"\\')" >"$BK_RECORD.tmp" && mv "$BK_RECORD.tmp" "$BK_RECORD"
}
bk_no_restore() {
  printf 'result=error\ntool=%s\ntime=%s\n' "$bk_tool" "$(date +%s)"
  echo "detail=Baluarte makes restore tests from restic and borg repositories only"
}
bk_tool=$(bk_detect)
field backup tool echo "$bk_tool"
field backup repository echo "${BL_BK_REPO-}"
field backup restore_record bk_record
[ -n "${BL_BK_REPO-}" ] && field backup repo_state bk_repo_state
case "$bk_tool" in
  restic | borg)
    if [ "$bk_tool" = restic ]; then
      field backup restic_snapshots bk_restic snapshots --json --latest 1
    else
      field backup borg_list bk_borg list --bypass-lock --json --last 1 --format '{hostname}{command_line}'
    fi
    [ "${BL_BK_RESTORE-}" = 1 ] && field backup restore bk_restore
    ;;
  veeam | systemd)
    [ "${BL_BK_RESTORE-}" = 1 ] && field backup restore bk_no_restore
    if [ "$bk_tool" = veeam ] && has veeamconfig; then
      field backup veeam_jobs veeamconfig job list
      field backup veeam_sessions bk_sessions
    fi
    ;;
esac
if [ -n "${BL_BK_UNIT-}" ]; then
  field backup systemd_service bk_service
  field backup systemd_timer bk_timer
  # when systemd started: a service's last run is forgotten across a restart (a reboot)
  field backup systemd_manager bk_sysctl -p UserspaceTimestamp
fi
unset BL_BK_PASSWORD BL_BK_URL_PASSWORD
