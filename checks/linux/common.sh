# Helpers shared by every fragment. POSIX sh only: the target may have no bash and no python.
# field DOMAIN NAME CMD...: frame CMD's output (stdout and stderr) and exit status; the one awk
# at the end of the script turns every frame into JSON, so no field costs a process of its own.
field() {
  _d=$1; _n=$2; shift 2
  printf '\036F %s %s\n' "$_d" "$_n"
  "$@" 2>&1
  printf '\n\036R %d\n' "$?"
}
has() { command -v "$1" >/dev/null 2>&1; }
# sshd, nft, iptables… live in sbin, which an unprivileged login's PATH lacks on Debian: without
# it a missing tool and a tool we may not see look the same.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin ;; esac
# frames -> {"schema":N,"<domain>":{"<name>":{"out":"…","rc":N},…},…}
BL_ENCODE='
function emit(s,   k, i, parts, t) {
  # backslashes by split and join: mawk and gawk disagree on "\\\\" in gsub replacements
  k = split(s, parts, /\\/); t = parts[1]
  for (i = 2; i <= k; i++) t = t "\\\\" parts[i]
  s = t; gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); gsub(/\r/, "\\r", s)
  if (n++) printf "\\n"
  printf "%s", s
}
BEGIN { ORS = ""; printf "{\"schema\":%d", schema; dom = "" }
/^\036F / {
  if ($2 != dom) { if (dom != "") printf "}"; printf ",\"%s\":{", $2; dom = $2; sep = "" }
  printf "%s\"%s\":{\"out\":\"", sep, $3; sep = ","; n = 0; held = 0; next
}
/^\036R / { if (held && pend != "") emit(pend); printf "\",\"rc\":%d}", $2; held = 0; next }
{ if (held) emit(pend); pend = $0; held = 1 }
END { if (dom != "") printf "}"; printf "}\n" }
'
