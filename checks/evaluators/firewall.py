"""Firewall: the controls of the ``firewall`` domain, each beside its pure evaluate function.

Host firewalls on Linux and Windows, the policy table on FortiGate. FortiGate-only controls
also cite ISO/IEC 27001:2022 8.21 (security of network services) and 8.23 (web filtering).
Evaluators see FirewallFacts only: which tool wrote the rules does not change the verdict.
A fact the control needs that could not be read is ``error`` with the reason, never ``pass``.
"""

from __future__ import annotations

import ipaddress

from baluarte.controls import Domain, EvalContext
from baluarte.findings import Outcome, Severity
from checks.facts.firewall import FirewallFacts, OpenRule
from checks.policy.base import Required
from checks.policy.firewall import AllowedInbound, InboundService

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
    return Outcome.error(why)


def _defaults(facts: FirewallFacts) -> str:
    return "; ".join(f"{d.family} {d.action} ({d.source})" for d in facts.defaults or ())


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
    if facts.active is None:
        return _unreadable(facts, "the firewall state")
    expected = "a host firewall filtering inbound traffic"
    if facts.active:
        tools = ", ".join(facts.tools_active or ()) or "netfilter rules"
        return Outcome.passed(expected, f"active: {tools}", facts.summary or None)
    if not params.required:
        return Outcome.passed("host firewall not required", "no inbound filtering loaded")
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
    if facts.defaults is None or facts.default_inbound is None:
        return _unreadable(facts, "the default inbound action")
    observed = f"default inbound: {_defaults(facts)}"
    if not params.required:
        return Outcome.passed("default deny not required", observed)
    expected = "inbound traffic no rule allows is dropped or rejected, for every address family"
    if facts.default_inbound == "accept":
        return Outcome.failed(expected, observed, evidence=facts.summary or None)
    return Outcome.passed(expected, observed, facts.summary or None)


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


DOMAIN.declare(
    "no_any_any_accept",
    title="No any-to-any accept policy",
    rationale="A policy accepting any source to any destination with any service turns the "
    "firewall into a router and defeats segmentation.",
    severity=Severity.CRITICAL,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 3.2 (no policy uses service ALL)",
    mappings=_FORTIGATE_ISO,
)
DOMAIN.declare(
    "security_profiles",
    title="Internet-bound accept policies carry security profiles",
    rationale="Antivirus, IPS and web filtering only protect traffic of the policies they are "
    "attached to; a policy without them lets malware and exploits through unseen.",
    severity=Severity.HIGH,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 4.1.2 (IPS), 4.2.2 (antivirus)",
    mappings=_FORTIGATE_ISO,
)
DOMAIN.declare(
    "policy_logging",
    title="Every firewall policy logs its traffic",
    rationale="Without traffic logs an incident cannot be reconstructed or its reach "
    "assessed, which a breach notification needs.",
    severity=Severity.MEDIUM,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 3.4 (logging on all policies)",
    mappings=_FORTIGATE_ISO,
)
DOMAIN.declare(
    "security_services_current",
    title="FortiGuard services licensed and definitions current",
    rationale="An expired licence or stale antivirus/IPS definitions silently leave the "
    "security profiles blind to recent threats.",
    severity=Severity.HIGH,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 4.2.1 (antivirus definition updates)",
    mappings=_FORTIGATE_ISO,
)
