"""A FortiSnapshot as Collected: the unit's identity and its facts per domain.

Each domain's facts come from ``checks/fortigate/<domain>.py``; a domain whose parser fails
(ValueError, KeyError, TypeError) is listed in ``Collected.problems`` and its controls become
``error``, as on Linux. Missing endpoints and fields never raise: they leave the one fact that
needed them ``None`` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from baluarte.collected import Collected, HostIdentity, parse_domains
from baluarte.text import inert, inert_facts, inert_model
from checks.fortigate import access, backup, firewall, logging, patching
from checks.fortigate.read import Unreadable, single
from checks.fortigate.snapshot import FortiSnapshot

__all__ = ["DOMAINS", "collected"]

DOMAINS = ("patching", "firewall", "backup", "access", "logging")
# Collected.facts key of the snapshot itself: remedies (deploys/fortigate) write whole values
# (an interface's allowaccess) and need what the unit answered, not only the facts.
_PARSERS: dict[str, Callable[[FortiSnapshot], Any]] = {
    "patching": patching.parse,
    "firewall": firewall.parse,
    "backup": backup.parse,
    "access": access.parse,
    "logging": logging.parse,
}


def identity(snapshot: FortiSnapshot) -> HostIdentity:
    try:
        hostname = single(snapshot, "system/global").text("hostname")
    except Unreadable:
        hostname = ""  # naming only: the controls reading system/global say why
    fw = patching.firmware(snapshot)
    return HostIdentity(
        hostname=hostname,
        os=f"FortiOS {fw.reported} build {snapshot.build}",
        os_id="fortios",
        os_version=fw.version or "",
    )


def collected(snapshot: FortiSnapshot, *, round_trips: int = 0, seconds: float = 0.0) -> Collected:
    facts, problems = parse_domains(_PARSERS, snapshot)
    # names and comments are the unit's to choose (a policy named "ESC[2J"): facts carry them
    # inert; the raw snapshot stays as answered, for remedies that write whole values back
    return Collected(
        identity=inert_model(identity(snapshot)),
        facts=inert_facts(facts),
        problems={domain: inert(why) for domain, why in problems.items()},
        raw=snapshot,
        round_trips=round_trips,
        seconds=seconds,
    )
