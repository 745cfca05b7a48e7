"""Windows Defender Firewall: every profile on, inbound Block — unless it would cut WinRM.

``firewall.enabled`` and ``firewall.default_inbound_deny`` plan the same change: the profiles
that are off or allow inbound by default get ``-Enabled True -DefaultInboundAction Block``.

LOCKOUT GUARD (plan time, from the firewall.rules facts): an enabled inbound allow rule must let
Baluarte's WinRM connection in — TCP on the device's WinRM port, from the address Baluarte
connects from, in every profile the change starts filtering — or the remedy is refused. The fix
script checks again on the host and never touches the WinRM service or any rule.
"""

from __future__ import annotations

import ipaddress
import socket

from baluarte.remediation import Manual, Refused, Remedy, RemedyContext
from checks.facts.firewall import FirewallFacts, OpenRule
from checks.policy.base import Required
from deploys.common import needed, state_diff
from deploys.windows.fixes import fix_script

__all__ = ["Address", "baluarte_address", "default_inbound_deny", "enabled", "winrm_guard"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_SUMMARY = "Windows Defender Firewall on with inbound Block for {profiles}"


def _port(ctx: RemedyContext) -> int:
    winrm = ctx.device.winrm
    return ctx.device.port or (5986 if winrm is None or winrm.https else 5985)


def baluarte_address(ctx: RemedyContext) -> Address | None:
    """The address Baluarte's WinRM connection comes from, as the host sees it.

    The collector's ``identity.peer`` when it reported one; else the local address the routing
    table picks for the device (a UDP socket's connect sends nothing). None when unknown.
    """
    peer = ctx.collected.identity.peer.strip().removeprefix("::ffff:")
    if peer:
        try:
            return ipaddress.ip_address(peer)
        except ValueError:
            return None
    try:
        info = socket.getaddrinfo(ctx.device.address, _port(ctx), type=socket.SOCK_DGRAM)
        family, _, _, _, where = info[0]
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(where)
            return ipaddress.ip_address(probe.getsockname()[0])
    except (OSError, ValueError, IndexError):
        return None


def _rule_profiles(rule: OpenRule) -> set[str] | None:
    """The profiles a Windows rule applies to; None: all (``where`` is "…, profiles Any")."""
    _, found, names = rule.where.rpartition(", profiles ")
    if not found or names.strip() == "Any":
        return None
    return {n.strip() for n in names.split(",") if n.strip()}


def _covers(rule: OpenRule, port: int, me: Address | None, profiles: set[str]) -> bool:
    if rule.protocol not in (None, "tcp"):
        return False
    if rule.ports is not None and not any(r.first <= port <= r.last for r in rule.ports):
        return False
    applies = _rule_profiles(rule)
    if applies is not None and not profiles <= applies:
        return False
    if rule.sources is None:
        return True
    if me is None:
        return False
    for source in rule.sources:
        try:
            if me in ipaddress.ip_network(source, strict=False):
                return True
        except (ValueError, TypeError):  # TypeError: IPv4 address against an IPv6 network
            continue
    return False


def winrm_guard(
    rules: tuple[OpenRule, ...] | None, port: int, me: Address | None, profiles: list[str]
) -> str | None:
    """Why turning ``profiles`` on with inbound Block would cut WinRM; None when it would not."""
    if rules is None:
        return (
            "the firewall rules could not be read, so nothing shows that WinRM (TCP "
            f"{port}) stays reachable once the firewall blocks inbound connections"
        )
    wanted = set(profiles)
    if any(_covers(r, port, me, wanted) for r in rules):
        return None
    who = str(me) if me is not None else "Baluarte's address (unknown)"
    near = [r.rule for r in rules if _port_only(r, port)]
    seen = f"; rules for the port: {', '.join(near)}" if near else ""
    return (
        f"no enabled inbound allow rule lets WinRM (TCP {port}) in from {who} in the "
        f"{', '.join(profiles)} profile{'s' if len(profiles) > 1 else ''}{seen}: turning the "
        "firewall on with inbound Block would lock Baluarte out. Add such a rule first (e.g. "
        f"New-NetFirewallRule -Direction Inbound -Protocol TCP -LocalPort {port} "
        "-RemoteAddress <Baluarte's address> -Action Allow -Profile Any)."
    )


def _port_only(rule: OpenRule, port: int) -> bool:
    return rule.protocol in (None, "tcp") and (
        rule.ports is None or any(r.first <= port <= r.last for r in rule.ports)
    )


def _profiles(facts: FirewallFacts, ctx: RemedyContext) -> Remedy | Manual | Refused:
    profiles = facts.profiles
    assert profiles is not None  # the evaluator failed on them: they were read
    wrong = [p for p in profiles if not p.enabled or p.default_inbound == "accept"]
    names = [p.name for p in wrong]
    summary = _SUMMARY.format(profiles=", ".join(names))
    port = _port(ctx)
    refusal = winrm_guard(facts.open_inbound, port, baluarte_address(ctx), names)
    if refusal is not None:
        return Refused(summary=summary, reason=refusal)
    before = [p.describe() for p in profiles]
    after = [f"{p.name} on, inbound Block" if p in wrong else p.describe() for p in profiles]
    return Remedy(
        summary=summary,
        before="; ".join(before),
        after="; ".join(after),
        diff=state_diff("Windows Defender Firewall profiles", before, after),
        script=fix_script("firewall-profiles"),
        parameters={"Profiles": names, "WinrmPort": port},
    )


def enabled(
    facts: FirewallFacts, params: Required, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("firewall.enabled", facts, params, ctx)
    if state is not True:
        return state
    return _profiles(facts, ctx)


def default_inbound_deny(
    facts: FirewallFacts, params: Required, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("firewall.default_inbound_deny", facts, params, ctx)
    if state is not True:
        return state
    return _profiles(facts, ctx)
