"""FirewallFacts of a Windows host: Windows Defender Firewall's profiles and inbound allow rules.

Every enabled inbound allow rule of the effective policy (``-PolicyStore ActiveStore``) is an
open rule, whatever the profiles it applies to (they are named in ``where``); block rules are
not subtracted, so the list can only be wider than what is reachable, never narrower. ICMP rules
and DHCP client replies are not services and are left out, as on Linux.

The collector also lists enabled inbound Block rules and every condition of each rule
(program, service, package, local address, interface, IPsec): they become ``windows_rules``, what
the WinRM lockout guard judges. Enum values are taken as names or as the numbers CIM gives. A
document without one of those conditions (an older collector) leaves ``windows_rules`` None,
so the guard refuses rather than guess.

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

from checks.facts.firewall import (
    FirewallFacts,
    FirewallProfile,
    OpenRule,
    PortRange,
    WindowsRule,
)
from checks.windows.read import Fields, Unreadable, check, check_rows

__all__ = ["parse"]

_PROFILES = ("Domain", "Private", "Public")
_PORT_KEYWORDS = {"RPCEPMap": (135, 135), "RPC": (49152, 65535), "IPHTTPSIn": (443, 443)}
_PROTOCOLS = {"6": "tcp", "17": "udp", "tcp": "tcp", "udp": "udp"}
_NOT_SERVICES = ("icmpv4", "icmpv6", "1", "58")
_DHCP_CLIENT = (68, 546)


# CIM's numbers for the enums, when a value comes as a number rather than its name
_GPO_BOOLEAN = {0: "False", 1: "True", 2: "NotConfigured"}
_PROFILE_ACTION = {0: "NotConfigured", 2: "Allow", 4: "Block"}
_RULE_ENABLED = {1: "True", 2: "False"}
_DIRECTION = {1: "Inbound", 2: "Outbound"}
_RULE_ACTION = {2: "Allow", 3: "AllowBypass", 4: "Block"}
_SOURCE = {0: "None", 1: "Local", 2: "GroupPolicy", 3: "Dynamic", 4: "Generated", 5: "Hardcoded"}
_AUTHENTICATION = {0: "NotRequired", 1: "Required", 2: "NoEncap"}
_PROFILE_FLAGS = {1: "Domain", 2: "Private", 4: "Public"}
_INTERFACE_FLAGS = {1: "Wired", 2: "Wireless", 4: "RemoteAccess"}


def _enum(row: Fields, field: str, numbers: Mapping[int, str]) -> str:
    """An enum field as its name, whether it came as the name or as CIM's number."""
    value = row.raw(field)
    if isinstance(value, int) and not isinstance(value, bool) and value in numbers:
        return numbers[value]
    if isinstance(value, str) and value.strip():
        name = value.strip()
        return next((n for n in numbers.values() if n.lower() == name.lower()), name)
    raise Unreadable(f"{row.where}: field '{field}' is {value!r}, expected one of {numbers}")


def _flags(row: Fields, field: str, bits: Mapping[int, str]) -> tuple[str, ...]:
    """A flags enum (Profile, InterfaceType) as names; ("Any",) for 0 or "Any"."""
    value = row.raw(field)
    if isinstance(value, int) and not isinstance(value, bool):
        if value == 0:
            return ("Any",)
        if value & ~sum(bits):
            raise Unreadable(f"{row.where}: field '{field}' is {value!r}, not a known flag set")
        return tuple(name for bit, name in bits.items() if value & bit)
    if isinstance(value, str) and value.strip():
        names = tuple(n.strip() for n in value.split(",") if n.strip())
        known = {n.lower(): n for n in (*bits.values(), "Any")}
        if all(n.lower() in known for n in names):
            return tuple(known[n.lower()] for n in names)
    raise Unreadable(f"{row.where}: field '{field}' is {value!r}, expected Any or flag names")


def _gpo_boolean(row: Fields, field: str) -> bool | None:
    """A GpoBoolean (NotConfigured is Windows' default, True); None when the field is absent."""
    if field not in row.data:
        return None  # an older collector did not report it
    value = _enum(row, field, _GPO_BOOLEAN)
    if value not in ("True", "False", "NotConfigured"):
        raise Unreadable(f"{row.where}: field '{field}' is {value!r}, expected True or False")
    return value != "False"


def _profiles(document: Mapping[str, Any]) -> tuple[FirewallProfile, ...]:
    out: list[FirewallProfile] = []
    for row in check_rows(document, "firewall.profiles"):
        enabled = _enum(row, "Enabled", _GPO_BOOLEAN)
        inbound = _enum(row, "DefaultInboundAction", _PROFILE_ACTION)
        if enabled not in ("True", "False") or inbound not in ("Block", "Allow", "NotConfigured"):
            raise Unreadable(f"{row.where}: Enabled {enabled!r}, DefaultInboundAction {inbound!r}")
        out.append(
            FirewallProfile(
                name=row.text("Name"),
                enabled=enabled == "True",
                default_inbound="accept" if inbound == "Allow" else "drop",
                inbound_setting=inbound,
                allow_inbound_rules=_gpo_boolean(row, "AllowInboundRules"),
                allow_local_rules=_gpo_boolean(row, "AllowLocalFirewallRules"),
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


def _allows(rule: Fields) -> bool:
    """An enabled inbound allow rule (an older collector listed only those, without saying)."""
    said = {
        "Enabled": (_RULE_ENABLED, "True"),
        "Direction": (_DIRECTION, "Inbound"),
        "Action": (_RULE_ACTION, "Allow"),
    }
    return all(
        field not in rule.data or _enum(rule, field, numbers) == wanted
        for field, (numbers, wanted) in said.items()
    )


def _open(document: Mapping[str, Any]) -> tuple[OpenRule, ...]:
    data = check(document, "firewall.rules")
    local = _local_subnets(data)
    found = (_rule(r, local) for r in data.items("Rules") if _allows(r))
    return tuple(r for r in found if r is not None)


def _wide_open(profiles: tuple[FirewallProfile, ...]) -> tuple[OpenRule, ...]:
    """Every port from any source, for each profile that is off or allows inbound by default."""
    out: list[OpenRule] = []
    for p in profiles:
        if p.enabled and p.default_inbound != "accept":
            continue
        why = "off" if not p.enabled else "inbound Allow by default"
        out.append(
            OpenRule(
                families=("ipv4", "ipv6"),
                protocol=None,
                ports=None,
                sources=None,
                tool="windows-firewall",
                where=f"Windows Firewall profile {p.name}",
                rule=why,
            )
        )
    return tuple(out)


def _texts(rule: Fields, field: str) -> tuple[str, ...]:
    values = rule.strings(field)
    if not values:
        raise Unreadable(f"{rule.where}: field '{field}' is empty")
    return values


def _windows_rule(rule: Fields) -> WindowsRule | None:
    """Every condition of one rule; None for a disabled or outbound one (they decide nothing)."""
    if _enum(rule, "Enabled", _RULE_ENABLED) != "True":
        return None
    if _enum(rule, "Direction", _DIRECTION) != "Inbound":
        return None
    return WindowsRule(
        name=rule.text("Name"),
        display_name=rule.optional_text("DisplayName") or rule.text("Name"),
        action=_enum(rule, "Action", _RULE_ACTION),
        profiles=_flags(rule, "Profile", _PROFILE_FLAGS),
        protocol=rule.text("Protocol"),
        local_ports=_texts(rule, "LocalPort"),
        remote_addresses=_texts(rule, "RemoteAddress"),
        local_addresses=_texts(rule, "LocalAddress"),
        program=rule.text("Program"),
        service=rule.text("Service"),
        package=rule.optional_text("Package") or "",
        interface_types=_flags(rule, "InterfaceType", _INTERFACE_FLAGS),
        interfaces=_texts(rule, "InterfaceAlias"),
        authentication=_enum(rule, "Authentication", _AUTHENTICATION),
        source=_enum(rule, "Source", _SOURCE),
    )


def _windows_rules(document: Mapping[str, Any]) -> tuple[WindowsRule, ...]:
    found = (_windows_rule(r) for r in check(document, "firewall.rules").items("Rules"))
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
    if rules is not None:
        # a profile that is off, or lets inbound in by default, opens every port whatever the
        # rules say; with the profiles unread, the rules alone cannot show what is open
        rules = None if profiles is None else _wide_open(profiles) + rules
    windows: tuple[WindowsRule, ...] | None = None
    windows_problem = ""
    try:
        windows = _windows_rules(document)
    except Unreadable as exc:  # the open rules may still be read; the guard will refuse
        windows_problem = str(exc)
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
        windows_rules=windows,
        windows_rules_problem=windows_problem,
    )
