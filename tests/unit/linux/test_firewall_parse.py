"""parse() of the firewall fragment's output, from documents recorded on Debian 12 lab hosts.

Each ``tests/samples/linux/firewall/<case>.json`` is the whole document the bundled script
printed for ``host`` + ``firewall`` in that state (recorded with real nft, iptables-nft,
iptables-legacy and ufw inside a lab host). The ``firewalld_*`` samples are reconstructed from
firewalld 1.3's output format: firewalld is not installed in the lab image.
"""

import json
from pathlib import Path

import pytest

from checks.facts.firewall import FirewallFacts, InboundFiltering
from checks.linux import firewall_iptables
from checks.linux.firewall import parse
from checks.linux.firewall_netfilter import family_view

SAMPLES = Path(__file__).parents[2] / "samples" / "linux" / "firewall"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def parsed(name: str) -> FirewallFacts:
    doc = sample(name)
    return parse(doc["firewall"], doc["host"])


def opened(facts: FirewallFacts) -> set[str]:
    """Open rules as 'proto/ports from sources [families]', the shape an admin reads."""
    out = set()
    for r in facts.open_inbound or ():
        ports = ",".join(str(p) for p in r.ports) if r.ports is not None else "*"
        sources = ",".join(r.sources) if r.sources is not None else "any"
        out.add(f"{r.protocol or '*'}/{ports} from {sources} [{' '.join(r.families)}]")
    return out


def test_no_ruleset_means_inactive_and_everything_open():
    facts = parsed("no_rules")
    assert facts.active is False and facts.problems == ()
    assert facts.default_inbound == "accept"
    assert opened(facts) == {"*/* from any [ipv4 ipv6]"}
    assert "nft" in facts.tools_installed and "ufw" in facts.tools_installed


def test_nftables_drop_policy_ssh_from_private_network():
    facts = parsed("nft_ssh_private")
    assert facts.active is True and facts.tools_active == ("nftables",)
    assert [(d.family, d.action) for d in facts.defaults or ()] == [
        ("ipv4", "drop"),
        ("ipv6", "drop"),
    ]
    # loopback, established/related and ICMP accepts are not services
    assert opened(facts) == {"tcp/22 from 10.0.0.0/8 [ipv4]"}
    (rule,) = facts.open_inbound or ()
    assert rule.rule == "tcp dport 22 ip saddr 10.0.0.0/8 accept"
    assert rule.where == "nftables table inet filter chain input"


def test_nftables_sets_jumps_interfaces_and_final_reject():
    facts = parsed("nft_complex")
    # policy accept, but the last rule rejects everything else
    assert facts.default_inbound == "reject"
    assert opened(facts) == {
        "tcp/22 from 10.0.0.0/8 [ipv4]",
        "tcp/80,443,8000-8100 from any [ipv4 ipv6]",
        "tcp/9100 from 10.0.0.0/8,192.168.1.0/24 [ipv4]",  # a named set
        "tcp/3306 from any [ipv4 ipv6]",
        "tcp/25 from any [ipv4]",  # jump to a chain accepting all but one source
        "udp/161 from fd00::/8 [ipv6]",
    }
    mysql = next(r for r in facts.open_inbound or () if r.ports and r.ports[0].first == 3306)
    assert mysql.interface == "eth0"
    smtp = next(r for r in facts.open_inbound or () if r.ports and r.ports[0].first == 25)
    assert smtp.rule == "tcp dport 25 jump smtp → ip saddr != 10.1.2.3 accept"


def test_empty_accept_chain_is_not_a_firewall():
    facts = parsed("nft_accept_policy_empty")
    assert facts.active is False
    assert facts.default_inbound == "accept"
    assert opened(facts) == {"*/* from any [ipv4 ipv6]"}


def test_ufw_rules_read_from_iptables_nft_without_ufw_builtins():
    facts = parsed("ufw_ssh_private")
    assert facts.active is True and "ufw" in (facts.tools_active or ())
    assert facts.configured_enabled == ("ufw",)
    assert facts.default_inbound == "drop"
    # mDNS, SSDP, DHCP client replies and ICMP from ufw's before.rules are left out
    assert opened(facts) == {"tcp/22 from 10.0.0.0/8 [ipv4]"}
    assert "Status: active" in facts.summary


def test_ufw_allow_and_limit_rules_both_families():
    facts = parsed("ufw_http_anywhere")
    assert opened(facts) == {
        "tcp/22 from 10.0.0.0/8 [ipv4]",
        "tcp/80 from any [ipv4]",
        "tcp/80 from any [ipv6]",
        "tcp/2222 from any [ipv4]",
        "tcp/2222 from any [ipv6]",
    }
    limit = [r.rule for r in facts.open_inbound or () if r.ports and r.ports[0].first == 2222]
    assert "-A ufw-user-input -p tcp -m tcp --dport 2222 -j ufw-user-limit-accept" in limit[0]


def test_iptables_nft_without_ip6tables_leaves_ipv6_open():
    facts = parsed("iptables_nft_v4_only")
    assert {(d.family, d.action) for d in facts.defaults or ()} == {
        ("ipv4", "drop"),
        ("ipv6", "accept"),
    }
    assert opened(facts) == {
        "tcp/80,443,1000-2000 from any [ipv4]",
        "tcp/22 from 10.0.0.0/8 [ipv4]",
        "*/* from any [ipv6]",
    }


def test_legacy_accept_all_rule_opens_everything_despite_drop_policy():
    facts = parsed("iptables_legacy_accept_all")
    assert facts.tools_active == ("iptables-legacy",)
    v4 = next(d for d in facts.defaults or () if d.family == "ipv4")
    assert v4.action == "accept" and v4.source.endswith("-A INPUT -j ACCEPT")
    assert "*/* from any [ipv4]" in opened(facts)


def filtering(facts: FirewallFacts) -> dict[str, str | None]:
    return {f.family: f.by for f in facts.filtering or ()}


def test_fail2ban_chain_alone_filters_nothing():
    # policy ACCEPT, a jump to a chain that rejects one banned source and returns
    facts = parsed("iptables_nft_fail2ban_only")
    assert facts.active is False
    assert filtering(facts) == {"ipv4": None, "ipv6": None}
    v4 = (facts.filtering or ())[0]
    assert v4.source == "iptables-nft filter chain INPUT: :INPUT ACCEPT"
    (ban,) = v4.not_counted
    assert "-A f2b-sshd -s 192.0.2.7/32 -j REJECT" in ban and ban.endswith("(some sources only)")
    # the jump's port condition is part of the path shown
    assert "--dports 22 -j f2b-sshd → -A f2b-sshd" in ban


def test_fail2ban_nft_set_reject_filters_nothing():
    facts = parsed("nft_fail2ban_set_only")
    assert facts.active is False and filtering(facts) == {"ipv4": None, "ipv6": None}
    assert "@addr-set-sshd reject" in (facts.filtering or ())[0].not_counted[0]


def test_port_drop_from_any_source_filters_without_default_deny():
    facts = parsed("nft_accept_policy_port_drop")
    assert facts.active is True and facts.default_inbound == "accept"
    assert filtering(facts) == {"ipv4": "rules", "ipv6": "rules"}
    assert (facts.filtering or ())[0].rules == (
        "nftables table inet filter chain input: tcp dport 8081 drop",
    )


def test_ct_state_verdict_map_accepts_replies_only():
    # nftables' example ruleset: ct state vmap { established : accept, related : accept, … }
    facts = parsed("nft_ct_state_vmap_port_drop")
    assert filtering(facts) == {"ipv4": "rules", "ipv6": "rules"}
    doc = sample("nft_ct_state_vmap_port_drop")
    nft = doc["firewall"]["nft_json"]
    nft["out"] = nft["out"].replace('"policy": "accept"', '"policy": "drop"')
    denying = parse(doc["firewall"], doc["host"])
    assert denying.default_inbound == "drop"
    assert opened(denying) == set()  # the map opens nothing new connections can use


def test_verdict_maps_are_one_rule_per_entry():
    # tcp dport vmap { 22 : accept } and a named map { 80 : accept, 23 : drop }
    facts = parsed("nft_verdict_maps")
    assert facts.default_inbound == "drop"
    assert opened(facts) == {"tcp/22 from any [ipv4 ipv6]", "tcp/80 from any [ipv4 ipv6]"}


def test_drop_behind_accept_all_is_never_reached():
    facts = parsed("iptables_legacy_drop_behind_accept_all")
    assert facts.active is False
    assert filtering(facts) == {"ipv4": None, "ipv6": "default_deny"}
    v4 = (facts.filtering or ())[0]
    assert v4.rules == () and v4.source.endswith("-A INPUT -j ACCEPT")


def test_one_family_unfiltered_is_not_active():
    facts = parsed("iptables_nft_v4_only")
    assert facts.active is False
    assert filtering(facts) == {"ipv4": "default_deny", "ipv6": None}


def view(*rules: str, policy: str = "ACCEPT") -> InboundFiltering:
    """The IPv4 filtering of an iptables-save filter table with these INPUT rules."""
    text = f"*filter\n:INPUT {policy} [0:0]\n:logdrop - [0:0]\n-A logdrop -j DROP\n"
    text += "".join(f"-A INPUT {r}\n" for r in rules) + "COMMIT\n"
    chains = firewall_iptables.parse_save(text, "iptables-nft", "ipv4")
    return family_view(chains, "ipv4")[2]


@pytest.mark.parametrize(
    "rules",
    [
        ("-m conntrack --ctstate INVALID -j DROP",),
        ("-p icmp -j DROP",),
        ("-i lo -j DROP",),
        ("-s 192.0.2.0/24 -j DROP",),
        ("-m recent --rcheck -j DROP",),  # a condition not modelled: cannot count
        ("-p tcp --dport 22 -j ACCEPT", "-p tcp --dport 22 -j DROP"),  # accepted first
        ("-p tcp -j RETURN", "-p tcp --dport 25 -j DROP"),  # returned first
        ("-p tcp -j RETURN", "-p tcp --dport 23 -j logdrop"),  # the jump is never taken
        ("-j ACCEPT", "-j DROP"),
    ],
)
def test_drops_that_reach_no_new_connection_from_any_source_do_not_filter(rules):
    assert not view(*rules).filtered


@pytest.mark.parametrize(
    ("rules", "shown"),
    [
        (("-p tcp --dport 22 -j ACCEPT", "-p tcp -j DROP"), "-A INPUT -p tcp -j DROP"),
        (("-p tcp --dport 23 -j logdrop",), "-A INPUT -p tcp --dport 23 -j logdrop → -A logdrop"),
        (("-m conntrack --ctstate NEW -p udp -j REJECT",), "--ctstate NEW -p udp -j REJECT"),
        (("! -i lo -j DROP",), "-i lo -j DROP"),
    ],
)
def test_drops_some_new_connections_reach_filter(rules, shown):
    got = view(*rules)
    assert got.by == "rules" and shown in got.rules[0]


def test_default_deny_wins_over_rules():
    got = view("-p tcp --dport 23 -j DROP", policy="DROP")
    assert got.by == "default_deny" and got.source == "iptables-nft filter chain INPUT: :INPUT DROP"


def test_not_root_is_unreadable_not_inactive():
    facts = parsed("not_root")
    assert facts.active is None and facts.defaults is None and facts.open_inbound is None
    (problem,) = facts.problems
    assert problem.startswith("reading the firewall needs root; the check ran as uid 65534")


def test_firewalld_zone_services_and_default_target():
    facts = parsed("firewalld_public_ssh")
    assert facts.tools_active == ("firewalld",)
    assert facts.default_inbound == "reject"
    # dhcpv6-client is the host's own client: not a service; inet firewalld table not walked
    assert opened(facts) == {"tcp/22 from any [ipv4 ipv6]"}


def test_firewalld_trusted_source_zone_and_rich_rule():
    facts = parsed("firewalld_trusted_source_and_rich_rule")
    assert opened(facts) == {
        "*/* from 10.1.0.0/16 [ipv4]",
        "tcp/22 from any [ipv4 ipv6]",
        "tcp/5432 from 192.168.10.0/24 [ipv4]",
    }


def test_firewalld_not_running_is_no_firewall():
    facts = parsed("firewalld_not_running")
    assert facts.active is False and facts.problems == ()
    assert "firewalld not running" in facts.summary


def test_ipv6_disabled_only_ipv4_counts():
    doc = sample("iptables_nft_v4_only")
    doc["firewall"]["ipv6_disabled"]["out"] = "1"
    facts = parse(doc["firewall"], doc["host"])
    assert facts.families == ("ipv4",) and facts.default_inbound == "drop"


@pytest.mark.parametrize(
    ("case", "field", "out", "rc"),
    [
        ("nft_ssh_private", "nft_json", '{"nftables": [{"metainfo"', 0),
        ("nft_ssh_private", "nft_json", "Error: cache initialization failed", 1),
        (
            "ufw_ssh_private",
            "iptables-nft",
            "*filter\n:INPUT DROP [0:0]\n-A INPUT -s not-an-address -j ACCEPT\n",
            0,
        ),
        ("ufw_ssh_private", "iptables-nft", "*filter\n-A NOCHAIN -j ACCEPT\nCOMMIT\n", 0),
        ("ufw_ssh_private", "iptables-nft", "garbage line\n", 0),
        ("ufw_ssh_private", "ufw_status", "ERROR: You need to be root to run this script", 1),
        ("ufw_ssh_private", "ufw_status", "something else entirely", 0),
        ("firewalld_public_ssh", "firewalld_zones", "  target: default\n", 0),
        ("firewalld_public_ssh", "firewalld_zones", "Authorization failed.", 1),
    ],
)
def test_malformed_or_failed_output_is_unreadable(case, field, out, rc):
    doc = sample(case)
    doc["firewall"][field] = {"out": out, "rc": rc}
    facts = parse(doc["firewall"], doc["host"])
    assert facts.problems
    assert facts.open_inbound is None and facts.defaults is None


def test_xt_rules_without_iptables_save_are_unreadable():
    doc = sample("ufw_ssh_private")
    for key in ("iptables-nft", "ip6tables-nft"):
        del doc["firewall"][key]
    facts = parse(doc["firewall"], doc["host"])
    assert any("opaque xt" in p for p in facts.problems)
    assert facts.open_inbound is None


def test_document_without_firewall_fields_does_not_crash():
    facts = parse({}, {})
    assert facts.open_inbound is None
    assert "lists no firewall tools" in facts.problems[0]
