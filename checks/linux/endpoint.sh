# endpoint: raw outputs only; checks/linux/endpoint.py parses them (linux-checks.md §3).
# Products: ClamAV, Defender for Endpoint (mdatp), Sophos Protection for Linux, CrowdStrike Falcon.
ep_packages() {
  if has dpkg-query; then
    dpkg-query -W -f='${Package}\t${Version}\t${db:Status-Abbrev}\n' clamav clamav-daemon \
      clamav-freshclam mdatp falcon-sensor 2>/dev/null
  elif has rpm; then
    rpm -q --qf '%{NAME}\t%{VERSION}-%{RELEASE}\tii \n' clamav clamd clamav-update mdatp \
      falcon-sensor 2>/dev/null | grep "$(printf '\t')"
  fi
  true
}
# binaries and install directories, for products installed without a package (Sophos, tarballs)
ep_paths() {
  for _p in clamd clamscan clamonacc freshclam mdatp; do command -v "$_p"; done
  for _p in /opt/microsoft/mdatp /opt/sophos-spl /opt/sophos-spl/bin/wdctl \
    /opt/CrowdStrike/falconctl /opt/CrowdStrike/falcond; do [ -e "$_p" ] && echo "$_p"; done
  true
}
# enabled at boot, read without systemd: unit symlinks in *.wants and SysV start links
ep_links() {
  for _f in /etc/systemd/system/*.wants/* /etc/rc[2345].d/S*; do
    case ${_f##*/} in *clam*|mdatp*|sophos*|falcon*) echo "$_f" ;; esac
  done
  for _d in /etc/systemd/system /etc/rc2.d; do [ -d "$_d" ] && echo "dir $_d"; done
  # a unit masked by the administrator is a link to /dev/null
  for _u in clamav-daemon.service clamav-daemon.socket clamav-clamonacc.service mdatp.service \
    sophos-spl.service falcon-sensor.service; do
    [ -L "/etc/systemd/system/$_u" ] && [ "$(readlink "/etc/systemd/system/$_u")" = /dev/null ] &&
      echo "masked /etc/systemd/system/$_u"
  done
  true
}
# with systemd as PID 1 its own view is authoritative; the units' main processes are then
# judged with the engines' processes (bl_daemons), so a unit running another program is seen
ep_systemd() {
  _o=$(LC_ALL=C systemctl show -p Id -p ActiveState -p UnitFileState -p MainPID -p User \
    clamav-daemon.service clamav-daemon.socket clamd@scan.service clamav-clamonacc.service \
    clamav-freshclam.service mdatp.service sophos-spl.service falcon-sensor.service)
  _r=$?
  printf '%s\n' "$_o"
  EP_MAIN=$(printf '%s\n' "$_o" | sed -n 's/^MainPID=\([1-9][0-9]*\)$/\1/p' | tr '\n' ' ')
  return "$_r"
}
ep_clamconf_path() {
  for _f in /etc/clamav/clamd.conf /etc/clamd.d/scan.conf /etc/clamd.conf /usr/local/etc/clamd.conf; do
    if [ -r "$_f" ]; then echo "$_f"; return 0; fi
  done
  return 1
}
# only the settings the checks read (the database directory, on-access, the socket, the user)
ep_clamconf() {
  _c=$(ep_clamconf_path) || { echo "absent"; return 1; }
  echo "# $_c"
  grep -E '^[[:space:]]*(DatabaseDirectory|OnAccess[A-Za-z]*|ScanOnAccess|LocalSocket|TCPSocket|User)([[:space:]]|$)' "$_c"
  true
}
# the 512-byte header of each .cvd/.cld: ClamAV-VDB:<date>:<version>:<sigs>:<level>:<md5>:<dsig>:<builder>:<epoch>
ep_clamdb() {
  _d=/var/lib/clamav; _x=
  _c=$(ep_clamconf_path) && _x=$(awk '$1 == "DatabaseDirectory" { d = $2 } END { print d }' "$_c")
  [ -n "$_x" ] && _d=$_x
  echo "dir $_d"
  [ -d "$_d" ] || return 1
  for _f in "$_d"/*.cvd "$_d"/*.cld; do
    [ -f "$_f" ] || continue
    printf 'header %s ' "${_f##*/}"; dd if="$_f" bs=512 count=1 2>/dev/null | tr -d '\000\n'; echo
  done
  for _f in "$_d"/*; do [ -f "$_f" ] && echo "file ${_f##*/}"; done
  true
}
ep_mdatp() { LC_ALL=C mdatp health --output json; }
ep_sophos() {
  _s=/opt/sophos-spl
  for _f in base/VERSION.ini base/mcs/status/SHS_status.xml base/mcs/status/ALC_status.xml; do
    echo "=== $_f"; cat "$_s/$_f" 2>&1; echo
  done
  true
}
ep_falcon() { /opt/CrowdStrike/falconctl -g "$1"; }
# disk: what "/" is mounted from, the block devices under it, and dm-crypt targets
ep_rootmount() {
  awk '$5 == "/" { for (i = 7; i <= NF; i++) if ($i == "-") { r = $3 " " $(i + 1) " " $(i + 2) } }
       END { print r }' /proc/self/mountinfo
}
# from the root's block device down through its slaves (LVM, dm-crypt, md): name and dm uuid
ep_rootchain() {
  _m=$(awk '$5 == "/" { m = $3 } END { print m }' /proc/self/mountinfo)
  _q="/sys/dev/block/$_m"; _n=0
  [ -e "$_q" ] || { echo "no block device $_m"; return 1; }
  while [ -n "$_q" ] && [ "$_n" -lt 16 ]; do
    set -- $_q; _p=$1; shift; _q=$*; _n=$((_n + 1))
    _p=$(cd -P "$_p" 2>/dev/null && pwd) || continue
    _u=; [ -r "$_p/dm/uuid" ] && read -r _u < "$_p/dm/uuid"
    _a=; [ -r "$_p/dm/name" ] && read -r _a < "$_p/dm/name"
    echo "dev ${_p##*/} uuid=$_u name=$_a"
    for _s in "$_p"/slaves/*; do [ -e "$_s" ] && _q="$_q $_s"; done
  done
  true
}
# the key field of a crypt table line is never printed: name, cipher and backing device only
ep_dmcrypt() {
  _t=$(dmsetup table --target crypt 2>&1); _r=$?
  if [ "$_r" -ne 0 ]; then printf '%s\n' "$_t"; return "$_r"; fi
  printf '%s\n' "$_t" | awk '$4 == "crypt" { print $1, $5, $8 }'
}
field endpoint packages ep_packages
field endpoint paths ep_paths
field endpoint links ep_links
EP_MAIN=
[ -d /run/systemd/system ] && field endpoint systemd ep_systemd
# the engines' processes, and who really runs them (names alone prove nothing); the packages
# are those the parsers' Daemon specifications name (others are still found, more slowly)
field endpoint procs bl_daemons "$EP_MAIN" "clamav-daemon clamd clamav mdatp falcon-sensor" \
  clamd clamonacc wdavdaemon sophos_watchdog soapd falcon-sensor falcond
if has clamd || has clamscan; then
  field endpoint clamconf ep_clamconf
  field endpoint clamdb ep_clamdb
fi
has mdatp && field endpoint mdatp ep_mdatp
[ -d /opt/sophos-spl ] && field endpoint sophos ep_sophos
if [ -x /opt/CrowdStrike/falconctl ]; then
  field endpoint falcon_rfm ep_falcon --rfm-state
  field endpoint falcon_aid ep_falcon --aid
  field endpoint falcon_version ep_falcon --version
fi
field endpoint root_mount ep_rootmount
field endpoint root_chain ep_rootchain
has lsblk && field endpoint lsblk lsblk -J -o NAME,KNAME,TYPE,FSTYPE,MOUNTPOINT
has dmsetup && field endpoint dmcrypt ep_dmcrypt
true
