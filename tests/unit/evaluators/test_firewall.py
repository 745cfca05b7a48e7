"""The firewall evaluators: FirewallFacts + parameters -> verdict, no I/O, whatever the tool."""

from datetime import UTC, datetime

import pytest

from baluarte.controls import EvalContext
from baluarte.findings import Status
from checks.evaluators import firewall as ev
from checks.facts.firewall import (
    FamilyDefault,
    FirewallFacts,
    InboundFiltering,
    OpenRule,
    PortRange,
)
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


DENY_V4 = InboundFiltering(family="ipv4", by="default_deny", source="chain input: policy drop")
BAN_V6 = InboundFiltering(
    family="ipv6",
    by=None,
    source="chain INPUT: :INPUT ACCEPT",
    not_counted=("chain f2b: -s 2001:db8::7 -j REJECT (some sources only)",),
)
PORT_DROP_V6 = InboundFiltering(
    family="ipv6", by="rules", source="chain input: policy accept", rules=("tcp dport 23 drop",)
)


def test_linux_every_family_filtered_passes_saying_how():
    out = ev.enabled(facts(filtering=(DENY_V4, PORT_DROP_V6)), Required(), CTX)
    assert out.status is Status.PASS
    assert out.observed == (
        "ipv4 filtered: default deny (chain input: policy drop); ipv6 filtered by rules "
        "dropping new connections from any source (tcp dport 23 drop), default accept "
        "(chain input: policy accept) [nftables]"
    )


def test_linux_rules_loaded_but_a_family_unfiltered_fails():
    # active=True from another producer must not matter: the per-family judgement decides
    out = ev.enabled(facts(active=False, filtering=(DENY_V4, BAN_V6)), Required(), CTX)
    assert out.status is Status.FAIL
    assert "ipv6 not filtered: chain INPUT: :INPUT ACCEPT" in (out.observed or "")
    assert "drops not counted: chain f2b: -s 2001:db8::7 -j REJECT (some sources only)" in (
        out.observed or ""
    )
    relaxed = ev.enabled(facts(active=False, filtering=(BAN_V6,)), Required(required=False), CTX)
    # switched off by the policy: nothing was verified, so it is not a pass
    assert relaxed.status is Status.NOT_APPLICABLE
    assert relaxed.reason == "a host firewall not required by the policy (required: false)"


def test_linux_partly_unreadable_but_filtered_passes_naming_what_was_unread():
    partial = facts(problems=("ip6tables-legacy-save failed (exit 1): x",), filtering=(DENY_V4,))
    out = ev.enabled(partial, Required(), CTX)
    assert out.status is Status.PASS
    assert "not everything could be read: ip6tables-legacy-save failed" in (out.observed or "")


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


# -- FortiGate: the policy table and FortiGuard ------------------------------------------------

from datetime import timedelta  # noqa: E402

from checks.facts.firewall import FirewallPolicy, FortigateFirewall, FortiGuardService  # noqa: E402
from checks.policy.firewall import PolicyLogging, SecurityProfiles, SecurityServices  # noqa: E402

NOW = CTX.now
ALL_PROFILES = {"antivirus": "default", "ips": "default", "webfilter": "default"}


def fpolicy(pid=1, **kw) -> FirewallPolicy:
    base = dict(
        id=pid, name=f"p{pid}", enabled=True, action="accept", srcintf=("internal",),
        dstintf=("wan1",), srcaddr=("LAN",), dstaddr=("all",), service=("HTTPS",),
        from_internet=False, to_internet=True, any_to_any=(), service_any=False,
        logtraffic="all", profiles=ALL_PROFILES, profiles_source="the policy's own profiles",
    )  # fmt: skip
    return FirewallPolicy(**(base | kw))


def service(name="antivirus", **kw) -> FortiGuardService:
    base = dict(
        name=name, status="licensed", expires=NOW + timedelta(days=400), days_left=400.0,
        version="92.01234", last_update=NOW - timedelta(hours=1), definitions_age_days=0.04,
        has_definitions=True,
    )  # fmt: skip
    return FortiGuardService(**(base | kw))


def fg(*policies: FirewallPolicy, implicit=True, services=None, **problems) -> FirewallFacts:
    return FirewallFacts(
        tools_active=("fortios",), active=True, defaults=None, open_inbound=(),
        fortigate=FortigateFirewall(
            policies=policies or None, implicit_deny_logged=implicit,
            services=(service(), service("ips")) if services is None else services,
            problems=problems,
        ),
    )  # fmt: skip


def test_any_to_any_accept_fails_and_a_disabled_or_deny_one_does_not():
    bad = fpolicy(2, any_to_any=("ipv4",), service_any=True, srcaddr=("all",), service=("ALL",))
    out = ev.no_any_any_accept(fg(fpolicy(), bad), Required(), CTX)
    assert out.status is Status.FAIL and 'policy 2 "p2" (internal → wan1) accepts' in out.observed
    off = bad.model_copy(update={"enabled": False})
    deny = bad.model_copy(update={"action": "deny"})
    assert ev.no_any_any_accept(fg(fpolicy(), off, deny), Required(), CTX).status is Status.PASS


def test_any_to_any_that_cannot_be_told_is_an_error_with_the_reason():
    unknown = fpolicy(3, any_to_any=None, service_any=True,
                      problems={"any_to_any": "address 'x' is in none of firewall/address"})  # fmt: skip
    out = ev.no_any_any_accept(fg(unknown), Required(), CTX)
    assert out.status is Status.ERROR and "address 'x'" in out.reason
    # a service that is not "any" decides without the addresses
    decided = unknown.model_copy(update={"service_any": False})
    assert ev.no_any_any_accept(fg(decided), Required(), CTX).status is Status.PASS


def test_security_profiles_only_judge_internet_bound_accept_policies():
    inside = fpolicy(4, to_internet=False, profiles={})
    missing_ips = fpolicy(5, profiles={"antivirus": "default", "webfilter": "default"})
    out = ev.security_profiles(fg(fpolicy(), inside), SecurityProfiles(), CTX)
    assert out.status is Status.PASS and "1 accept policies towards the internet" in out.observed
    out = ev.security_profiles(fg(fpolicy(), missing_ips), SecurityProfiles(), CTX)
    assert out.status is Status.FAIL and 'policy 5 "p5"' in out.observed
    assert "has no IPS profile" in out.observed
    more = SecurityProfiles(profiles=("antivirus", "ips", "webfilter", "dnsfilter"))
    assert ev.security_profiles(fg(fpolicy()), more, CTX).status is Status.FAIL


def test_policy_logging_levels_and_the_implicit_deny():
    utm = fpolicy(6, logtraffic="utm")
    assert ev.policy_logging(fg(utm), PolicyLogging(), CTX).status is Status.FAIL
    assert ev.policy_logging(fg(utm), PolicyLogging(logtraffic="utm"), CTX).status is Status.PASS
    silent = fg(fpolicy(), implicit=False)
    out = ev.policy_logging(silent, PolicyLogging(), CTX)
    assert out.status is Status.FAIL and "implicit deny is not logged" in out.observed
    relaxed = PolicyLogging(implicit_deny=False)
    assert ev.policy_logging(silent, relaxed, CTX).status is Status.PASS


def test_the_policy_table_unreadable_is_an_error():
    facts = fg(policies="cmdb firewall/policy: 500")  # no policies given: the table is None
    for evaluate, params in ((ev.no_any_any_accept, Required()),
                             (ev.security_profiles, SecurityProfiles()),
                             (ev.policy_logging, PolicyLogging())):  # fmt: skip
        out = evaluate(facts, params, CTX)
        assert out.status is Status.ERROR and out.reason == "cmdb firewall/policy: 500"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (dict(status="expired"), "antivirus licence expired"),
        (dict(days_left=10.0, expires=NOW + timedelta(days=10)), "10 days left, < 30 days"),
        (dict(days_left=-1.0), "(expired, < 30 days)"),
        (dict(definitions_age_days=3.5, last_update=NOW - timedelta(days=3.5)), "3.5 days old"),
        # a negative age would pass any limit: definitions dated ahead of the unit's clock
        (dict(definitions_age_days=-30.0, last_update=NOW + timedelta(days=30)), "ahead of the"),
    ],
)
def test_fortiguard_licences_and_definitions(change, says):
    params = SecurityServices(licence_min_days=30)
    assert ev.security_services_current(fg(fpolicy()), params, CTX).status is Status.PASS
    out = ev.security_services_current(fg(fpolicy(), services=(service(**change), service("ips"))), params, CTX)  # fmt: skip
    assert out.status is Status.FAIL and says in out.observed


def test_fortiguard_service_that_could_not_be_read_is_an_error():
    broken = service(
        "ips", status=None, problem="monitor license/status ips: field 'status' missing"
    )
    out = ev.security_services_current(fg(fpolicy(), services=(service(), broken)), SecurityServices(), CTX)  # fmt: skip
    assert out.status is Status.ERROR and "field 'status' missing" in out.reason
    # a service the policy does not ask about does not matter
    only_av = SecurityServices(services=("antivirus",))
    assert ev.security_services_current(fg(fpolicy(), services=(service(), broken)), only_av, CTX).status is Status.PASS  # fmt: skip


def test_controls_the_policy_does_not_require_are_not_a_pass():
    ctx = EvalContext(now=NOW, policy="branch")
    off = Required(required=False)
    for got in (
        ev.enabled(facts(v4="accept", v6="accept"), off, ctx),
        ev.default_inbound_deny(facts(v4="accept", v6="accept"), off, ctx),
        ev.no_any_any_accept(fg(fpolicy()), off, ctx),
    ):
        assert got.status is Status.NOT_APPLICABLE, got
        assert "not required by policy branch (required: false)" in got.reason
