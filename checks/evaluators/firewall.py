"""Firewall: the controls of the ``firewall`` domain, each beside its pure evaluate function.

Host firewalls on Linux and Windows, the policy table on FortiGate. FortiGate-only controls
also cite ISO/IEC 27001:2022 8.21 (security of network services) and 8.23 (web filtering).
Evaluators see FirewallFacts only: which tool wrote the rules does not change the verdict.
A fact the control needs that could not be read is ``error`` with the reason, never ``pass``.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime

from baluarte.controls import Domain, EvalContext
from baluarte.findings import Outcome, Severity
from checks.evaluators.common import CLOCK_SLACK_HOURS, not_required
from checks.facts.firewall import (
    FirewallFacts,
    FirewallPolicy,
    FirewallProfile,
    FortiGuardService,
    InboundFiltering,
    OpenRule,
)
from checks.policy.base import Required
from checks.policy.firewall import (
    AllowedInbound,
    InboundService,
    PolicyLogging,
    SecurityProfiles,
    SecurityServices,
)

DOMAIN = Domain(
    "firewall",
    gdpr=("32(1)(b)", "25"),
    iso27001=("8.20", "8.22"),
    ens=("mp.com.1", "mp.com.4", "op.exp.2"),
    nis2=("(e)",),
    cis=("4.4", "4.5", "13.4"),
)
_FORTIGATE_ISO: dict[str, tuple[str, ...]] = {"iso27001": ("8.21", "8.23")}


def _unreadable(facts: FirewallFacts, what: str) -> Outcome:
    why = "; ".join(facts.problems) or f"{what} could not be read from the device"
    return Outcome.unreadable(why)


def _defaults(facts: FirewallFacts) -> str:
    return "; ".join(f"{d.family} {d.action} ({d.source})" for d in facts.defaults or ())


def _profiles(profiles: tuple[FirewallProfile, ...]) -> str:
    return "; ".join(p.describe() for p in profiles)


def _profile_names(profiles: list[FirewallProfile]) -> str:
    names = ", ".join(p.name for p in profiles)
    return f"the {names} profile{'s' if len(profiles) > 1 else ''}"


def _enabled_windows(profiles: tuple[FirewallProfile, ...], params: Required) -> Outcome:
    expected = "Windows Defender Firewall on for every profile (Domain, Private, Public)"
    observed = _profiles(profiles)
    off = [p for p in profiles if not p.enabled]
    if not off:
        return Outcome.passed(expected, f"on for every profile: {observed}")
    return Outcome.failed(expected, f"off for {_profile_names(off)} ({observed})")


def _enabled_linux(
    facts: FirewallFacts, filtering: tuple[InboundFiltering, ...], params: Required
) -> Outcome:
    expected = (
        "new inbound connections filtered in every address family: a default deny, or rules "
        "dropping them from any source"
    )
    observed = "; ".join(f.describe() for f in filtering)
    evidence = facts.summary or None
    if all(f.filtered for f in filtering):
        tools = ", ".join(facts.tools_active or ())
        shown = f"{observed} [{tools}]" if tools else observed
        if facts.problems:
            shown += f" (not everything could be read: {'; '.join(facts.problems)})"
        return Outcome.passed(expected, shown, evidence)
    if not facts.tools_installed:
        observed += "; no firewall tool installed (nft, iptables, ufw, firewall-cmd)"
    for tool in facts.configured_enabled:
        observed += f"; {tool} is set to start at boot but its rules are not loaded"
    return Outcome.failed(expected, observed, evidence=evidence)


@DOMAIN.control(
    title="Host firewall is active",
    rationale="A host firewall limits what an attacker on the same network can reach, even "
    "when a service is exposed by mistake.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Debian Linux 12 Benchmark, Host Based Firewall; CIS Microsoft Windows "
    "Benchmarks, Windows Defender Firewall (Domain, Private and Public profiles: state on)",
)
def enabled(facts: FirewallFacts, params: Required, ctx: EvalContext) -> Outcome:
    """Linux: active means new inbound connections are actually filtered, in every enabled
    address family: dropped or rejected by the default (policy or final rule), or by rules the
    input hook reaches, from any source. Rules loaded that filter nothing (an accept policy
    with a jump to a chain that returns, fail2ban's shape) or that drop only some sources (a
    ban list) are not a firewall. Windows: every profile of the effective policy
    (``-PolicyStore ActiveStore``) must be on, since which profile applies depends on the
    network the machine is attached to."""
    if not params.required:
        return not_required("a host firewall", ctx)
    if facts.profiles is not None:
        return _enabled_windows(facts.profiles, params)
    if facts.active is None:
        return _unreadable(facts, "the firewall state")
    if facts.filtering is not None:
        return _enabled_linux(facts, facts.filtering, params)
    expected = "a host firewall filtering inbound traffic"
    if facts.active:
        tools = ", ".join(facts.tools_active or ()) or "netfilter rules"
        return Outcome.passed(expected, f"active: {tools}", facts.summary or None)
    observed = "no inbound filtering loaded"
    if facts.defaults:
        observed += f" (default inbound: {_defaults(facts)})"
    if not facts.tools_installed:
        observed += "; no firewall tool installed (nft, iptables, ufw, firewall-cmd)"
    for tool in facts.configured_enabled:
        observed += f"; {tool} is set to start at boot but its rules are not loaded"
    return Outcome.failed(expected, observed, evidence=facts.summary or None)


@DOMAIN.control(
    title="Inbound traffic is denied by default",
    rationale="With a default-deny inbound policy only what was deliberately opened is "
    "reachable; a new service stays closed until someone decides otherwise.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Debian Linux 12 Benchmark, Host Based Firewall (default deny policy); CIS "
    "Microsoft Windows Benchmarks, Windows Defender Firewall (inbound connections: block)",
)
def default_inbound_deny(facts: FirewallFacts, params: Required, ctx: EvalContext) -> Outcome:
    """Windows: every profile's DefaultInboundAction Block (NotConfigured is Windows' default,
    Block), whether the profile is on or not (``firewall.enabled`` judges that)."""
    if not params.required:
        return not_required("a default inbound deny", ctx)
    if facts.profiles is not None:
        return _inbound_windows(facts.profiles, params)
    if facts.defaults is None or facts.default_inbound is None:
        return _unreadable(facts, "the default inbound action")
    observed = f"default inbound: {_defaults(facts)}"
    expected = "inbound traffic no rule allows is dropped or rejected, for every address family"
    if facts.default_inbound == "accept":
        return Outcome.failed(expected, observed, evidence=facts.summary or None)
    return Outcome.passed(expected, observed, facts.summary or None)


def _inbound_windows(profiles: tuple[FirewallProfile, ...], params: Required) -> Outcome:
    observed = _profiles(profiles)
    expected = "inbound connections no rule allows are blocked, in every profile"
    allowing = [p for p in profiles if p.default_inbound == "accept"]
    if allowing:
        shown = f"default inbound Allow in {_profile_names(allowing)} ({observed})"
        return Outcome.failed(expected, shown)
    return Outcome.passed(expected, observed)


_ANY = {4: ipaddress.ip_network("0.0.0.0/0"), 6: ipaddress.ip_network("::/0")}


def _source_problems(rule: OpenRule, allowed: list[InboundService]) -> list[str]:
    """The rule's sources that no listed entry for its port allows."""
    if any(s.sources is None for s in allowed):
        return []
    nets = [n for s in allowed for n in s.sources or ()]
    outside: list[str] = []
    for family in rule.families:
        version = 4 if family == "ipv4" else 6
        mine = [ipaddress.ip_network(n) for n in rule.sources or ()]
        mine = [n for n in mine if n.version == version] or (
            [_ANY[version]] if rule.sources is None else []
        )
        for net in mine:
            if not any(a.version == net.version and net.subnet_of(a) for a in nets):  # type: ignore[arg-type]
                outside.append(str(net))
    return list(dict.fromkeys(outside))


def _violations(rule: OpenRule, services: tuple[InboundService, ...]) -> list[str]:
    """Why this open rule is more than the policy allows (empty: it is allowed)."""
    if rule.everything:
        return ["all ports open"]
    protocols = [rule.protocol] if rule.protocol else ["tcp", "udp"]
    if any(p not in ("tcp", "udp") for p in protocols):
        what = "all ports" if rule.ports is None else "some ports"
        return [f"protocol {rule.protocol} open ({what})"]
    problems: list[str] = []
    for proto in protocols:
        if rule.ports is None:
            problems.append(f"every {proto} port open")
            continue
        for rng in rule.ports:
            listed = [
                s for s in services if s.protocol == proto and rng.first <= s.port <= rng.last
            ]
            covered = {s.port for s in listed}
            if len(covered) < rng.last - rng.first + 1:
                problems.append(f"{proto}/{rng} not in the policy")
            by_port: dict[int, list[InboundService]] = {}
            for s in listed:
                by_port.setdefault(s.port, []).append(s)
            for port, entries in sorted(by_port.items()):
                outside = _source_problems(rule, entries)
                if outside:
                    allowed = ", ".join(str(n) for e in entries for n in e.sources or ())
                    problems.append(
                        f"{proto}/{port} open from {', '.join(outside)}, outside {allowed}"
                    )
    return problems


@DOMAIN.control(
    title="Only the allowed inbound services are open",
    rationale="Every open port is attack surface; the policy lists the services the device "
    "exists to offer and from where, and anything else is drift.",
    severity=Severity.HIGH,
    platforms=("linux", "windows", "fortigate"),
    benchmark="CIS Controls v8 4.4, 4.5 (Baluarte: open ports compared with the policy's list)",
)
def allowed_inbound(facts: FirewallFacts, params: AllowedInbound, ctx: EvalContext) -> Outcome:
    if facts.open_inbound is None:
        return _unreadable(facts, "the inbound rules")
    listed = [
        f"{s.name + ' ' if s.name else ''}{s.protocol}/{s.port} from "
        + (", ".join(str(n) for n in s.sources) if s.sources is not None else "any source")
        for s in params.services
    ]
    expected = f"only {'; '.join(listed)} open" if listed else "no inbound service open"
    evidence = "\n".join(r.describe() for r in facts.open_inbound) or None
    bad: list[str] = []
    for rule in facts.open_inbound:
        problems = _violations(rule, params.services)
        if problems:
            bad.append(f"{'; '.join(problems)}: {rule.describe()}")
    if bad:
        observed = f"{len(bad)} inbound rule{'s' if len(bad) > 1 else ''} beyond the policy: "
        return Outcome.failed(expected, observed + " | ".join(bad), evidence=evidence)
    shown = "; ".join(r.describe() for r in facts.open_inbound)
    return Outcome.passed(expected, f"open inbound: {shown or 'nothing'}", evidence)


def _policies(facts: FirewallFacts) -> tuple[FirewallPolicy, ...] | Outcome:
    fortigate = facts.fortigate
    if fortigate is None:
        return Outcome.unreadable("no FortiGate policy table among the device's facts")
    if fortigate.policies is None:
        return Outcome.unreadable(
            fortigate.problems.get("policies") or "the policy table is unreadable"
        )
    return fortigate.policies


def _verdict(
    expected: str, bad: list[str], unknown: list[str], good: str, lines: list[str]
) -> Outcome:
    """Fail on any definite violation, else error on any doubt, else pass."""
    evidence = "\n".join(lines) or None
    if bad:
        shown = "; ".join(bad[:5]) + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
        if unknown:
            shown += f" (and {len(unknown)} that could not be judged)"
        return Outcome.failed(expected, shown, evidence=evidence)
    if unknown:
        return Outcome.error("; ".join(unknown[:3]), expected, evidence)
    return Outcome.passed(expected, good, evidence)


def _why(policy: FirewallPolicy, *aspects: str) -> str:
    reasons = [policy.problems[a] for a in aspects if a in policy.problems]
    return f"{policy.label()}: {'; '.join(reasons) or 'could not be judged'}"


@DOMAIN.control(
    title="No any-to-any accept policy",
    rationale="A policy accepting any source to any destination with any service turns the "
    "firewall into a router and defeats segmentation.",
    severity=Severity.CRITICAL,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 3.2 (no policy uses service ALL)",
    mappings=_FORTIGATE_ISO,
)
def no_any_any_accept(facts: FirewallFacts, params: Required, ctx: EvalContext) -> Outcome:
    """Names are resolved: a custom address 0.0.0.0/0, a group holding ``all`` and a service of
    protocol ALL (or a group holding one) count as "any", as ``all`` and ``ALL`` do."""
    if not params.required:
        return not_required("no any-to-any accept policy", ctx)
    policies = _policies(facts)
    if isinstance(policies, Outcome):
        return policies
    accepting = [p for p in policies if p.enabled and p.action == "accept"]
    expected = "no enabled accept policy from any source to any destination with any service"
    bad: list[str] = []
    unknown: list[str] = []
    for p in accepting:
        if p.service_any is False or p.any_to_any == ():
            continue
        if p.any_to_any is None or p.service_any is None:
            unknown.append(_why(p, "any_to_any", "service_any"))
            continue
        families = "/".join(f.removeprefix("ip") for f in p.any_to_any)
        bad.append(
            f"{p.label()} accepts srcaddr {', '.join(p.srcaddr)} → dstaddr "
            f"{', '.join(p.dstaddr)}, service {', '.join(p.service)} (any to any, {families})"
        )
    lines = [
        f"{p.label()}: srcaddr {', '.join(p.srcaddr)} dstaddr {', '.join(p.dstaddr)} "
        f"service {', '.join(p.service)}"
        for p in accepting
    ]
    good = f"{len(accepting)} enabled accept policies, none from any to any with every service"
    return _verdict(expected, bad, unknown, good, lines)


_PROFILE_NAMES = {
    "antivirus": "antivirus",
    "ips": "IPS",
    "webfilter": "web filter",
    "application": "application control",
    "dnsfilter": "DNS filter",
}


@DOMAIN.control(
    title="Internet-bound accept policies carry security profiles",
    rationale="Antivirus, IPS and web filtering only protect traffic of the policies they are "
    "attached to; a policy without them lets malware and exploits through unseen.",
    severity=Severity.HIGH,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 4.1.2 (IPS), 4.2.2 (antivirus)",
    mappings=_FORTIGATE_ISO,
)
def security_profiles(facts: FirewallFacts, params: SecurityProfiles, ctx: EvalContext) -> Outcome:
    """Towards the internet: a destination interface of role wan, an SD-WAN zone, a zone holding
    a WAN interface, or ``any``. Profiles of a profile group count when the group can be read."""
    policies = _policies(facts)
    if isinstance(policies, Outcome):
        return policies
    kinds = ", ".join(_PROFILE_NAMES[k] for k in params.profiles)
    expected = f"every enabled accept policy towards the internet carries {kinds} profiles"
    bad: list[str] = []
    unknown: list[str] = []
    lines: list[str] = []
    outbound = 0
    for p in (p for p in policies if p.enabled and p.action == "accept"):
        if p.to_internet is None:
            unknown.append(_why(p, "dstintf", "to_internet"))
            continue
        if not p.to_internet:
            continue
        outbound += 1
        if p.profiles is None:
            unknown.append(_why(p, "profiles"))
            continue
        carried = ", ".join(f"{k} {n}" for k, n in p.profiles.items()) or "none"
        lines.append(f"{p.label()}: {carried} ({p.profiles_source})")
        missing = [_PROFILE_NAMES[k] for k in params.profiles if k not in p.profiles]
        if missing:
            bad.append(f"{p.label()} has no {', '.join(missing)} profile ({p.profiles_source})")
    good = f"{outbound} accept policies towards the internet, each with {kinds}"
    if not outbound:
        good = "no enabled accept policy towards the internet"
    return _verdict(expected, bad, unknown, good, lines)


_LOG_ORDER = ("disable", "utm", "all")


@DOMAIN.control(
    title="Every firewall policy logs its traffic",
    rationale="Without traffic logs an incident cannot be reconstructed or its reach "
    "assessed, which a breach notification needs.",
    severity=Severity.MEDIUM,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 3.4 (logging on all policies)",
    mappings=_FORTIGATE_ISO,
)
def policy_logging(facts: FirewallFacts, params: PolicyLogging, ctx: EvalContext) -> Outcome:
    policies = _policies(facts)
    if isinstance(policies, Outcome):
        return policies
    assert facts.fortigate is not None
    least = _LOG_ORDER.index(params.logtraffic)
    wanted = "all" if params.logtraffic == "all" else "utm or all"
    expected = f"logtraffic {wanted} on every enabled policy"
    if params.implicit_deny:
        expected += "; the implicit deny logged (log/setting fwpolicy-implicit-log enable)"
    bad: list[str] = []
    unknown: list[str] = []
    enabled = [p for p in policies if p.enabled]
    for p in enabled:
        if p.logtraffic is None:
            unknown.append(_why(p, "logtraffic"))
        elif _LOG_ORDER.index(p.logtraffic) < least:
            bad.append(f"{p.label()} has logtraffic {p.logtraffic}")
    implicit = facts.fortigate.implicit_deny_logged
    if params.implicit_deny:
        if implicit is None:
            unknown.append(facts.fortigate.problems.get("implicit_deny_logged", "log/setting"))
        elif not implicit:
            bad.append("the implicit deny is not logged (fwpolicy-implicit-log disable)")
    lines = [f"{p.label()}: logtraffic {p.logtraffic}" for p in enabled]
    if implicit is not None:
        lines.append(f"implicit deny: fwpolicy-implicit-log {'enable' if implicit else 'disable'}")
    good = f"{len(enabled)} enabled policies log ({wanted})"
    if params.implicit_deny:
        good += "; the implicit deny is logged"
    return _verdict(expected, bad, unknown, good, lines)


def _day(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d}" if at else "?"


def _service_state(svc: FortiGuardService, params: SecurityServices) -> tuple[str, str | None]:
    """(what was seen, why it falls short or None)."""
    seen = f"{svc.name} {svc.status}"
    if svc.status != "licensed":
        return seen, f"{svc.name} licence {svc.status}"
    assert svc.days_left is not None
    seen += f" until {_day(svc.expires)}"
    if svc.days_left < max(params.licence_min_days, 0.0):
        left = "expired" if svc.days_left < 0 else f"{svc.days_left:.0f} days left"
        short = f"{svc.name} licence ends {_day(svc.expires)} ({left}"
        return seen, f"{short}, < {params.licence_min_days} days)"
    if svc.has_definitions:
        assert svc.definitions_age_days is not None
        age = svc.definitions_age_days
        seen += f", definitions {svc.version} of {_day(svc.last_update)} ({age:.1f} days old)"
        if age * 24 < -CLOCK_SLACK_HOURS:  # a negative age would pass any limit
            return seen, (
                f"{svc.name} definitions are dated {_day(svc.last_update)}, ahead of the unit's "
                "clock: their real age cannot be told"
            )
        if age > params.max_days:
            return seen, (
                f"{svc.name} definitions {svc.version} of {_day(svc.last_update)} are "
                f"{age:.1f} days old (> {params.max_days})"
            )
    return seen, None


@DOMAIN.control(
    title="FortiGuard services licensed and definitions current",
    rationale="An expired licence or stale antivirus/IPS definitions silently leave the "
    "security profiles blind to recent threats.",
    severity=Severity.HIGH,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 4.2.1 (antivirus definition updates)",
    mappings=_FORTIGATE_ISO,
)
def security_services_current(
    facts: FirewallFacts, params: SecurityServices, ctx: EvalContext
) -> Outcome:
    """Ages and days left are measured against the collection time (``monitor license/status``)."""
    fortigate = facts.fortigate
    if fortigate is None or fortigate.services is None:
        why = fortigate.problems.get("services") if fortigate else None
        return Outcome.unreadable(why or "the FortiGuard licence status could not be read")
    by_name = {s.name: s for s in fortigate.services}
    expected = (
        f"FortiGuard {', '.join(params.services)} licensed"
        + (f" for ≥ {params.licence_min_days} more days" if params.licence_min_days else "")
        + f", definitions no older than {params.max_days} days"
    )
    bad: list[str] = []
    unknown: list[str] = []
    lines: list[str] = []
    for name in params.services:
        svc = by_name[name]
        if svc.problem:
            unknown.append(svc.problem)
            continue
        seen, short = _service_state(svc, params)
        lines.append(seen)
        if short:
            bad.append(short)
    return _verdict(expected, bad, unknown, "; ".join(lines), lines)
