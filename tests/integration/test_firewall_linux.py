"""Firewall controls end to end through the CLI, rules loaded inside real lab hosts.

Every host keeps SSH open from the lab network (10.200.0.0/16, inside 10.0.0.0/8), or the
check could not reach it; rules live only in each host's own network namespace.
"""

from __future__ import annotations

from baluarte.lab.linux_hosts import LinuxHost
from tests.integration.cli import baluarte, findings, write_inputs

POLICY = """\
id: fw-test
version: "1"
title: Firewall (test)
applies_to: {platform: linux}
firewall:
  enabled: {required: true}
  default_inbound_deny: {required: true}
  allowed_inbound:
    services:
      - {name: ssh, port: 22, protocol: tcp, sources: [10.0.0.0/8]}
"""
CONTROLS = ("firewall.enabled", "firewall.default_inbound_deny", "firewall.allowed_inbound")
NFT = """flush ruleset
table inet filter {
  chain input {
    type filter hook input priority filter; policy drop;
    iif "lo" accept
    ct state established,related accept
    ct state invalid drop
    meta l4proto { icmp, ipv6-icmp } accept
%s
  }
}
"""
SSH_PRIVATE = "    tcp dport 22 ip saddr 10.0.0.0/8 accept"


def nft(host: LinuxHost, rules: str) -> None:
    host.run("nft -f -", input=NFT % rules)


def statuses(got: dict, host: str) -> tuple[str, ...]:
    return tuple(got[(host, c)]["status"] for c in CONTROLS)


def check(tmp_path, lab, hosts: list[LinuxHost]) -> dict:
    write_inputs(tmp_path, lab, hosts, policy=POLICY)
    result = baluarte(tmp_path, "check", "--format", "json")
    assert result.returncode in (0, 1, 3), result.stderr
    return findings(result)


def test_nftables_pass_and_fail_states(tmp_path, lab, make_host):
    ok, anyssh, mysql, bare = (make_host(n) for n in ("nft-ok", "nft-anyssh", "nft-mysql", "bare"))
    nft(ok, SSH_PRIVATE)
    nft(anyssh, "    tcp dport 22 accept")
    nft(mysql, SSH_PRIVATE + "\n    tcp dport 3306 accept")
    got = check(tmp_path, lab, [ok, anyssh, mysql, bare])

    assert statuses(got, "nft-ok") == ("pass", "pass", "pass")
    assert "tcp/22 from 10.0.0.0/8" in got[("nft-ok", "firewall.allowed_inbound")]["observed"]

    assert statuses(got, "nft-anyssh") == ("pass", "pass", "fail")
    observed = got[("nft-anyssh", "firewall.allowed_inbound")]["observed"]
    assert "tcp/22 open from 0.0.0.0/0, ::/0, outside 10.0.0.0/8" in observed
    assert "(nftables table inet filter chain input: tcp dport 22 accept)" in observed

    assert statuses(got, "nft-mysql") == ("pass", "pass", "fail")
    observed = got[("nft-mysql", "firewall.allowed_inbound")]["observed"]
    assert observed.startswith("1 inbound rule beyond the policy: tcp/3306 not in the policy")
    assert "tcp dport 3306 accept" in observed

    # no ruleset at all: a readable "no firewall", so fail, never error
    assert statuses(got, "bare") == ("fail", "fail", "fail")
    assert got[("bare", "firewall.enabled")]["observed"].startswith(
        "ipv4 not filtered: no inbound filtering chain loaded"
    )
    assert "all ports open" in got[("bare", "firewall.allowed_inbound")]["observed"]


def test_ufw_and_iptables_backends(tmp_path, lab, make_host):
    ufw_ok, ufw_http, legacy, v4only = (
        make_host(n) for n in ("ufw-ok", "ufw-http", "ipt-legacy", "ipt-v4only")
    )
    allow_ssh = "ufw default deny incoming && ufw allow from 10.0.0.0/8 to any port 22 proto tcp"
    ufw_ok.run(f"{allow_ssh} && ufw --force enable")
    ufw_http.run(f"{allow_ssh} && ufw allow 80/tcp && ufw --force enable")
    legacy.run(
        "iptables-legacy -A INPUT -i lo -j ACCEPT"
        " && iptables-legacy -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
        " && iptables-legacy -A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT"
        " && iptables-legacy -P INPUT DROP && ip6tables-legacy -P INPUT DROP"
    )
    v4only.run(
        "iptables-restore",
        input="*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
        "-A INPUT -i lo -j ACCEPT\n-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT\n"
        "COMMIT\n",
    )
    got = check(tmp_path, lab, [ufw_ok, ufw_http, legacy, v4only])

    assert statuses(got, "ufw-ok") == ("pass", "pass", "pass")
    assert "ufw" in got[("ufw-ok", "firewall.enabled")]["observed"]
    assert statuses(got, "ufw-http") == ("pass", "pass", "fail")
    observed = got[("ufw-http", "firewall.allowed_inbound")]["observed"]
    assert "tcp/80 not in the policy" in observed
    assert "-A ufw-user-input -p tcp -m tcp --dport 80 -j ACCEPT" in observed

    assert statuses(got, "ipt-legacy") == ("pass", "pass", "pass")
    observed = got[("ipt-legacy", "firewall.enabled")]["observed"]
    assert observed.startswith("ipv4 filtered: default deny (iptables-legacy filter chain INPUT")
    assert observed.endswith("[iptables-legacy]")

    # IPv4 filtered, IPv6 forgotten: nothing filters IPv6, so every control fails on it
    assert statuses(got, "ipt-v4only") == ("fail", "fail", "fail")
    observed = got[("ipt-v4only", "firewall.default_inbound_deny")]["observed"]
    assert "ipv4 drop" in observed and "ipv6 accept (no inbound filtering chain loaded)" in observed


def test_unprivileged_account_is_error_not_pass(tmp_path, lab, linux_host):
    nft(linux_host, SSH_PRIVATE)
    linux_host.run(
        # '*' rather than useradd's locked '!': sshd without PAM refuses locked accounts
        "useradd -m -s /bin/sh -p '*' auditor && mkdir -p /home/auditor/.ssh"
        " && cp /root/.ssh/authorized_keys /home/auditor/.ssh/"
        " && chown -R auditor: /home/auditor/.ssh"
    )
    write_inputs(tmp_path, lab, [linux_host], policy=POLICY)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(inventory.read_text().replace("user: root", "user: auditor"))
    result = baluarte(tmp_path, "check", "--format", "json")
    got = findings(result)
    for control in CONTROLS:
        finding = got[("testhost", control)]
        assert finding["status"] == "error", finding
        assert "needs root" in finding["reason"]
    assert result.returncode == 3, result.stderr


def test_accept_all_rule_means_everything_open(tmp_path, lab, make_host):
    hosts = {backend: make_host(f"accept-{backend}") for backend in ("legacy", "nft")}
    for backend, host in hosts.items():
        host.run(
            f"iptables-{backend} -P INPUT DROP && iptables-{backend} -A INPUT -j ACCEPT"
            f" && ip6tables-{backend} -P INPUT DROP"
        )
    got = check(tmp_path, lab, list(hosts.values()))
    for backend, host in hosts.items():
        # the DROP policy is never reached: nothing filters IPv4, so the firewall is not on
        assert statuses(got, host.name) == ("fail", "fail", "fail")
        observed = got[(host.name, "firewall.allowed_inbound")]["observed"]
        assert f"all ports open: all ports from any source (iptables-{backend} filter" in observed
        assert "-A INPUT -j ACCEPT" in observed
