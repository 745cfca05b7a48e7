# access: raw outputs only; checks/linux/access.py parses them (linux-checks.md §5).
ac_sshd_bin() { command -v sshd 2>/dev/null || { [ -x /usr/sbin/sshd ] && echo /usr/sbin/sshd; }; }
# Match lines of the sshd configuration, so parse() can tell which ones were entered.
ac_matches() {
  for f in /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf; do
    [ -r "$f" ] && grep -iE '^[[:space:]]*match[[:space:]]' "$f" | sed "s|^|$f: |"
  done; true
}
# One connection spec per Match line, built to enter it: its literal user (or a member of its
# group), address, host, local address and port; root from a documentation (internet) address
# otherwise. Negated and wildcard values cannot be entered on purpose and are left out.
ac_specs() {
  echo "user=root,host=baluarte-probe.invalid,addr=203.0.113.10,laddr=192.0.2.1,lport=22"
  ac_matches | sed 's/^[^:]*: //' | head -n 8 | while read -r _m rest; do
    u=root; a=203.0.113.10; h=baluarte-probe.invalid; la=192.0.2.1; lp=22
    set -f; set -- $rest; set +f
    while [ $# -ge 2 ]; do
      v=${2%%,*}
      case $v in *[!A-Za-z0-9._:/@-]*|'') shift 2; continue ;; esac
      case $(printf '%s' "$1" | tr 'A-Z' 'a-z') in
        user) u=$v ;;
        group) g=$(getent group "$v" | cut -d: -f4 | cut -d, -f1); [ -n "$g" ] && u=$g ;;
        address) a=${v%%/*}; case $a in *.0) a=${a%.0}.1 ;; esac ;;
        host) h=$v ;;
        localaddress) la=${v%%/*} ;;
        localport) lp=$v ;;
      esac
      shift 2
    done
    echo "user=$u,host=$h,addr=$a,laddr=$la,lport=$lp"
  done
}
# sshd -T per connection: "@@spec S", the settings the controls need (everything when sshd
# fails, for the reason), "@@rc N". sshd refuses to run without its privilege separation
# directory, which Debian only has while ssh.service runs: the probe creates it and removes it
# again if it made it.
ac_keys='^(passwordauthentication|kbdinteractiveauthentication|usepam|permitrootlogin|authenticationmethods) '
ac_sshd_t() {
  echo "@@spec $1"; shift
  _o=$(LC_ALL=C "$bin" -T "$@" 2>&1); _r=$?
  if [ "$_r" = 0 ]; then printf '%s\n' "$_o" | grep -E "$ac_keys"; else printf '%s\n' "$_o" | tail -n 3; fi
  echo "@@rc $_r"
  return "$_r"
}
ac_sshd() {
  bin=$(ac_sshd_bin)
  [ -n "$bin" ] || { echo "sshd not installed"; return 127; }
  made=
  [ -d /run/sshd ] || { mkdir -p /run/sshd 2>/dev/null && made=1; }
  # a configuration sshd rejects fails every spec alike: the first failure says it all
  if ac_sshd_t default; then
    for spec in $(ac_specs | sort -u); do ac_sshd_t "$spec" -C "$spec" || break; done
  fi
  [ -n "$made" ] && rmdir /run/sshd 2>/dev/null
  true
}
# Accounts from the name service; the password field is never printed.
ac_passwd() { getent passwd | cut -d: -f1,3,4; }
ac_groups() { getent group | cut -d: -f1,3,4; }
# sudo's own answer for every account: sudo resolves groups, aliases, includes, host matching
# and LDAP/SSSD rules itself (sudo -l is not logged). "@@user NAME" ... "@@rc N" per account.
ac_sudo() {
  has sudo || { echo "@@no-sudo"; return 0; }
  ac_sudo_out=$(getent passwd | cut -d: -f1 | while IFS= read -r u; do
    echo "@@user $u"; LC_ALL=C sudo -n -l -U "$u" 2>&1 </dev/null; echo "@@rc $?"
  done)
  printf '%s\n' "$ac_sudo_out"
}
# lstat of every absolute path a sudo rule names, and of all its parent directories, so parse()
# can tell who could replace a command; "@@target PATH REAL" for symbolic links (first 100 paths)
ac_sudo_paths() {
  [ -n "${ac_sudo_out:-}" ] || return 0
  set -f
  _ps=$(printf '%s\n' "$ac_sudo_out" | grep '^    (' | tr ',' '\n' |
    grep -oE '(^|[[:space:]])/[^[:space:]]+' | tr -d ' \t' | grep -v '[*?[]' | sort -u | head -n 100)
  [ -n "$_ps" ] || { set +f; return 0; }
  _all=$_ps
  for p in $_ps; do
    r=$(readlink -f -- "$p" 2>/dev/null) || continue
    [ -n "$r" ] && [ "$r" != "$p" ] && echo "@@target $p $r" && _all="$_all
$r"
  done
  for p in $_all; do while [ -n "$p" ]; do echo "$p"; p=${p%/*}; done; done | { cat; echo /; } |
    sort -u | tr '\n' '\0' | xargs -0 stat -c '%a %u %g %F|%n' 2>/dev/null
  set +f
  true
}
# the SSH servers running, so parse() can tell whether they use what sshd -T read: per listener
# (an sshd whose parent is no sshd: not a connection's) "@@pid PID UID EXE" and its command
# line (sshd rewrites it as its title)
ac_sshd_running() {
  for _d in /proc/[0-9]*; do
    { read -r _c <"$_d/comm"; } 2>/dev/null || continue
    [ "$_c" = sshd ] || continue
    bl_status "$_d/status"
    { read -r _pc <"/proc/$bl_ppid/comm"; } 2>/dev/null && [ "$_pc" = sshd ] && continue
    bl_clean "$(readlink "$_d/exe" 2>/dev/null)"
    printf '@@pid %s %s %s\n' "${_d#/proc/}" "$bl_uid" "$bl_clean"
    # each argument a line, indented: no argument can pass for a "@@" line
    tr '\000\n' '\n?' <"$_d/cmdline" 2>/dev/null | sed 's/^/ /'
  done
  true
}
# files with a "== path" header, comment and blank lines dropped
ac_cat() { for f in "$@"; do [ -f "$f" ] && echo "== $f" && grep -vE '^[[:space:]]*(#|$)' "$f"; done; true; }
# libpwquality reads pwquality.conf.d/*.conf first, then pwquality.conf (later wins)
ac_pwquality() { ac_cat /etc/security/pwquality.conf.d/*.conf /etc/security/pwquality.conf; }
# every PAM service file, as libpam looks them up: /etc/pam.d, then /usr/lib/pam.d
ac_pam() { ac_cat /etc/pam.d/* /usr/lib/pam.d/*; }
ac_logindefs() { grep -E '^[[:space:]]*PASS_(MAX_DAYS|MIN_LEN)[[:space:]]' /etc/login.defs; true; }
ac_listening() { LC_ALL=C ss -Hltunp; }
# insecure daemons, then SSH servers (whether one is there when no sshd binary is found)
ac_pkgs='telnetd inetutils-telnetd telnetd-ssl telnet-server krb5-telnetd rsh-server
 rsh-redone-server inetutils-rshd rsh-redone-rshd rlogind krb5-rsh-server vsftpd proftpd
 proftpd-basic proftpd-core pure-ftpd pure-ftpd-mysql pure-ftpd-postgresql pure-ftpd-ldap
 inetutils-ftpd ftpd ftpd-ssl tftpd tftpd-hpa atftpd tftp-server
 openssh-server dropbear dropbear-bin dropbear-run tinysshd lsh-server'
# installed daemon packages: "name<TAB>status" (dpkg) or "name<TAB>ii" (rpm)
ac_packages() {
  if has dpkg-query; then
    # shellcheck disable=SC2086
    dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\n' $ac_pkgs 2>/dev/null; echo "@@dpkg"
  elif has rpm; then
    # shellcheck disable=SC2086
    rpm -q --qf '%{NAME}\tii\n' $ac_pkgs 2>/dev/null | grep "$(printf '\t')"; echo "@@rpm"
  else
    echo "no package manager"; return 127
  fi
}
ac_inetd() { ac_cat /etc/inetd.conf /etc/xinetd.conf /etc/xinetd.d/*; }
field access sshd ac_sshd
field access matches ac_matches
field access sshd_running ac_sshd_running
field access passwd ac_passwd
field access groups ac_groups
field access sudo ac_sudo
field access sudo_paths ac_sudo_paths
field access pwquality ac_pwquality
field access pam ac_pam
field access faillock ac_cat /etc/security/faillock.conf
field access login_defs ac_logindefs
field access listening ac_listening
field access packages ac_packages
field access inetd ac_inetd
