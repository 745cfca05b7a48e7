"""Windows Defender Firewall: every profile on, inbound Block — unless it would cut WinRM.

``firewall.enabled`` and ``firewall.default_inbound_deny`` plan the same change: the profiles
that are off or allow inbound by default get ``-Enabled True -DefaultInboundAction Block``.

LOCKOUT GUARD (plan time, from the firewall facts; ``firewall_guard``): in every profile the
change starts filtering, an enabled inbound allow rule must provably let Baluarte's WinRM
connection in — TCP on the device's WinRM port, from the address Baluarte connects from, for the
program System, with no condition Baluarte cannot prove — the profile must honour allow rules
and no Block rule may match; otherwise the remedy is refused, saying what is missing. The fix
script judges again on the host before changing anything and never touches the WinRM service or
any rule.
"""

from __future__ import annotations

import ipaddress
import socket

from baluarte.remediation import Manual, Refused, Remedy, RemedyContext
from checks.facts.firewall import FirewallFacts
from checks.policy.base import Required
from checks.windows.collector import winrm_port
from deploys.common import needed, state_diff
from deploys.windows import firewall_guard
from deploys.windows.firewall_guard import Address
from deploys.windows.fixes import fix_script

__all__ = ["Address", "baluarte_address", "default_inbound_deny", "enabled", "winrm_guard"]

_SUMMARY = "turn on Windows Defender Firewall and block inbound by default ({profiles})"


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
        info = socket.getaddrinfo(
            ctx.device.address, winrm_port(ctx.device), type=socket.SOCK_DGRAM
        )
        family, _, _, _, where = info[0]
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(where)
            return ipaddress.ip_address(probe.getsockname()[0])
    except (OSError, ValueError, IndexError):
        return None


def winrm_guard(
    facts: FirewallFacts, port: int, me: Address | None, profiles: list[str]
) -> str | None:
    """Why turning ``profiles`` on with inbound Block could cut WinRM; None when it cannot."""
    return firewall_guard.refusal(
        facts.windows_rules, facts.windows_rules_problem, facts.profiles or (), profiles, port, me
    )


def _profiles(facts: FirewallFacts, ctx: RemedyContext) -> Remedy | Manual | Refused:
    profiles = facts.profiles
    assert profiles is not None  # the evaluator failed on them: they were read
    wrong = [p for p in profiles if not p.enabled or p.default_inbound == "accept"]
    names = [p.name for p in wrong]
    summary = _SUMMARY.format(profiles=", ".join(names))
    port = winrm_port(ctx.device)
    me = baluarte_address(ctx)
    refusal = winrm_guard(facts, port, me, names)
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
        # the host judges again with the same inputs; "" (unknown) proves only RemoteAddress Any
        parameters={
            "Profiles": names,
            "WinrmPort": port,
            "BaluarteAddress": str(me) if me is not None else "",
        },
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
