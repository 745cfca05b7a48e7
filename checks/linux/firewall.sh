# firewall: raw outputs only; checks/linux/firewall.py parses them (linux-checks.md §2).
# Reading nft and iptables needs root. Each backend is read directly (iptables-nft-save and
# iptables-legacy-save, not the alternatives link): both can hold rules at the same time.
fw_tools() {
  for t in nft iptables-nft-save ip6tables-nft-save iptables-legacy-save ip6tables-legacy-save \
    iptables-save ip6tables-save ufw firewall-cmd; do has "$t" && echo "$t"; done; true
}
# IPv6 off (or no IPv6 at all): its rules cannot expose anything
fw_ipv6() { cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null || echo absent; }
fw_print() { printf '%s\n' "$1"; return "$2"; }
fw_ufwconf() {
  grep -h -E '^[[:space:]]*(ENABLED|DEFAULT_INPUT_POLICY)=' /etc/ufw/ufw.conf /etc/default/ufw 2>/dev/null
  true
}
# service definitions of the zones firewalld lists: their ports are not in --list-all-zones
fw_fwdservices() {
  for s in $(printf '%s\n' "$FW_ZONES" | awk '$1 == "services:" { for (i = 2; i <= NF; i++) print $i }' | sort -u); do
    echo "== $s"
    for d in /etc/firewalld/services /usr/lib/firewalld/services; do
      if [ -r "$d/$s.xml" ]; then grep -E '<port ' "$d/$s.xml"; break; fi
    done
  done
}
field firewall tools fw_tools
field firewall ipv6_disabled fw_ipv6
if has nft; then
  field firewall nft_json nft -j list ruleset
  field firewall nft_text nft -a list ruleset
fi
FW_UFW=
for fw_t in iptables-nft ip6tables-nft iptables-legacy ip6tables-legacy; do
  if has "$fw_t-save"; then
    FW_OUT=$("$fw_t-save" 2>&1); FW_RC=$?
    field firewall "$fw_t" fw_print "$FW_OUT" "$FW_RC"
    case "$FW_OUT" in *":ufw-user-input "* | *":ufw6-user-input "*) FW_UFW=1 ;; esac
  fi
done
# old iptables without the -nft/-legacy names: one backend, named in its header
if ! has iptables-nft-save && ! has iptables-legacy-save; then
  has iptables-save && field firewall iptables iptables-save
  has ip6tables-save && field firewall ip6tables ip6tables-save
fi
if has ufw; then
  field firewall ufw_conf fw_ufwconf
  # ufw is a Python program (~0.2 s): ask it only when its chains are loaded
  [ -n "$FW_UFW" ] && field firewall ufw_status env LC_ALL=C ufw status verbose
fi
if has firewall-cmd; then
  FW_ZONES=$(LC_ALL=C firewall-cmd --list-all-zones 2>&1); FW_RC=$?
  field firewall firewalld_zones fw_print "$FW_ZONES" "$FW_RC"
  [ "$FW_RC" -eq 0 ] && field firewall firewalld_services fw_fwdservices
fi
