"""What a FortiGate lets in from the internet, as OpenRules the shared evaluator judges.

An inbound rule is an enabled accept policy from an internet-facing interface (role ``wan``,
an SD-WAN zone, a zone holding one, or ``any``) towards an inside one. What it opens:
- a VIP with port forwarding: its external protocol and port (whatever the policy's service,
  which FortiOS matches after translation: listing the VIP's port is never less than what is
  reachable);
- any other destination (a VIP without port forwarding, an address): the policy's services.
Sources are the policy's source addresses as networks; an FQDN, a country, an Internet
Service Database entry or a negated list counts as any source. ICMP is left out, as on Linux.
"""

from __future__ import annotations

from checks.facts.firewall import OpenRule
from checks.fortigate.interfaces import Interfaces, any_of
from checks.fortigate.names import AddressSet, Family, Names, Ports
from checks.fortigate.read import Fields

__all__ = ["open_rules"]

_FIELDS: dict[Family, tuple[str, str, str]] = {
    "ipv4": ("srcaddr", "dstaddr", ""),
    "ipv6": ("srcaddr6", "dstaddr6", "6"),
}


def _inside(name: str, interfaces: Interfaces) -> bool:
    return name == "any" or not interfaces.faces_internet(name)


def _merge(pairs: list[tuple[str | None, Ports]]) -> dict[str | None, Ports]:
    """Ports per protocol; ``None`` (every protocol, or every port) swallows the rest."""
    out: dict[str | None, Ports] = {}
    for proto, ports in pairs:
        if proto in out and out[proto] is None:
            continue
        if ports is None:
            out[proto] = None
        else:
            out[proto] = tuple(dict.fromkeys((*(out.get(proto) or ()), *ports)))
    if None in out:
        return {None: None}
    return out


def _sources(row: Fields, names: Names, family: Family) -> tuple[tuple[str, ...] | None, str]:
    src, _, suffix = _FIELDS[family]
    listed = row.names(src)
    isdb = "internet-service6-src" if family == "ipv6" else "internet-service-src"
    if row.on(isdb):
        return None, f"Internet Service Database sources {', '.join(row.names(isdb + '-name'))}"
    shown = f"srcaddr{suffix} {', '.join(listed)}"
    if row.on(f"srcaddr{suffix}-negate"):
        return None, f"{shown} negated"
    found = names.addresses(listed, family)
    if found.every or found.other:
        return None, shown
    return tuple(dict.fromkeys(found.nets)), shown


def _exposed(row: Fields, names: Names, dst: AddressSet) -> list[tuple[str | None, Ports, str]]:
    """(protocol, ports, what) the destination side opens."""
    out: list[tuple[str | None, Ports, str]] = []
    for vip in dst.vips:
        if vip.portforward:
            ports: Ports = (vip.extport,) if vip.extport else None
            out.append((vip.protocol.lower(), ports, vip.describe()))
    plain = dst.plain or any(not v.portforward for v in dst.vips)
    if plain:
        services = row.names("service")
        what = f"service {', '.join(services)}"
        if row.on("service-negate"):
            out.append((None, None, f"{what} negated"))
        else:
            for proto, allowed in names.services(services).ports:
                out.append((proto, allowed, what))
    return out


def _rules(row: Fields, names: Names, interfaces: Interfaces, label: str) -> list[OpenRule]:
    rules: list[OpenRule] = []
    for family, (src, dst, suffix) in _FIELDS.items():
        isdb = "internet-service6-src" if family == "ipv6" else "internet-service-src"
        if not ((row.names(src) or row.on(isdb)) and row.names(dst)):
            continue  # the policy does not carry this family
        sources, source_text = _sources(row, names, family)
        if row.on(f"dstaddr{suffix}-negate"):
            dset = AddressSet(every=True)
        else:
            dset = names.addresses(row.names(dst), family)
        exposed = _exposed(row, names, dset)
        if not exposed:
            continue  # only ICMP
        dst_text = f"dstaddr{suffix} {', '.join(row.names(dst))}"
        if dset.vips:
            dst_text += f" ({'; '.join(v.describe() for v in dset.vips)})"
        by_proto = _merge([(p, ports) for p, ports, _ in exposed])
        for proto, ports in by_proto.items():
            rules.append(
                OpenRule(
                    families=(family,),
                    protocol=proto,
                    ports=ports,
                    sources=sources,
                    interface=", ".join(row.names("srcintf")),
                    tool="fortigate",
                    where=f"firewall {label}",
                    rule=f"{source_text} → {dst_text}, service {', '.join(row.names('service'))}",
                )
            )
    return rules


def open_rules(
    policies: list[Fields], names: Names, interfaces: Interfaces
) -> tuple[OpenRule, ...]:
    """Every rule through which the internet reaches inside; raises Unreadable if unsure."""
    out: list[OpenRule] = []
    for row in policies:
        if not row.on("status") or row.text("action") != "accept":
            continue
        srcintf, dstintf = row.names("srcintf"), row.names("dstintf")
        if not any_of(srcintf, interfaces.faces_internet):
            continue
        if not any_of(dstintf, lambda n: _inside(n, interfaces)):
            continue  # internet to internet: nothing inside is reached
        name = row.text("name")
        label = f"policy {row.number('policyid')}" + (f' "{name}"' if name else "")
        label += f" ({', '.join(srcintf)} → {', '.join(dstintf)})"
        out.extend(_rules(row, names, interfaces, label))
    return tuple(out)
