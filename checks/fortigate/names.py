"""What the names in a FortiGate policy stand for: addresses, groups, VIPs and services.

A policy refers to objects by name; only their tables say whether ``LAN`` is a subnet, a group
holding ``all``, or a VIP forwarding a port. Look-up tables are read only when a name needs them
(see ``endpoints.py``), so a name found in no table read raises ``Unreadable`` saying which
tables were tried and why the others could not be.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from checks.facts.firewall import PortRange
from checks.fortigate.read import Fields, Unreadable, rows
from checks.fortigate.snapshot import FortiSnapshot

__all__ = ["AddressSet", "Family", "Names", "ServiceSet", "Vip"]

Family = Literal["ipv4", "ipv6"]
Ports = tuple[PortRange, ...] | None  # None: every port
_TABLES: dict[Family, tuple[str, ...]] = {
    "ipv4": ("firewall/address", "firewall/addrgrp", "firewall/vip", "firewall/vipgrp"),
    "ipv6": ("firewall/address6", "firewall/addrgrp6"),
}
_SERVICES = ("firewall.service/custom", "firewall.service/group")


@dataclass(frozen=True)
class Vip:
    """A virtual IP: traffic to ``extip`` (port ``extport``) is sent on to ``mappedip``."""

    name: str
    extip: str
    mapped: str
    portforward: bool
    protocol: str = ""  # tcp | udp | sctp | icmp, when forwarding a port
    extport: PortRange | None = None
    mappedport: str = ""

    def describe(self) -> str:
        if not self.portforward:
            return f"VIP {self.name} {self.extip} → {self.mapped}"
        return (
            f"VIP {self.name} {self.extip}:{self.extport}/{self.protocol} → "
            f"{self.mapped}:{self.mappedport}"
        )


@dataclass(frozen=True)
class AddressSet:
    """What a list of address names covers."""

    every: bool = False  # every address of the family (all, 0.0.0.0/0, ::/0)
    nets: tuple[str, ...] = ()  # fixed networks (CIDR)
    other: tuple[str, ...] = ()  # members that are no fixed network: "fqdn example.com"
    vips: tuple[Vip, ...] = ()

    def __or__(self, other: AddressSet) -> AddressSet:
        return AddressSet(
            self.every or other.every,
            self.nets + other.nets,
            self.other + other.other,
            self.vips + other.vips,
        )

    @property
    def plain(self) -> bool:
        """Holds something other than VIPs (a destination reached on the policy's services)."""
        return self.every or bool(self.nets) or bool(self.other)


@dataclass(frozen=True)
class ServiceSet:
    """What a list of service names lets through: (protocol, ports) pairs."""

    every: bool = False  # every protocol and port (protocol ALL, or IP protocol 0)
    ports: tuple[tuple[str | None, Ports], ...] = field(default=())

    def __or__(self, other: ServiceSet) -> ServiceSet:
        return ServiceSet(self.every or other.every, self.ports + other.ports)


def _network(text: str, where: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """``"192.0.2.0 255.255.255.0"`` or ``"2001:db8::/32"`` as a network."""
    try:
        return ipaddress.ip_network("/".join(text.split()), strict=False)
    except ValueError as exc:
        raise Unreadable(f"{where}: {text!r} is not an address and mask") from exc


def _ranges(text: str, where: str) -> tuple[PortRange, ...]:
    """``"443 8443-8445:1024-65535"``: destination ranges (a source range follows a colon)."""
    out: list[PortRange] = []
    for item in text.split():
        dst = item.split(":")[0]
        low, _, high = dst.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise Unreadable(f"{where}: port range {item!r} is not understood")
        out.append(PortRange(first=max(int(low), 1), last=max(int(high or low), 1)))
    return tuple(out)


class Names:
    """Resolves address and service names against the tables of one snapshot."""

    def __init__(self, snapshot: FortiSnapshot) -> None:
        self.snapshot = snapshot
        self._tables: dict[str, dict[str, Fields] | Unreadable] = {}

    def _table(self, path: str) -> dict[str, Fields]:
        if path not in self._tables:
            try:
                self._tables[path] = {r.text("name"): r for r in rows(self.snapshot, path)}
            except Unreadable as exc:
                self._tables[path] = exc
        table = self._tables[path]
        if isinstance(table, Unreadable):
            raise table
        return table

    def _find(self, name: str, tables: tuple[str, ...], what: str) -> tuple[str, Fields]:
        """The first table (in order) holding ``name``; the first table must be readable."""
        why: list[str] = []
        for i, path in enumerate(tables):
            try:
                table = self._table(path)
            except Unreadable as exc:
                if i == 0:
                    raise
                why.append(str(exc))
                continue
            if name in table:
                return path, table[name]
        tried = ", ".join(tables)
        more = f" ({'; '.join(why)})" if why else ""
        raise Unreadable(f"{what} {name!r} is in none of {tried}{more}")

    def addresses(self, names: Iterable[str], family: Family) -> AddressSet:
        out = AddressSet()
        for name in names:
            out |= self._address(name, family, ())
        return out

    def _address(self, name: str, family: Family, seen: tuple[str, ...]) -> AddressSet:
        if name in seen:
            raise Unreadable(f"address group loop: {' → '.join((*seen, name))}")
        path, row = self._find(name, _TABLES[family], f"{family} address")
        if path in ("firewall/addrgrp", "firewall/addrgrp6", "firewall/vipgrp"):
            members = AddressSet()
            for member in row.names("member"):
                members |= self._address(member, family, (*seen, name))
            if path != "firewall/vipgrp" and row.on("exclude") and row.names("exclude-member"):
                # minus its exclusions the group is not everything; its sources stay a superset
                return AddressSet(False, members.nets, members.other, members.vips)
            return members
        if path == "firewall/vip":
            return AddressSet(vips=(self._vip(row),))
        return self._plain(name, row, family)

    def _plain(self, name: str, row: Fields, family: Family) -> AddressSet:
        kind = row.text("type")
        if kind in ("ipmask", "ipprefix"):
            net = _network(row.text("subnet" if family == "ipv4" else "ip6"), row.where)
            return AddressSet(every=net.prefixlen == 0, nets=(str(net),))
        if kind == "iprange":
            first = ipaddress.ip_address(row.text("start-ip"))
            last = ipaddress.ip_address(row.text("end-ip"))
            try:
                nets = tuple(str(n) for n in ipaddress.summarize_address_range(first, last))
            except (TypeError, ValueError) as exc:
                raise Unreadable(f"{row.where}: range {first}-{last} is not understood") from exc
            return AddressSet(every=any(n.endswith("/0") for n in nets), nets=nets)
        detail = {"fqdn": "fqdn", "geography": "country", "wildcard-fqdn": "wildcard-fqdn"}
        shown = f" {row.text(detail[kind])}" if kind in detail else ""
        return AddressSet(other=(f"{name} ({kind}{shown})",))

    def _vip(self, row: Fields) -> Vip:
        name = row.text("name")
        mapped = ", ".join(m.text("range") for m in row.members("mappedip"))
        if not row.on("portforward"):
            return Vip(name, row.text("extip"), mapped, portforward=False)
        ext = _ranges(row.text("extport"), row.where)
        if len(ext) != 1:
            raise Unreadable(f"{row.where}: extport {row.text('extport')!r} is not one range")
        return Vip(
            name,
            row.text("extip"),
            mapped,
            portforward=True,
            protocol=row.text("protocol"),
            extport=ext[0],
            mappedport=row.text("mappedport"),
        )

    def services(self, names: Iterable[str]) -> ServiceSet:
        out = ServiceSet()
        for name in names:
            out |= self._service(name, ())
        return out

    def _service(self, name: str, seen: tuple[str, ...]) -> ServiceSet:
        if name in seen:
            raise Unreadable(f"service group loop: {' → '.join((*seen, name))}")
        path, row = self._find(name, _SERVICES, "service")
        if path == "firewall.service/group":
            out = ServiceSet()
            for member in row.names("member"):
                out |= self._service(member, (*seen, name))
            return out
        return _custom(row)


def _custom(row: Fields) -> ServiceSet:
    protocol = row.text("protocol")
    if protocol == "ALL":
        return ServiceSet(every=True, ports=((None, None),))
    if protocol in ("ICMP", "ICMP6"):
        return ServiceSet()  # not a service a port check is about (as on Linux)
    if protocol == "IP":
        number = row.number("protocol-number")
        named = {0: None, 6: "tcp", 17: "udp"}
        proto = named[number] if number in named else str(number)
        return ServiceSet(every=number == 0, ports=((proto, None),))
    # TCP/UDP/SCTP (7.4+: TCP/UDP/UDP-Lite/SCTP); explicit-proxy services carry tcp ranges
    fields = {"tcp": "tcp-portrange"}
    if protocol.startswith("TCP/UDP"):
        fields |= {"udp": "udp-portrange", "sctp": "sctp-portrange"}
    pairs: list[tuple[str | None, Ports]] = []
    for proto, name in fields.items():
        ranges = _ranges(row.text(name), row.where)
        if ranges:
            pairs.append((proto, ranges))
    return ServiceSet(ports=tuple(pairs))
