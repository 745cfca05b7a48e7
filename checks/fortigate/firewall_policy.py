"""One FortiGate policy row as a FirewallPolicy: its names resolved, field by field.

Each aspect (interfaces, addresses, service, logging, profiles) is read on its own: a field
the token may not read, or a name no table resolves, leaves that aspect ``None`` with the
reason, and only the controls that need it become ``error``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from checks.facts.firewall import FirewallPolicy
from checks.fortigate.interfaces import Interfaces, any_of
from checks.fortigate.names import Family, Names
from checks.fortigate.read import Fields, Unreadable, attempt, rows

__all__ = ["PROFILE_FIELDS", "policy"]

# profile kind (policy parameter) -> the policy's (and profile group's) field naming it
PROFILE_FIELDS = {
    "antivirus": "av-profile",
    "ips": "ips-sensor",
    "webfilter": "webfilter-profile",
    "application": "application-list",
    "dnsfilter": "dnsfilter-profile",
}
_FAMILY_FIELDS: dict[Family, tuple[str, str, str]] = {
    # source, destination, and the suffix of their -negate options
    "ipv4": ("srcaddr", "dstaddr", ""),
    "ipv6": ("srcaddr6", "dstaddr6", "6"),
}


def _all_of(tests: Sequence[Callable[[], bool]]) -> bool:
    """False as soon as one test is False, even when others cannot be told."""
    return not any_of(tests, lambda test: not test())


def _every(row: Fields, names: Names, family: Family, side: str) -> bool:
    """The source (or destination) side covers every address of the family."""
    field = _FAMILY_FIELDS[family][0 if side == "src" else 1]
    suffix = _FAMILY_FIELDS[family][2]
    listed = row.names(field)
    isdb = "internet-service-src" if side == "src" else "internet-service"
    if family == "ipv6":
        isdb = isdb.replace("internet-service", "internet-service6")
    if row.on(isdb):
        return False  # an Internet Service Database entry, not an address range
    covered = names.addresses(listed, family).every
    if row.on(f"{side}addr{suffix}-negate"):
        return not covered  # "everything but X" is as broad as it gets unless X is all
    return covered


def _any_to_any(row: Fields, names: Names) -> tuple[Family, ...]:
    found: list[Family] = []
    unknown: Unreadable | None = None
    for family, (src, dst, _) in _FAMILY_FIELDS.items():
        try:
            if not (row.names(src) and row.names(dst)):
                continue  # the policy does not carry this family
            sides = [partial(_every, row, names, family, side) for side in ("src", "dst")]
            if _all_of(sides):
                found.append(family)
        except Unreadable as exc:
            unknown = unknown or exc
    if not found and unknown is not None:
        raise unknown
    return tuple(found)


def _service_any(row: Fields, names: Names) -> bool:
    every = names.services(row.names("service")).every
    return not every if row.on("service-negate") else every


def _profiles(row: Fields, names: Names) -> tuple[dict[str, str], str]:
    if not row.on("utm-status"):
        return {}, "utm-status disable"
    if row.choice("profile-type", ("single", "group")) == "single":
        source, holder = "the policy's own profiles", row
    else:
        group = row.text("profile-group")
        table = {g.text("name"): g for g in rows(names.snapshot, "firewall/profile-group")}
        if group not in table:
            raise Unreadable(
                f"{row.where}: profile group {group!r} is not in firewall/profile-group"
            )
        source, holder = f"profile group {group}", table[group]
    found = {kind: holder.text(field) for kind, field in PROFILE_FIELDS.items()}
    return {kind: name for kind, name in found.items() if name}, source


def policy(row: Fields, names: Names, interfaces: Interfaces) -> FirewallPolicy:
    """Raises Unreadable only when the row's id, status or action cannot be read."""
    problems: dict[str, str] = {}

    def names_of(field: str) -> tuple[str, ...]:
        return attempt(problems, field, lambda: row.names(field)) or ()

    srcintf, dstintf = names_of("srcintf"), names_of("dstintf")
    interfaces_read = "srcintf" not in problems and "dstintf" not in problems
    from_internet = to_internet = None
    if interfaces_read:
        from_internet = attempt(
            problems, "from_internet", lambda: any_of(srcintf, interfaces.faces_internet)
        )
        to_internet = attempt(
            problems, "to_internet", lambda: any_of(dstintf, interfaces.faces_internet)
        )
    profiles_read = attempt(problems, "profiles", lambda: _profiles(row, names))
    return FirewallPolicy(
        id=row.number("policyid"),
        name=attempt(problems, "name", lambda: row.text("name")) or "",
        enabled=row.on("status"),
        action=row.text("action"),
        srcintf=srcintf,
        dstintf=dstintf,
        srcaddr=names_of("srcaddr") + names_of("srcaddr6"),
        dstaddr=names_of("dstaddr") + names_of("dstaddr6"),
        service=names_of("service"),
        from_internet=from_internet,
        to_internet=to_internet,
        any_to_any=attempt(problems, "any_to_any", lambda: _any_to_any(row, names)),
        service_any=attempt(problems, "service_any", lambda: _service_any(row, names)),
        logtraffic=attempt(
            problems, "logtraffic", lambda: row.choice("logtraffic", ("all", "utm", "disable"))
        ),
        profiles=profiles_read[0] if profiles_read else None,
        profiles_source=profiles_read[1] if profiles_read else "",
        problems=problems,
    )
