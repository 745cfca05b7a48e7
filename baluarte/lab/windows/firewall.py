"""Windows Defender Firewall as the lab host applies it to WinRM: who gets in, and the fix's guard.

Read from the state document's ``firewall.profiles`` and ``firewall.rules`` rows, as the host
would decide a new TCP connection to WinRM (http.sys, the program ``System``) on one profile:
an off profile lets everything in; a Block rule that matches wins; then inbound Allow by
default, or an allow rule that matches (unless the profile ignores allow rules). A condition
the lab cannot know (address keywords such as ``Intranet``, a named interface) never lets a
connection in and always lets a Block rule match. ``LocalSubnet`` is the state's
``LocalSubnets`` for a connection, but never proof for the fix's guard, which judges like
``firewall-profiles.ps1``: what the rule provably admits.

Rows of older states lack some fields: they default to what the older collector implied
(enabled inbound allow rules, no service, package, local address or interface condition).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["admitting_rules", "connection_refusal", "guard_refusal"]

_DEFAULTS: Mapping[str, Any] = {
    "Enabled": "True",
    "Direction": "Inbound",
    "Action": "Allow",
    "Program": "Any",
    "Service": "Any",
    "Package": "",
    "LocalAddress": ["Any"],
    "InterfaceType": "Any",
    "InterfaceAlias": ["Any"],
    "Authentication": "NotRequired",
    "Source": "Local",
}
_TCP = ("tcp", "6", "any")


def _field(rule: Mapping[str, Any], name: str) -> Any:
    value = rule.get(name, _DEFAULTS.get(name))
    return "" if value is None else value


def _texts(rule: Mapping[str, Any], name: str) -> list[str]:
    value = _field(rule, name)
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _any(values: Sequence[str]) -> bool:
    return any(v.lower() == "any" for v in values)


def _within(entry: str, peer: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool | None:
    """``entry`` holds ``peer``; None when it is a keyword the lab cannot resolve."""
    try:
        if "-" in entry:
            low, high = (ipaddress.ip_address(p.strip()) for p in entry.split("-", 1))
            if not low.version == high.version == peer.version:
                return False
            return int(low) <= int(peer) <= int(high)
        network = ipaddress.ip_network(re.sub(r"%[^/]*", "", entry).strip(), strict=False)
        return network.version == peer.version and peer in network
    except ValueError:
        return None


def _sources(
    rule: Mapping[str, Any], peer: str | None, subnets: Sequence[str], proof: bool
) -> bool | None:
    """The rule's remote addresses hold ``peer``: True, False, or None (cannot tell)."""
    entries = _texts(rule, "RemoteAddress")
    if _any(entries):
        return True
    try:
        me = ipaddress.ip_address(peer) if peer else None
    except ValueError:
        me = None
    if me is None:
        return None
    unknown = False
    for entry in entries:
        if entry.startswith("LocalSubnet") and not proof:
            found = [_within(s, me) for s in subnets]
            if any(found):
                return True
            continue
        held = _within(entry, me)
        if held:
            return True
        unknown = unknown or held is None
    return None if unknown else False


def _port(rule: Mapping[str, Any], port: int) -> bool | None:
    unknown = False
    for value in _texts(rule, "LocalPort"):
        if value.lower() == "any":
            return True
        low, dash, high = value.partition("-")
        if low.isdigit() and (high.isdigit() or not dash):
            if int(low) <= port <= int(high or low):
                return True
        else:
            unknown = True
    return None if unknown else False


def _on(rule: Mapping[str, Any], profile: str) -> bool:
    names = [n.strip() for n in str(_field(rule, "Profile")).split(",")]
    return "Any" in names or profile in names


def _live(rule: Mapping[str, Any], action: str) -> bool:
    return (
        str(_field(rule, "Enabled")) == "True"
        and str(_field(rule, "Direction")) == "Inbound"
        and str(_field(rule, "Action")) == action
    )


def _blocks(
    rule: Mapping[str, Any], profile: str, port: int, peer: str | None, subnets: Sequence[str]
) -> bool:
    if not _live(rule, "Block") or not _on(rule, profile):
        return False
    protocol = str(_field(rule, "Protocol")).lower()
    if protocol not in _TCP and (protocol.isdigit() or protocol in ("udp", "icmpv4", "icmpv6")):
        return False
    if _port(rule, port) is False or _sources(rule, peer, subnets, proof=False) is False:
        return False
    program = str(_field(rule, "Program")).lower()
    return program in ("any", "system") or not program.endswith(".exe")


def _admits(
    rule: Mapping[str, Any],
    profile: Mapping[str, Any],
    port: int,
    peer: str | None,
    subnets: Sequence[str],
    proof: bool,
) -> bool:
    if not _live(rule, "Allow") or not _on(rule, str(profile["Name"])):
        return False
    if str(_field(rule, "Protocol")).lower() not in _TCP or _port(rule, port) is not True:
        return False
    if str(_field(rule, "Program")).lower() not in ("any", "system"):
        return False  # WinRM's connections belong to System (http.sys)
    if str(_field(rule, "Service")).lower() != "any" or _field(rule, "Package"):
        return False
    if not (_any(_texts(rule, "LocalAddress")) and _any(_texts(rule, "InterfaceAlias"))):
        return False
    if str(_field(rule, "InterfaceType")) != "Any":
        return False
    if str(_field(rule, "Authentication")) != "NotRequired":
        return False
    local_off = str(profile.get("AllowLocalFirewallRules", "NotConfigured")) == "False"
    if local_off and str(_field(rule, "Source")) != "GroupPolicy":
        return False
    return _sources(rule, peer, subnets, proof) is True


def _refusal(
    doc: Mapping[str, Any],
    profile: Mapping[str, Any],
    port: int,
    peer: str | None,
    *,
    proof: bool,
) -> str | None:
    """Why WinRM from ``peer`` does not get in on ``profile`` (on); None when it does."""
    name = str(profile["Name"])
    data = doc["checks"]["firewall.rules"]["data"]
    rules: list[Mapping[str, Any]] = data["Rules"]
    subnets = [str(s) for s in data.get("LocalSubnets") or ()]
    blocking = [str(r.get("DisplayName")) for r in rules if _blocks(r, name, port, peer, subnets)]
    if blocking:
        return f"{name}: Block rule {', '.join(blocking)} wins over any allow"
    if str(profile.get("DefaultInboundAction")) == "Allow" and not proof:
        return None
    if str(profile.get("AllowInboundRules", "NotConfigured")) == "False":
        return f"{name}: AllowInboundRules False, so no allow rule counts"
    if any(_admits(r, profile, port, peer, subnets, proof) for r in rules):
        return None
    return f"{name}: no rule provably lets WinRM in"


def _readable(doc: Mapping[str, Any]) -> bool:
    checks = doc.get("checks", {})
    return all((checks.get(c) or {}).get("ok") for c in ("firewall.profiles", "firewall.rules"))


def connection_refusal(doc: Mapping[str, Any], profile: str, port: int, peer: str) -> str | None:
    """Why the host refuses a new WinRM connection from ``peer`` on the network's ``profile``;
    None when it lets it in (also when the state's firewall was not readable: not emulated)."""
    if not _readable(doc):
        return None
    rows = {str(p["Name"]): p for p in doc["checks"]["firewall.profiles"]["data"]}
    row = rows.get(profile)
    if row is None:
        return None
    if str(row.get("Enabled")) != "True":
        return None  # an off profile filters nothing
    return _refusal(doc, row, port, peer, proof=False)


def guard_refusal(
    doc: Mapping[str, Any], profiles: Sequence[str], port: int, address: str
) -> list[str]:
    """What ``firewall-profiles.ps1`` finds missing before turning ``profiles`` on with inbound
    Block (each profile judged as if it were on and blocking); [] when it may go ahead."""
    rows = {str(p["Name"]): p for p in doc["checks"]["firewall.profiles"]["data"]}
    problems: list[str] = []
    for name in profiles:
        row = rows.get(name)
        if row is None:
            problems.append(f"{name}: the profile was not found")
            continue
        blocking = {**row, "DefaultInboundAction": "Block"}
        why = _refusal(doc, blocking, port, address or None, proof=True)
        if why is not None:
            problems.append(why)
    return problems


def admitting_rules(
    doc: Mapping[str, Any], profiles: Sequence[str], port: int, address: str
) -> list[str]:
    """The display names of the rules that provably let WinRM in on one of ``profiles``."""
    data = doc["checks"]["firewall.rules"]["data"]
    rows = {str(p["Name"]): p for p in doc["checks"]["firewall.profiles"]["data"]}
    subnets = [str(s) for s in data.get("LocalSubnets") or ()]
    names: list[str] = []
    for rule in data["Rules"]:
        for name in profiles:
            row = rows.get(name)
            if row is not None and _admits(rule, row, port, address or None, subnets, True):
                names.append(str(rule.get("DisplayName")))
                break
    return names
