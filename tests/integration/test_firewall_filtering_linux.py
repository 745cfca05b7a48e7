"""firewall.enabled means new inbound connections are filtered, proven by probing the host.

Each host loads one firewall shape in its own network namespace and listens on ports 8080 and
8081 (IPv4 and IPv6). The test connects from outside, from the machine's side of the host's
veth: a connection that succeeds on a port no rule allows proves nothing filters it; one that
times out was dropped. Loaded rules that filter nothing (an accept policy and a jump to a
chain that returns, fail2ban's shape; a drop behind an accept-all) must not pass.
"""

from __future__ import annotations

import socket
import time

from baluarte.lab.linux_hosts import LinuxHost
from tests.integration.cli import baluarte, findings, write_inputs
from tests.integration.test_firewall_linux import NFT, SSH_PRIVATE

POLICY = """\
id: fw-filtering
version: "1"
title: Firewall filtering (test)
applies_to: {platform: linux}
firewall:
  enabled: {required: true}
  default_inbound_deny: {required: true}
"""
OPEN, CLOSED = 8080, 8081
NFT_DENY = NFT % SSH_PRIVATE  # policy drop; SSH from the lab network
NFT_PORT_DROP = f"""flush ruleset
table inet filter {{
  chain input {{
    type filter hook input priority filter; policy accept;
    tcp dport {CLOSED} drop
  }}
}}
"""
# fail2ban's nftables action: its own table, an accept policy, rejects for banned sources only
NFT_F2B = """flush ruleset
table inet f2b-table {
  set addr-set-sshd { type ipv4_addr; elements = { 192.0.2.7 } }
  chain f2b-chain {
    type filter hook input priority filter - 1; policy accept;
    tcp dport 22 ip saddr @addr-set-sshd reject
  }
}
"""
IPT_F2B = (
    "iptables-nft -N f2b-sshd && iptables-nft -A f2b-sshd -s 192.0.2.7/32 -j REJECT"
    " && iptables-nft -A f2b-sshd -j RETURN"
    " && iptables-nft -A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd"
)
# a drop nothing reaches: the accept-all before it takes every packet
IPT_SHADOWED = (
    f"iptables-legacy -A INPUT -j ACCEPT && iptables-legacy -A INPUT -p tcp --dport {CLOSED}"
    " -j DROP && ip6tables-legacy -P INPUT DROP"
)
IPT_V4_ONLY = "iptables-nft -A INPUT -p tcp --dport 22 -j ACCEPT && iptables-nft -P INPUT DROP"
UFW_ALLOW = "ufw default allow incoming && ufw --force enable"
UFW_DENY_PORT = f"ufw default allow incoming && ufw deny {CLOSED}/tcp && ufw --force enable"


def listen(host: LinuxHost) -> None:
    """nc on both ports and both families; returns once each answers on loopback (so call it
    before loading rules: a default deny without a loopback accept would drop the check)."""
    for port in (OPEN, CLOSED):
        for flag in ("-4", "-6"):
            host.run(f"nc {flag} -lk -p {port} </dev/null >/dev/null 2>&1 &")
    host.run(
        "for i in $(seq 50); do"
        f" nc -w1 -z 127.0.0.1 {OPEN} && nc -w1 -z 127.0.0.1 {CLOSED} && nc -w1 -z ::1 {OPEN}"
        " && exit 0;"
        " sleep 0.1; done; exit 1"
    )


def reachable(address: str, port: int) -> bool:
    """A TCP handshake from the machine's namespace completes (drop: timeout)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    where = socket.getaddrinfo(address, port, family, socket.SOCK_STREAM)[0][4]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.5)
        try:
            sock.connect(where)
            return True
        except OSError:
            return False


def link_local(host: LinuxHost) -> str:
    """The host's IPv6 link-local address, scoped to our side of its veth, once usable."""
    for _ in range(50):
        out = host.run("ip -6 -o addr show dev eth0 scope link").stdout
        if out and "tentative" not in out:
            return out.split()[3].split("/")[0] + f"%{host.veth}"
        time.sleep(0.1)
    raise AssertionError(f"{host.name}: no usable IPv6 link-local address")


def check(tmp_path, lab, hosts: list[LinuxHost]) -> dict:
    write_inputs(tmp_path, lab, hosts, policy=POLICY)
    result = baluarte(tmp_path, "check", "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    return findings(result)


def enabled(got: dict, host: str) -> tuple[str, str]:
    finding = got[(host, "firewall.enabled")]
    return finding["status"], finding["observed"]


def test_rules_that_filter_nothing_fail_enabled_and_the_port_answers(tmp_path, lab, make_host):
    names = ("f2b-ipt", "f2b-nft", "shadowed", "ufw-allow", "v4-only")
    hosts = {n: make_host(n) for n in names}
    for host in hosts.values():
        listen(host)
    hosts["f2b-ipt"].run(IPT_F2B)
    hosts["f2b-nft"].run("nft -f -", input=NFT_F2B)
    hosts["shadowed"].run(IPT_SHADOWED)
    hosts["ufw-allow"].run(UFW_ALLOW)
    hosts["v4-only"].run(IPT_V4_ONLY)
    got = check(tmp_path, lab, list(hosts.values()))

    # ground truth: a port no rule allows answers from outside, so nothing filters it
    for name in ("f2b-ipt", "f2b-nft", "shadowed", "ufw-allow"):
        assert reachable(hosts[name].address, OPEN), name
    assert reachable(hosts["shadowed"].address, CLOSED)  # its DROP rule is never reached
    v6 = link_local(hosts["v4-only"])
    assert not reachable(hosts["v4-only"].address, OPEN) and reachable(v6, OPEN)

    for name in names:
        assert enabled(got, name)[0] == "fail", (name, got[(name, "firewall.enabled")])
    observed = enabled(got, "f2b-ipt")[1]
    assert "ipv4 not filtered: iptables-nft filter chain INPUT: :INPUT ACCEPT" in observed
    assert "-A f2b-sshd -s 192.0.2.7/32 -j REJECT" in observed
    assert "(some sources only)" in observed
    observed = enabled(got, "f2b-nft")[1]
    assert "ipv4 not filtered: nftables table inet f2b-table chain f2b-chain: policy accept" in (
        observed
    )
    assert "tcp dport 22 ip saddr @addr-set-sshd reject with icmp port-unreachable (some" in (
        observed
    )
    observed = enabled(got, "shadowed")[1]
    assert "ipv4 not filtered: iptables-legacy filter chain INPUT: -A INPUT -j ACCEPT" in observed
    assert "ipv6 filtered: default deny" in observed
    observed = enabled(got, "v4-only")[1]
    assert "ipv4 filtered: default deny (iptables-nft filter chain INPUT: :INPUT DROP)" in observed
    assert "ipv6 not filtered: no inbound filtering chain loaded" in observed


def test_default_deny_or_port_drops_pass_and_the_port_is_closed(tmp_path, lab, make_host):
    hosts = {n: make_host(n) for n in ("deny", "port-drop", "ufw-deny")}
    for host in hosts.values():
        listen(host)
    hosts["deny"].run("nft -f -", input=NFT_DENY)
    hosts["port-drop"].run("nft -f -", input=NFT_PORT_DROP)
    hosts["ufw-deny"].run(UFW_DENY_PORT)
    got = check(tmp_path, lab, list(hosts.values()))

    deny = hosts["deny"]
    assert not reachable(deny.address, OPEN) and not reachable(link_local(deny), OPEN)
    status, observed = enabled(got, "deny")
    assert status == "pass"
    assert observed.startswith(
        "ipv4 filtered: default deny (nftables table inet filter chain input: policy drop); "
        "ipv6 filtered: default deny"
    )
    assert got[("deny", "firewall.default_inbound_deny")]["status"] == "pass"

    # a port drop from any source filters inbound traffic, though the default still accepts
    for name, rule in (
        ("port-drop", f"tcp dport {CLOSED} drop"),
        ("ufw-deny", f"-A ufw-user-input -p tcp -m tcp --dport {CLOSED} -j DROP"),
    ):
        host = hosts[name]
        assert not reachable(host.address, CLOSED) and reachable(host.address, OPEN), name
        assert not reachable(link_local(host), CLOSED), name
        status, observed = enabled(got, name)
        assert status == "pass", (name, observed)
        assert "ipv4 filtered by rules dropping new connections from any source" in observed
        assert rule in observed
        assert got[(name, "firewall.default_inbound_deny")]["status"] == "fail"
