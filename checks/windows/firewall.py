"""FirewallFacts of a Windows host: Windows Defender Firewall's profiles and inbound allow rules.

Every enabled inbound allow rule of the effective policy (``-PolicyStore ActiveStore``) is an
open rule, whatever the profiles it applies to (they are named in ``where``); block rules are
not subtracted, so the list can only be wider than what is reachable, never narrower. ICMP rules
and DHCP client replies are not services and are left out, as on Linux.

Remote addresses: ``Any`` is any source; ``LocalSubnet`` (and ``LocalSubnet4``/``6``) stands for
the host's own subnets, which the check reports; other keywords (``Intranet``, ``Internet``,
``DefaultGateway``, ``DNS``…) are taken as any source, so they can fail a policy that lists
sources, never pass one. Port keywords map to their ports (``RPCEPMap`` 135, ``RPC`` the dynamic
range 49152-65535, ``IPHTTPSIn`` 443); an unknown keyword counts as every port.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from checks.facts.firewall import FirewallFacts, FirewallProfile, OpenRule, PortRange
from checks.windows.read import Fields, Unreadable, check, check_rows

__all__ = ["parse"]

_PROFILES = ("Domain", "Private", "Public")
_PORT_KEYWORDS = {"RPCEPMap": (135, 135), "RPC": (49152, 65535), "IPHTTPSIn": (443, 443)}
_PROTOCOLS = {"6": "tcp", "17": "udp", "tcp": "tcp", "udp": "udp"}
_NOT_SERVICES = ("icmpv4", "icmpv6", "1", "58")
_DHCP_CLIENT = (68, 546)


def _profiles(document: Mapping[str, Any]) -> tuple[FirewallProfile, ...]:
    out: list[FirewallProfile] = []
    for row in check_rows(document, "firewall.profiles"):
        enabled = row.text("Enabled")
        inbound = row.text("DefaultInboundAction")
        if enabled not in ("True", "False") or inbound not in ("Block", "Allow", "NotConfigured"):
            raise Unreadable(f"{row.where}: Enabled {enabled!r}, DefaultInboundAction {inbound!r}")
        out.append(
            FirewallProfile(
                name=row.text("Name"),
                enabled=enabled == "True",
                default_inbound="accept" if inbound == "Allow" else "drop",
                inbound_setting=inbound,
            )
        )
    missing = [p for p in _PROFILES if p not in {o.name for o in out}]
    if missing:
        raise Unreadable(f"firewall.profiles: no {', '.join(missing)} profile in the answer")
    return tuple(out)


def _ports(values: tuple[str, ...]) -> tuple[PortRange, ...] | None:
    ranges: list[PortRange] = []
    for value in values:
        if value == "Any":
            return None
        if value in _PORT_KEYWORDS:
            first, last = _PORT_KEYWORDS[value]
        elif value.replace("-", "").isdigit() and value.count("-") <= 1:
            low, _, high = value.partition("-")
            first, last = int(low), int(high or low)
        else:
            return None  # an unknown keyword: count every port
        ranges.append(PortRange(first=first, last=last))
    return tuple(ranges) or None


def _networks(text: str) -> list[str]:
    if "-" in text:  # a range "10.0.0.1-10.0.0.50"
        low, high = (ipaddress.ip_address(p) for p in text.split("-", 1))
        return [str(n) for n in ipaddress.summarize_address_range(low, high)]
    return [str(ipaddress.ip_network(text, strict=False))]


def _sources(values: tuple[str, ...], local: tuple[str, ...]) -> tuple[str, ...] | None:
    out: list[str] = []
    for value in values:
        if value.startswith("LocalSubnet"):
            if not local:
                return None
            out += local
            continue
        try:
            out += _networks(value)
        except ValueError:
            return None  # Any, Internet, Intranet, DNS…: any source, as far as we can tell
    return tuple(dict.fromkeys(out)) or None


def _local_subnets(data: Fields) -> tuple[str, ...]:
    out: list[str] = []
    for text in data.strings("LocalSubnets"):
        address, _, prefix = text.partition("/")
        try:
            out.append(str(ipaddress.ip_interface(f"{address.split('%')[0]}/{prefix}").network))
        except ValueError as exc:
            raise Unreadable(
                f"firewall.rules: LocalSubnets entry {text!r} is not an address"
            ) from exc
    return tuple(dict.fromkeys(out))


def _rule(rule: Fields, local: tuple[str, ...]) -> OpenRule | None:
    raw_protocol = rule.text("Protocol")
    protocol = raw_protocol.lower()
    if protocol in _NOT_SERVICES:
        return None
    ports = _ports(rule.strings("LocalPort"))
    name = _PROTOCOLS.get(protocol, None if protocol == "any" else protocol)
    if name == "udp" and ports and all(p.first == p.last in _DHCP_CLIENT for p in ports):
        return None
    if name is None:
        ports = None  # every protocol: ports do not narrow it
    program = rule.optional_text("Program")
    shown = rule.text("DisplayName") + (
        f", program {program}" if program not in (None, "Any") else ""
    )
    return OpenRule(
        families=("ipv4", "ipv6"),
        protocol=name,
        ports=ports if name in ("tcp", "udp") else None,
        sources=_sources(rule.strings("RemoteAddress"), local),
        tool="windows-firewall",
        where=f"Windows Firewall rule {rule.text('Name')}, profiles {rule.text('Profile')}",
        rule=shown,
    )


def _open(document: Mapping[str, Any]) -> tuple[OpenRule, ...]:
    data = check(document, "firewall.rules")
    local = _local_subnets(data)
    found = (_rule(r, local) for r in data.items("Rules"))
    return tuple(r for r in found if r is not None)


def parse(document: Mapping[str, Any]) -> FirewallFacts:
    problems: list[str] = []
    profiles: tuple[FirewallProfile, ...] | None = None
    rules: tuple[OpenRule, ...] | None = None
    try:
        profiles = _profiles(document)
    except Unreadable as exc:
        problems.append(str(exc))
    try:
        rules = _open(document)
    except Unreadable as exc:
        problems.append(str(exc))
    summary = "; ".join(p.describe() for p in profiles or ())
    return FirewallFacts(
        tools_installed=("windows-firewall",),
        tools_active=("windows-firewall",) if profiles and any(p.enabled for p in profiles) else (),
        active=None if profiles is None else all(p.enabled for p in profiles),
        defaults=None,
        open_inbound=rules,
        summary=summary,
        problems=tuple(problems),
        profiles=profiles,
    )
