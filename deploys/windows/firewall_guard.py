"""The WinRM lockout guard: whether Windows Defender Firewall provably lets Baluarte's WinRM in.

WinRM listens through http.sys, so its connections belong to the program ``System`` and to no
service or app package. An allow rule proves WinRM gets in on a profile only when every one of
its conditions is known to match that connection: TCP (or any protocol) to the WinRM port (or
Any), program Any or System, service Any, no package, the profile (or Any), remote address Any
or a network or range holding Baluarte's address, local address, interface and interface type
Any, no IPsec requirement, and, where a Group Policy turns local rules off, a Group Policy rule.
Keywords (``LocalSubnet``, ``Intranet``, ``DNS``, ``DefaultGateway``…) prove nothing: they stand
for addresses Baluarte does not know. Then nothing may take it away: the profile must honour
allow rules (``AllowInboundRules``) and no enabled inbound Block rule that could match the
connection may exist (Block wins over Allow). Anything unknown refuses: never a guess.

``fix-firewall-profiles`` runs the same judgement on the host before it changes anything.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from checks.facts.firewall import FirewallProfile, WindowsRule

__all__ = ["Address", "admits", "blocks", "refusal"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_TCP = ("tcp", "6", "any")


def _within(entry: str, me: Address) -> bool:
    """``entry`` (an address, a network in either mask form, or a range) holds ``me``."""
    try:
        if "-" in entry:
            low, high = (ipaddress.ip_address(p.strip()) for p in entry.split("-", 1))
            same = low.version == me.version == high.version
            return same and int(low) <= int(me) <= int(high)
        return me in ipaddress.ip_network(entry.strip(), strict=False)
    except (ValueError, TypeError):  # a keyword, or another address family
        return False


def _port_listed(ports: Sequence[str], port: int) -> bool:
    for value in ports:
        if value.lower() == "any":
            return True
        low, dash, high = value.partition("-")
        numeric = low.isdigit() and (high.isdigit() or not dash)
        if numeric and int(low) <= port <= int(high or low):
            return True
    return False


def _any(values: Sequence[str]) -> bool:
    return any(v.lower() == "any" for v in values)


def _on(rule: WindowsRule, profile: str) -> bool:
    return _any(rule.profiles) or profile in rule.profiles


def admits(rule: WindowsRule, profile: FirewallProfile, port: int, me: Address | None) -> list[str]:
    """Why ``rule`` does not prove WinRM gets in on ``profile``; [] when it does."""
    why: list[str] = []
    if rule.action != "Allow":
        why.append(f"action {rule.action}")
    if rule.protocol.lower() not in _TCP:
        why.append(f"protocol {rule.protocol}")
    if not _port_listed(rule.local_ports, port):
        why.append(f"local port {', '.join(rule.local_ports)}")
    if rule.program.lower() not in ("any", "system"):
        why.append(f"program {rule.program} (WinRM is System)")
    if rule.service.lower() != "any":
        why.append(f"service {rule.service}")
    if rule.package:
        why.append(f"app package {rule.package}")
    if not _on(rule, profile.name):
        why.append(f"profiles {', '.join(rule.profiles)}")
    if not _any(rule.remote_addresses) and not (
        me is not None and any(_within(a, me) for a in rule.remote_addresses)
    ):
        who = str(me) if me is not None else "Baluarte's address (unknown)"
        why.append(f"remote address {', '.join(rule.remote_addresses)} does not prove {who}")
    if not _any(rule.local_addresses):
        why.append(f"local address {', '.join(rule.local_addresses)}")
    if not _any(rule.interface_types):
        why.append(f"interface type {', '.join(rule.interface_types)}")
    if not _any(rule.interfaces):
        why.append(f"interfaces {', '.join(rule.interfaces)}")
    if rule.authentication != "NotRequired":
        why.append(f"IPsec authentication {rule.authentication}")
    if profile.allow_local_rules is not True and rule.source != "GroupPolicy":
        if profile.allow_local_rules is None:
            why.append("whether local rules count is unknown")
        else:
            why.append(f"a {rule.source} rule, and a Group Policy turns local rules off")
    return why


def blocks(rule: WindowsRule, profile: str, port: int, me: Address | None) -> bool:
    """An enabled inbound Block rule that could match WinRM's connection on ``profile``.

    It is ruled out only by what provably differs: protocol, port, profile, remote addresses
    that are all networks without Baluarte's address, or a program path other than System.
    """
    if rule.action != "Block" or not _on(rule, profile):
        return False
    protocol = rule.protocol.lower()
    if protocol not in _TCP and (protocol.isdigit() or protocol in ("udp", "icmpv4", "icmpv6")):
        return False
    numeric = all(_port_listed([p], 0) or p.replace("-", "").isdigit() for p in rule.local_ports)
    if rule.local_ports and numeric and not _port_listed(rule.local_ports, port):
        return False  # keyword ports (RPC…) are not ruled out
    if me is not None and not _any(rule.remote_addresses):
        networks = [a for a in rule.remote_addresses if _is_network(a)]
        if len(networks) == len(rule.remote_addresses) and not any(
            _within(a, me) for a in networks
        ):
            return False
    program = rule.program.lower()
    return program in ("any", "system") or not program.endswith(".exe")


def _is_network(entry: str) -> bool:
    try:
        if "-" in entry:
            for part in entry.split("-", 1):
                ipaddress.ip_address(part.strip())
        else:
            ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return False
    return True


def refusal(
    rules: tuple[WindowsRule, ...] | None,
    rules_problem: str,
    profiles: Sequence[FirewallProfile],
    names: Sequence[str],
    port: int,
    me: Address | None,
) -> str | None:
    """Why inbound Block on the ``names`` profiles could cut WinRM (TCP ``port`` from ``me``);
    None when every one of them provably keeps it reachable."""
    if rules is None:
        why = rules_problem or "the firewall rules could not be read"
        return f"{why}: nothing shows that WinRM (TCP {port}) stays reachable"
    problems: list[str] = []
    by_name = {p.name: p for p in profiles}
    for name in names:
        profile = by_name.get(name)
        if profile is None:
            problems.append(f"{name}: the profile was not reported")
            continue
        if profile.allow_inbound_rules is not True:
            said = "not reported" if profile.allow_inbound_rules is None else "False"
            problems.append(f"{name}: AllowInboundRules {said}, so no allow rule counts")
            continue
        blocking = [r.label() for r in rules if blocks(r, name, port, me)]
        if blocking:
            problems.append(f"{name}: Block rule {', '.join(blocking[:3])} wins over any allow")
            continue
        reasons = {r.label(): admits(r, profile, port, me) for r in rules}
        if any(not why for why in reasons.values()):
            continue
        near = [
            f"{label}: {'; '.join(why)}"
            for label, why in reasons.items()
            if not any(w.startswith(("action", "protocol", "local port")) for w in why)
        ]
        shown = f" (rules for the port: {' | '.join(near[:4])})" if near else ""
        problems.append(f"{name}: no rule provably lets WinRM in{shown}")
    if not problems:
        return None
    who = str(me) if me is not None else "Baluarte's address (unknown)"
    return (
        f"WinRM (TCP {port}) from {who} is not provably let in: {'; '.join(problems)}. "
        "Turning the firewall on with inbound Block would lock Baluarte out. Add such a rule "
        f"first (e.g. New-NetFirewallRule -Direction Inbound -Protocol TCP -LocalPort {port} "
        "-RemoteAddress <Baluarte's address> -Program System -Action Allow -Profile Any)."
    )
