"""A client's time zone: every date and time shown to it is in one zone, with its UTC offset.

The inventory names it per client (``timezone:``, an IANA name; Europe/Madrid when absent).
Stored times stay UTC: a zone only changes how they are shown and which local day a run falls
on. A run records the SHA-256 of the inventory files it read, not their content: its zone is
read back from those files while they are unchanged, else the default is used (and said so).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from baluarte.run import RunRecord
from baluarte.validation import did_you_mean

if TYPE_CHECKING:  # the store imports the inventory, which validates with this module
    from baluarte.store import Store

__all__ = [
    "DEFAULT_TIMEZONE",
    "RunZone",
    "TimezoneName",
    "check_timezone",
    "client_zone",
    "day_bounds",
    "local_text",
    "offset_text",
    "run_zone",
    "zone",
]

DEFAULT_TIMEZONE = "Europe/Madrid"


@cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(value: str) -> str:
    """An IANA zone name known to this system, else a validation error with a suggestion."""
    if value not in _known():
        raise PydanticCustomError(
            "wrong_value",
            "unknown time zone '{value}' (an IANA name such as 'Atlantic/Canary'){hint}",
            {"value": value, "hint": did_you_mean(value, _known())},
        )
    return value


TimezoneName = Annotated[str, AfterValidator(check_timezone)]


@cache
def zone(name: str) -> tzinfo:
    return ZoneInfo(name)


def offset_text(moment: datetime, name: str) -> str:
    """The zone's UTC offset at ``moment``, as ``+01:00``."""
    raw = moment.astimezone(zone(name)).strftime("%z")
    return f"{raw[:3]}:{raw[3:]}"


def local_text(moment: datetime | None, name: str, *, seconds: bool = False) -> str:
    """``2026-12-06 23:10 (+01:00)``: a stored time in the zone, with its offset. A time stored
    without an offset is shown as stored, never guessed."""
    if moment is None:
        return "-"
    pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    if moment.tzinfo is None:
        return moment.strftime(pattern)
    local = moment.astimezone(zone(name))
    return f"{local.strftime(pattern)} ({offset_text(moment, name)})"


@dataclass(frozen=True)
class RunZone:
    """The zone a run's outputs are shown in, and where it came from."""

    name: str
    # "inventory": the clients' zone, read from the run's unchanged inventory files;
    # "default": they changed or are gone, or the run's clients name different zones
    source: Literal["inventory", "default"]


def run_zone(run: RunRecord) -> RunZone:
    """The zone of the clients a run covered, as their inventory named it when the run read it."""
    zones = _client_zones(run)
    clients = {f.client for f in run.findings} | {r.client for r in run.remediations}
    if client := run.info.scope.get("client"):
        clients.add(client)
    named = {z for c, z in zones.items() if c in clients or not clients}
    if len(named) == 1:
        return RunZone(named.pop(), "inventory")
    return RunZone(DEFAULT_TIMEZONE, "default")


def client_zone(store: Store, client: str | None) -> RunZone:
    """A client's zone as its newest complete run read it (the default without one)."""
    from baluarte.history import client_runs  # history reads the store, which imports run

    newest = client_runs(store, client, newest=1) if client else []
    return run_zone(newest[-1]) if newest else RunZone(DEFAULT_TIMEZONE, "default")


def day_bounds(
    first: date | None, last: date | None, name: str
) -> tuple[datetime | None, datetime | None]:
    """The instants from the start of ``first`` to the end of ``last``, days in the zone."""
    here = zone(name)
    start = None if first is None else datetime.combine(first, time(), here)
    end = None
    if last is not None:
        end = datetime.combine(last + timedelta(days=1), time(), here) - timedelta(microseconds=1)
    return start, end


def _client_zones(run: RunRecord) -> dict[str, str]:
    """Each client's zone from the inventory files the run read, when all are unchanged."""
    from baluarte.errors import InputError
    from baluarte.inventory import load_inventory  # the inventory validates with this module

    files = [f for f in run.info.files if f.role == "inventory"]
    if not files or not _unchanged((Path(f.path), f.sha256) for f in files):
        return {}
    try:
        inventory = load_inventory([Path(f.path) for f in files])
    except InputError:
        return {}
    return {c.name: c.timezone for c in inventory.clients}


def _unchanged(files: Iterable[tuple[Path, str]]) -> bool:
    for path, sha256 in files:
        try:
            if hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
                return False
        except OSError:
            return False
    return True
