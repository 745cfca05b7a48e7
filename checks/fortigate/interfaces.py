"""Which FortiGate interfaces face the internet: role ``wan``, SD-WAN zones, zones holding one.

A policy names interfaces, SD-WAN zones (``virtual-wan-link``) or zones; ``any`` takes in every
interface, the WAN ones too. A name found nowhere raises ``Unreadable``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from checks.fortigate.read import Fields, Unreadable, rows, single
from checks.fortigate.snapshot import FortiSnapshot

__all__ = ["Interfaces", "any_of"]

T = TypeVar("T")


def any_of(items: Iterable[T], test: Callable[[T], bool]) -> bool:
    """True if ``test`` holds for one item, even when others cannot be told; else as ``all``."""
    unknown: Unreadable | None = None
    for item in items:
        try:
            if test(item):
                return True
        except Unreadable as exc:
            unknown = unknown or exc
    if unknown is not None:
        raise unknown
    return False


class Interfaces:
    """The interfaces, SD-WAN zones and zones of one snapshot, read when first asked."""

    def __init__(self, snapshot: FortiSnapshot) -> None:
        self.snapshot = snapshot
        self._rows: dict[str, Fields] | None = None

    def table(self) -> dict[str, Fields]:
        if self._rows is None:
            self._rows = {r.text("name"): r for r in rows(self.snapshot, "system/interface")}
        return self._rows

    def _sdwan_zones(self) -> tuple[set[str], str]:
        """SD-WAN zone names, or none and why ``system/sdwan`` could not say."""
        try:
            sdwan = single(self.snapshot, "system/sdwan")
            return {z.text("name") for z in sdwan.members("zone")}, ""
        except Unreadable as exc:
            return set(), str(exc)

    def _zone(self, name: str) -> tuple[Fields | None, str]:
        try:
            zones = {z.text("name"): z for z in rows(self.snapshot, "system/zone")}
        except Unreadable as exc:
            return None, str(exc)
        return zones.get(name), ""

    def faces_internet(self, name: str) -> bool:
        """``name`` is, or takes in, an internet-facing interface."""
        if name == "any":
            return True
        table = self.table()
        if name in table:
            return table[name].text("role") == "wan"
        sdwan, sdwan_why = self._sdwan_zones()
        if name in sdwan:
            return True
        zone, zone_why = self._zone(name)
        if zone is not None:
            members = [m.text("interface-name") for m in zone.members("interface")]
            return any_of(members, self.faces_internet)
        why = "; ".join(w for w in (sdwan_why, zone_why) if w)
        raise Unreadable(
            f"interface {name!r} is no interface, SD-WAN zone or zone read from the unit"
            + (f" ({why})" if why else "")
        )
