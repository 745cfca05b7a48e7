# Helpers shared by every fragment. POSIX sh only: the target may have no bash and no python.
# jstr: stdin -> one JSON string (control characters other than tab/newline dropped).
jstr() {
  tr -d '\000-\010\013\014\016-\037' | awk 'BEGIN { ORS = ""; printf "\"" }
    { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, "\\r");
      if (NR > 1) printf "\\n"; printf "%s", $0 }
    END { printf "\"" }'
}
# field NAME CMD...: print "NAME":{"out":"…","rc":N}, capturing stdout+stderr and the exit status.
field() {
  _n=$1; shift
  _o=$("$@" 2>&1); _rc=$?
  printf '"%s":{"rc":%d,"out":' "$_n" "$_rc"
  printf '%s' "$_o" | jstr
  printf '}'
}
has() { command -v "$1" >/dev/null 2>&1; }
