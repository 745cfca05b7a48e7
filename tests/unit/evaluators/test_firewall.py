"""The firewall evaluators: FirewallFacts + parameters -> verdict, no I/O, whatever the tool."""

from datetime import UTC, datetime

import pytest

from baluarte.controls import EvalContext
from baluarte.findings import Status
from checks.evaluators import firewall as ev
from checks.facts.firewall import FamilyDefault, FirewallFacts, OpenRule, PortRange
from checks.policy.base import Required
from checks.policy.firewall import AllowedInbound

CTX = EvalContext(now=datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
POLICY = AllowedInbound.model_validate(
    {
        "services": [
            {"name": "ssh", "port": 22, "protocol": "tcp", "sources": ["10.0.0.0/8"]},
            {"name": "web", "port": 443, "protocol": "tcp"},
            {"name": "dns", "port": 53, "protocol": "udp", "sources": ["10.0.0.0/8", "fd00::/8"]},
        ]
    }
)


def rule(
    protocol: str | None = "tcp",
    ports: tuple[int, int] | None = (22, 22),
    sources: tuple[str, ...] | None = ("10.0.0.0/8",),
    families: tuple = ("ipv4",),
    text: str = "tcp dport 22 ip saddr 10.0.0.0/8 accept",
) -> OpenRule:
    return OpenRule(
        families=families,
        protocol=protocol,
        ports=(PortRange(first=ports[0], last=ports[1]),) if ports else None,
        sources=sources,
        tool="nftables",
        where="nftables table inet filter chain input",
        rule=text,
    )


def facts(*rules: OpenRule, v4: str = "drop", v6: str = "drop", **kw) -> FirewallFacts:
    base = dict(
        tools_installed=("nft",),
        tools_active=("nftables",),
        active=True,
        defaults=(
            FamilyDefault(family="ipv4", action=v4, source="policy " + v4),
            FamilyDefault(family="ipv6", action=v6, source="policy " + v6),
        ),
        open_inbound=rules,
    )
    base.update(kw)
    return FirewallFacts(**base)


UNREADABLE = FirewallFacts(
    tools_installed=("nft",),
    tools_active=None,
    active=None,
    defaults=None,
    open_inbound=None,
    problems=("nft -j list ruleset failed (exit 1): Operation not permitted",),
)


def test_active_firewall_passes_enabled():
    out = ev.enabled(facts(rule()), Required(), CTX)
    assert out.status is Status.PASS and out.observed == "active: nftables"


def test_no_ruleset_fails_enabled_naming_boot_config():
    inactive = facts(active=False, tools_active=(), configured_enabled=("ufw",), v4="accept")
    out = ev.enabled(inactive, Required(), CTX)
    assert out.status is Status.FAIL
    assert "ufw is set to start at boot but its rules are not loaded" in out.observed


def test_no_firewall_tool_at_all_fails_not_errors():
    bare = facts(active=False, tools_active=(), tools_installed=())
    out = ev.enabled(bare, Required(), CTX)
    assert out.status is Status.FAIL and "no firewall tool installed" in out.observed


@pytest.mark.parametrize("control", ["enabled", "default_inbound_deny", "allowed_inbound"])
def test_unreadable_ruleset_is_error_never_pass(control):
    params = POLICY if control == "allowed_inbound" else Required()
    out = getattr(ev, control)(UNREADABLE, params, CTX)
    assert out.status is Status.ERROR
    assert "Operation not permitted" in (out.reason or "")


def test_default_drop_and_reject_pass_accept_fails():
    assert ev.default_inbound_deny(facts(), Required(), CTX).status is Status.PASS
    assert ev.default_inbound_deny(facts(v4="reject"), Required(), CTX).status is Status.PASS
    out = ev.default_inbound_deny(facts(v6="accept"), Required(), CTX)
    assert out.status is Status.FAIL and "ipv6 accept" in (out.observed or "")


def test_listed_service_from_allowed_network_passes():
    out = ev.allowed_inbound(facts(rule()), POLICY, CTX)
    assert out.status is Status.PASS
    assert out.observed is not None and "tcp/22 from 10.0.0.0/8" in out.observed


def test_subnet_of_allowed_network_passes():
    narrow = rule(sources=("10.20.0.0/16", "10.30.1.5/32"))
    assert ev.allowed_inbound(facts(narrow), POLICY, CTX).status is Status.PASS


def test_listed_port_open_from_anywhere_fails_naming_rule():
    anywhere = rule(sources=None, families=("ipv4", "ipv6"), text="tcp dport 22 accept")
    out = ev.allowed_inbound(facts(anywhere), POLICY, CTX)
    assert out.status is Status.FAIL
    assert "tcp/22 open from 0.0.0.0/0, ::/0, outside 10.0.0.0/8" in (out.observed or "")
    assert "tcp dport 22 accept" in (out.observed or "")


def test_source_partly_outside_allowed_fails():
    wide = rule(sources=("10.0.0.0/8", "192.168.1.0/24"))
    out = ev.allowed_inbound(facts(wide), POLICY, CTX)
    assert out.status is Status.FAIL and "from 192.168.1.0/24, outside" in (out.observed or "")


def test_unlisted_port_fails():
    mysql = rule(ports=(3306, 3306), text="tcp dport 3306 ip saddr 10.0.0.0/8 accept")
    out = ev.allowed_inbound(facts(rule(), mysql), POLICY, CTX)
    assert out.status is Status.FAIL
    assert out.observed is not None and out.observed.startswith("1 inbound rule beyond")
    assert "tcp/3306 not in the policy" in out.observed


def test_service_without_sources_allows_any_source():
    web = rule(ports=(443, 443), sources=None, families=("ipv4", "ipv6"))
    assert ev.allowed_inbound(facts(web), POLICY, CTX).status is Status.PASS


def test_protocol_matters():
    udp22 = rule(protocol="udp")
    out = ev.allowed_inbound(facts(udp22), POLICY, CTX)
    assert out.status is Status.FAIL and "udp/22 not in the policy" in (out.observed or "")


def test_ipv6_source_checked_against_ipv6_networks():
    dns6 = rule(protocol="udp", ports=(53, 53), sources=("fd00:1::/32",), families=("ipv6",))
    assert ev.allowed_inbound(facts(dns6), POLICY, CTX).status is Status.PASS
    dns_any6 = rule(protocol="udp", ports=(53, 53), sources=None, families=("ipv6",))
    assert ev.allowed_inbound(facts(dns_any6), POLICY, CTX).status is Status.FAIL


def test_port_range_covering_more_than_listed_fails():
    wide = rule(ports=(20, 25))
    out = ev.allowed_inbound(facts(wide), POLICY, CTX)
    assert out.status is Status.FAIL and "tcp/20-25 not in the policy" in (out.observed or "")


def test_everything_open_fails_even_from_allowed_network():
    everything = rule(protocol=None, ports=None, text="-A INPUT -s 10.0.0.0/8 -j ACCEPT")
    out = ev.allowed_inbound(facts(everything), POLICY, CTX)
    assert out.status is Status.FAIL and "all ports open" in (out.observed or "")


def test_port_match_without_protocol_counts_tcp_and_udp():
    th = rule(protocol=None, ports=(22, 22))
    out = ev.allowed_inbound(facts(th), POLICY, CTX)
    assert out.status is Status.FAIL and "udp/22 not in the policy" in (out.observed or "")


def test_other_protocol_fails():
    gre = rule(protocol="gre", ports=None, sources=None)
    out = ev.allowed_inbound(facts(gre), POLICY, CTX)
    assert out.status is Status.FAIL and "protocol gre open" in (out.observed or "")


def test_nothing_open_passes_with_empty_policy():
    out = ev.allowed_inbound(facts(), AllowedInbound(), CTX)
    assert out.status is Status.PASS and out.observed == "open inbound: nothing"
    assert out.expected == "no inbound service open"
