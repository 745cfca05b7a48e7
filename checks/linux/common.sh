# Helpers shared by every fragment. POSIX sh only: the target may have no bash and no python.
# field DOMAIN NAME CMD...: frame CMD's output (stdout and stderr) and exit status; the one awk
# at the end of the script turns every frame into JSON, so no field costs a process of its own.
# Frame lines carry a random tag of this run (BL_TAG, a shell variable no other user can read):
# output that starts a line like a frame (a name, a file) cannot open or close a field.
BL_TAG=$(od -An -N8 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n')
field() {
  _d=$1; _n=$2; shift 2
  printf '\036F%s %s %s\n' "$BL_TAG" "$_d" "$_n"
  "$@" 2>&1
  printf '\n\036R%s %d\n' "$BL_TAG" "$?"
}
has() { command -v "$1" >/dev/null 2>&1; }
bl_nl='
' bl_tab=$(printf '\t')
# bl_clean TEXT: TEXT with tabs and newlines as "?", so it cannot forge a line or a field; sets
# bl_clean to it (no subshell unless there is something to replace)
bl_clean() { case $1 in *"$bl_nl"* | *"$bl_tab"*) bl_clean=$(printf '%s' "$1" | tr '\t\n' '??') ;; *) bl_clean=$1 ;; esac; }
# bl_status FILE: Uid (effective) and PPid of a /proc/PID/status, builtins only
bl_status() {
  bl_uid= bl_ppid=
  { while read -r _bk _bv _be _bs; do
    case $_bk in Uid:) bl_uid=$_be ;; PPid:) bl_ppid=$_bv ;; esac
  done <"$1"; } 2>/dev/null
}
# bl_user UID: the local account's name (daemons' accounts are local), else the UID
bl_user() {
  bl_user=$1
  { while IFS=: read -r _bn _bx _bi _br; do
    [ "$_bi" = "$1" ] && bl_user=$_bn && break
  done </etc/passwd; } 2>/dev/null
}
# bl_daemons "PIDS" "PACKAGES" NAME...: who really runs each process named NAME (its comm) or
# numbered in PIDS, so checks/linux/daemons.py can tell a packaged daemon from an impostor: one
# line a process, "pid= comm= uid= user= image= file= dir= exe="
# (tab-separated; image, file, dir: "%F|dev:inode uid mode" of the running program, of the file
# now at its path and of that directory), then "@@owners dpkg|rpm|none" and "PACKAGE: PATH"
# lines. PACKAGES' own file lists are read first (cheap); only a program none of them ships is
# looked up in the whole database (dpkg -S, rpm -qf), to say whose it is.
# Exit 1 when process 1 is not visible (hidepid, no /proc): the table would be partial.
bl_daemons() {
  _want=" $1 " _pkgs=$2 _exes= _all=
  shift 2
  [ -r /proc/1/status ] || return 1
  for _d in /proc/[0-9]*; do
    { read -r _c <"$_d/comm"; } 2>/dev/null || continue
    _hit=
    for _w in "$@"; do [ "$_c" = "$_w" ] && _hit=1 && break; done
    case $_want in *" ${_d#/proc/} "*) _hit=1 ;; esac
    [ -n "$_hit" ] || continue
    bl_status "$_d/status"; bl_user "$bl_uid"
    _e=$(readlink "$_d/exe" 2>/dev/null); _p=${_e% (deleted)}
    _i=- _f=- _r=-
    case $_p in
      '' | *"$bl_nl"* | *"$bl_tab"*) ;;
      *)
        _s=$(stat -L -c '%F|%d:%i %u %a|%n' "$_d/exe" "$_p" "${_p%/*}" 2>/dev/null)
        while IFS= read -r _l; do
          case $_l in
            *"|$_d/exe") _i=${_l%|*} ;;
            "directory|"*"|${_p%/*}") _r=${_l%|*} ;;
            *"|$_p") _f=${_l%|*} ;;
          esac
        done <<EOF
$_s
EOF
        # with /usr merged, a package may list /bin/x for what the kernel shows as /usr/bin/x
        case $_p in *[][*?\\]*) ;; *)
          _t=${_p#/usr/}; _a=
          case $_p in /usr/*/*) [ -L "/${_t%%/*}" ] && _a=/$_t ;; esac
          case "$_exes$bl_nl" in *"$bl_nl$_p$bl_tab"*) ;; *)
            _exes="$_exes$bl_nl$_p$bl_tab$_a" _all="$_all$bl_nl$_p${_a:+$bl_nl$_a}" ;;
          esac ;;
        esac ;;
    esac
    bl_clean "$_c"; _c=$bl_clean; bl_clean "$_e"
    printf 'pid=%s\tcomm=%s\tuid=%s\tuser=%s\timage=%s\tfile=%s\tdir=%s\texe=%s\n' \
      "${_d#/proc/}" "$_c" "$bl_uid" "$bl_user" "$_i" "$_f" "$_r" "$bl_clean"
  done
  _db=none
  if has dpkg-query; then _db=dpkg; elif has rpm; then _db=rpm; fi
  echo "@@owners $_db"
  [ -n "$_exes" ] || return 0
  _hits=
  # shellcheck disable=SC2086
  case $_db in
    dpkg)
      _lists=
      for _k in $_pkgs; do
        for _f in "/var/lib/dpkg/info/$_k.list" "/var/lib/dpkg/info/$_k":*.list; do
          [ -f "$_f" ] && _lists="$_lists $_f"
        done
      done
      # "/var/lib/dpkg/info/PACKAGE[:ARCH].list:PATH" lines
      [ -n "$_lists" ] && _hits=$(grep -HxF -f - $_lists <<EOF
${_all#"$bl_nl"}
EOF
)
      ;;
    rpm)
      [ -n "$_pkgs" ] && _hits=$(rpm -q --qf '[%{NAME}: %{FILENAMES}\n]' $_pkgs 2>/dev/null |
        BL_ALL=$_all awk 'BEGIN { n = split(ENVIRON["BL_ALL"], a, "\n"); for (i = 1; i <= n; i++) w[a[i]] = 1 }
          { p = index($0, ": "); if (p && (substr($0, p + 2) in w)) print }')
      ;;
  esac
  [ -n "$_hits" ] && printf '%s\n' "$_hits"
  # a program none of the PACKAGES ships: whose is it? (impostors, unusual installs only)
  _miss=
  while IFS="$bl_tab" read -r _p _a; do
    [ -n "$_p" ] || continue
    case "$bl_nl$_hits$bl_nl" in *[:\ ]"$_p$bl_nl"* | *[:\ ]"${_a:-/}$bl_nl"*) ;; *) _miss="$_miss$bl_nl$_p${_a:+$bl_nl$_a}" ;; esac
  done <<EOF
$_exes
EOF
  [ -n "$_miss" ] || return 0
  case $_db in
    dpkg) printf '%s\n' "$_miss" | grep . | tr '\n' '\0' | xargs -0 dpkg-query -S 2>/dev/null ;;
    rpm)
      printf '%s\n' "$_miss" | grep . | while IFS= read -r _p; do
        _o=$(rpm -qf --qf '%{NAME}\n' "$_p" 2>/dev/null) && printf '%s: %s\n' "$(printf '%s\n' "$_o" | paste -sd, -)" "$_p"
      done
      ;;
  esac
  true
}
# sshd, nft, iptables… live in sbin, which an unprivileged login's PATH lacks on Debian: without
# it a missing tool and a tool we may not see look the same.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin ;; esac
# frames -> {"schema":N,"<domain>":{"<name>":{"out":"…","rc":N},…},…}; a field whose output
# had bytes that are not UTF-8 gets "replaced":COUNT, each such byte being U+FFFD in "out": one
# stray byte (a Latin-1 comment, a file name) must not cost the whole document. The awk runs
# with LC_ALL=C, so it sees bytes whatever the host's locale.
BL_ENCODE='
function utf8(s,   out) {
  out = ""
  while (match(s, /[\200-\377]/)) {
    out = out substr(s, 1, RSTART - 1); s = substr(s, RSTART)
    if (match(s, /^([\302-\337][\200-\277]|\340[\240-\277][\200-\277]|[\341-\354\356\357][\200-\277][\200-\277]|\355[\200-\237][\200-\277]|\360[\220-\277][\200-\277][\200-\277]|[\361-\363][\200-\277][\200-\277][\200-\277]|\364[\200-\217][\200-\277][\200-\277])+/)) {
      out = out substr(s, 1, RLENGTH); s = substr(s, RLENGTH + 1)
    } else { out = out "\357\277\275"; s = substr(s, 2); bad++ }
  }
  return out s
}
function emit(s,   k, i, parts, t) {
  # backslashes by split and join: mawk and gawk disagree on "\\\\" in gsub replacements
  k = split(s, parts, /\\/); t = parts[1]
  for (i = 2; i <= k; i++) t = t "\\\\" parts[i]
  s = t; gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); gsub(/\r/, "\\r", s)
  gsub(/\036/, "\\u001e", s)  # a frame marker inside the output of a command
  if (s ~ /[\200-\377]/) s = utf8(s)
  if (n++) printf "\\n"
  printf "%s", s
}
BEGIN {
  ORS = ""; printf "{\"schema\":%d", schema; dom = ""
  F = "\036F" ENVIRON["BL_TAG"]; R = "\036R" ENVIRON["BL_TAG"]
}
substr($0, 1, 1) == "\036" && $1 == F {
  if ($2 != dom) { if (dom != "") printf "}"; printf ",\"%s\":{", $2; dom = $2; sep = "" }
  printf "%s\"%s\":{\"out\":\"", sep, $3; sep = ","; n = 0; bad = 0; held = 0; next
}
substr($0, 1, 1) == "\036" && $1 == R {
  if (held && pend != "") emit(pend)
  printf "\",\"rc\":%d%s}", $2, bad ? ",\"replaced\":" bad : ""; held = 0; next
}
{ if (held) emit(pend); pend = $0; held = 1 }
END { if (dom != "") printf "}"; printf "}\n" }
'
