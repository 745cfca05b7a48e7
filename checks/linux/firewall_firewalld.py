"""Parse firewalld's own view (``firewall-cmd --list-all-zones``) into netfilter chains.

firewalld's nft table (``inet firewalld``) is read through its zones rather than rule by
rule: services, ports, protocols and accept rich rules of every zone traffic can land in,
and the zone's target for everything else. Service ports come from the service definitions
(``/etc/firewalld/services`` overriding ``/usr/lib/firewalld/services``).
firewalld is not installed in the lab image: this parser is tested on recorded output only.
"""

from __future__ import annotations

import ipaddress
import re

from checks.facts.firewall import Family
from checks.linux.firewall_netfilter import Chain, Match, Rule, parse_ports

__all__ = ["parse_services", "parse_zones"]

_ZONE = re.compile(r"^(\S+)(?:\s+\(([^)]*)\))?\s*$")
_TARGETS = {"default": "reject", "%%REJECT%%": "reject", "REJECT": "reject", "DROP": "drop"}
_CLIENT_PORTS = {("udp", 68), ("udp", 546)}  # DHCP clients: replies to the host's requests


def parse_zones(text: str) -> tuple[list[dict[str, str]], str | None]:
    """Zones as ``key -> value`` dicts (with ``name`` and ``flags``), and the default zone."""
    zones: list[dict[str, str]] = []
    default: str | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            m = _ZONE.match(line)
            if not m:
                raise ValueError(f"firewall-cmd: unexpected zone header {line[:60]!r}")
            zones.append({"name": m[1], "flags": m[2] or ""})
            if "default" in (m[2] or ""):
                default = m[1]
            continue
        if not zones:
            raise ValueError("firewall-cmd: zone settings before any zone")
        key, sep, value = line.strip().partition(":")
        if sep:
            zones[-1][key.strip()] = value.strip()
        elif key.startswith("rule "):  # rich rules continue on their own lines
            zones[-1]["rich rules"] = (zones[-1].get("rich rules", "") + "\n" + key).strip()
    if not zones:
        raise ValueError("firewall-cmd --list-all-zones listed no zone")
    return zones, default


def parse_services(text: str) -> dict[str, list[tuple[str, tuple[int, int]]]]:
    """``== NAME`` then the service's XML → {name: [(protocol, port range)]}."""
    out: dict[str, list[tuple[str, tuple[int, int]]]] = {}
    name = ""
    for line in text.splitlines():
        if line.startswith("== "):
            name = line[3:].strip()
            out[name] = []
            continue
        for m in re.finditer(r"<port\s+([^>]*)/?>", line):
            attrs = dict(re.findall(r'(\w+)="([^"]*)"', m[1]))
            if attrs.get("port") and attrs.get("protocol"):
                out[name].extend((attrs["protocol"], r) for r in parse_ports(attrs["port"]))
    return out


def _rich(rule: str, services: dict[str, list[tuple[str, tuple[int, int]]]]) -> list[Rule]:
    """Accept rich rules → rules; drop/reject rich rules never open anything."""
    if not re.search(r"\baccept\b", rule):
        return []
    # "source NOT address=…" accepts everyone else: as open as any source
    source = re.search(r'source address="([^"]+)"', rule)
    sources = (ipaddress.ip_network(source[1], strict=False),) if source else None
    out: list[Rule] = []
    port = re.search(r'port port="([^"]+)" protocol="(\w+)"', rule)
    service = re.search(r'service name="([^"]+)"', rule)
    entries: list[tuple[str | None, tuple[tuple[int, int], ...] | None]] = []
    if port:
        entries.append((port[2], parse_ports(port[1])))
    elif service:
        entries.extend((p, (r,)) for p, r in services.get(service[1], []))
    elif re.search(r"\b(icmp-block|icmp-type|forward-port|masquerade)\b", rule):
        return []
    else:
        entries.append((None, None))  # e.g. rule family=ipv4 source address=… accept
    family = re.search(r'family="(ipv4|ipv6)"', rule)
    fam: Family | None = "ipv4" if family and family[1] == "ipv4" else None
    if family and family[1] == "ipv6":
        fam = "ipv6"
    for proto, ports in entries:
        match = Match(protocol=proto, dports=ports, sources=sources, family=fam)
        out.append(Rule(match, "accept", rule))
    return out


def zone_chains(
    zones: list[dict[str, str]],
    default: str | None,
    services: dict[str, list[tuple[str, tuple[int, int]]]],
) -> list[Chain]:
    """One inbound base chain dispatching to the zones traffic can land in."""
    base = Chain(
        name="INPUT_ZONES",
        tool="firewalld",
        where="firewalld chain INPUT_ZONES",
        family=None,
        hook_input=True,
        policy="accept",
    )
    chains = [base]
    for zone in zones:
        name = zone["name"]
        is_default = name == default
        nets = tuple(ipaddress.ip_network(s, strict=False) for s in zone.get("sources", "").split())
        ifaces = zone.get("interfaces", "").split()
        if not (is_default or nets or ifaces):
            continue  # a zone nothing is bound to sees no traffic
        chain = Chain(
            name=f"zone_{name}", tool="firewalld", where=f"firewalld chain zone_{name}", family=None
        )
        for service in zone.get("services", "").split():
            for proto, rng in services.get(service, []):
                if (proto, rng[0]) in _CLIENT_PORTS and rng[0] == rng[1]:
                    continue
                text = f"zone {name}: service {service} ({rng[0]}/{proto})"
                chain.rules.append(Rule(Match(protocol=proto, dports=(rng,)), "accept", text))
            if service not in services:
                text = f"zone {name}: service {service} (definition not found)"
                chain.rules.append(Rule(Match(unknown=("service",)), "accept", text))
        for spec in zone.get("ports", "").split():
            port, _, proto = spec.partition("/")
            text = f"zone {name}: port {spec}"
            chain.rules.append(
                Rule(Match(protocol=proto, dports=parse_ports(port)), "accept", text)
            )
        for proto in zone.get("protocols", "").split():
            text = f"zone {name}: protocol {proto}"
            chain.rules.append(Rule(Match(protocol=proto), "accept", text))
        for rich in zone.get("rich rules", "").splitlines():
            chain.rules.extend(_rich(rich.strip(), services))
        target = zone.get("target", "default")
        verdict = _TARGETS.get(target, "accept")
        chain.rules.append(Rule(Match(), verdict, f"zone {name}: target {target}"))  # type: ignore[arg-type]
        chains.append(chain)
        # source-bound zones first, then interface-bound, then the default zone catches the rest
        if nets:
            text = "sources " + " ".join(str(n) for n in nets)
            base.rules.insert(0, Rule(Match(sources=nets), "goto", text, chain.name))
        for iface in [] if is_default else ifaces:  # the catch-all below covers the default
            base.rules.append(
                Rule(Match(interface=iface), "goto", f"interface {iface}", chain.name)
            )
    if default is not None and any(c.name == f"zone_{default}" for c in chains):
        base.rules.append(Rule(Match(), "goto", f"default zone {default}", f"zone_{default}"))
    return chains
