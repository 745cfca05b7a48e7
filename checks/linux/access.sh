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
# sudoers as sudo reads it (sudoers.d skips names with a dot or ending in ~); comments dropped
# but "#1000" (a uid) and "#include" kept
ac_sudoers() {
  [ -e /etc/sudoers ] || { echo "@@no-sudoers"; return 0; }
  [ -r /etc/sudoers ] || { echo "cannot read /etc/sudoers"; return 1; }
  for f in /etc/sudoers /etc/sudoers.d/*; do
    case ${f#/etc/sudoers.d/} in *.*|*~) [ "$f" = /etc/sudoers ] || continue ;; esac
    [ -f "$f" ] && echo "== $f" && grep -vE '^[[:space:]]*(#([^0-9i]|$)|$)' "$f"
  done; true
}
# files with a "== path" header, comment and blank lines dropped
ac_cat() { for f in "$@"; do [ -f "$f" ] && echo "== $f" && grep -vE '^[[:space:]]*(#|$)' "$f"; done; true; }
# libpwquality reads pwquality.conf.d/*.conf first, then pwquality.conf (later wins)
ac_pwquality() { ac_cat /etc/security/pwquality.conf.d/*.conf /etc/security/pwquality.conf; }
ac_pam() {
  ac_cat /etc/pam.d/common-password /etc/pam.d/common-auth /etc/pam.d/system-auth \
    /etc/pam.d/password-auth
}
ac_logindefs() { grep -E '^[[:space:]]*PASS_(MAX_DAYS|MIN_LEN)[[:space:]]' /etc/login.defs; true; }
ac_listening() { LC_ALL=C ss -Hltunp; }
ac_pkgs='telnetd inetutils-telnetd telnetd-ssl telnet-server krb5-telnetd rsh-server
 rsh-redone-server inetutils-rshd rsh-redone-rshd rlogind krb5-rsh-server vsftpd proftpd
 proftpd-basic proftpd-core pure-ftpd pure-ftpd-mysql pure-ftpd-postgresql pure-ftpd-ldap
 inetutils-ftpd ftpd ftpd-ssl tftpd tftpd-hpa atftpd tftp-server'
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
field access passwd ac_passwd
field access groups ac_groups
field access sudoers ac_sudoers
field access pwquality ac_pwquality
field access pam ac_pam
field access faillock ac_cat /etc/security/faillock.conf
field access login_defs ac_logindefs
field access listening ac_listening
field access packages ac_packages
field access inetd ac_inetd
