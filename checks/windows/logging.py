"""LoggingFacts of a Windows host: the Windows Time service (w32tm).

Synchronised: the service is running, the source is a time server (not the local CMOS or the
free-running clock) and a successful synchronisation is on record; how long ago is measured
against the host's clock and judged by the policy. Log forwarding is not collected.

W32Time is trigger-start: stopped (workgroup PCs) is a fail saying so, not an error. w32tm
prints in the host's language: the local clock names and "unspecified" are known in English and
Spanish, a source that is neither a known name nor a server name is an error, never a pass.
The last sync is the newer of w32tm's (parsed on the host with exact patterns) and the newest
Time-Service event 35/37; a sync time that no pattern read, with no event beside it, is an error.

This module is ``checks.windows.logging``: absolute imports keep it from shadowing ``logging``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from checks.facts.logging import LoggingFacts, TimeSyncFacts
from checks.windows.read import Fields, Unreadable, check, host_now

__all__ = ["parse"]

# casefolded; "Reloj CMOS local" is what a Spanish w32tm prints for the local clock
_LOCAL = ("local cmos clock", "free-running system clock", "reloj cmos local")
# Hyper-V's integration service: the host's clock (the English name; others are unrecognised)
_PROVIDERS = ("vm ic time synchronization provider",)
# a time server as w32tm names it: host name, IPv4 or IPv6, with NtpServer flags (",0x9")
_SERVER = re.compile(r"^[A-Za-z0-9._:\[\]%-]+(,0x[0-9A-Fa-f]+)?$")
# "Last Successful Sync Time" before any: English and Spanish
_UNSPECIFIED = re.compile(r"^(unspecified|no especificad[oa])$", re.IGNORECASE)


# w32tm /query /status: "Phase Offset: 0.0012874s"; Spanish "Desplazamiento de fase: 0,0012874s"
_OFFSET = re.compile(
    r"^\s*(?:Phase Offset|Desplazamiento de fase)\s*:\s*([-+]?\d+(?:[.,]\d+)?)s\s*$",
    re.IGNORECASE,
)


def _offset(lines: tuple[str, ...]) -> float | None:
    """The phase offset in seconds from w32tm's status lines; None when no line names it."""
    for line in lines:
        match = _OFFSET.match(line)
        if match:
            return abs(float(match.group(1).replace(",", ".")))
    return None


def _servers(text: str | None) -> tuple[str, ...]:
    # NtpServer "time.windows.com,0x9 pool.ntp.org,0x8": names with their flags
    return tuple(s.split(",")[0] for s in (text or "").split() if s)


def _stopped(data: Fields, service: str | None) -> TimeSyncFacts:
    start = data.optional_text("StartType")
    state = f"{service} (start type {start})" if service and start else service or "not installed"
    return TimeSyncFacts(
        synchronized=False,
        source="w32tm",
        detail=f"the Windows Time service (W32Time) is {state}",
        servers=_servers(data.optional_text("NtpServer")),
    )


def _last_sync(data: Fields) -> tuple[datetime | None, str]:
    """The newest evidence of a successful sync, and a note when w32tm's text was not read."""
    parsed = data.optional_date("LastSuccessfulSyncTime")
    text = data.optional_text("LastSuccessfulSyncText")
    event = data.optional_object("LastSyncEvent")
    seen = event.date("TimeCreated") if event is not None else None
    note = ""
    if parsed is None and text and not _UNSPECIFIED.match(text.strip()):
        if seen is None:
            raise Unreadable(
                f"time.sync: last successful sync time {text!r} is in no known date format "
                "and no Time-Service event 35/37 records a sync"
            )
        note = f"w32tm's last sync time {text!r} not understood; Time-Service event used"
    found = [t for t in (parsed, seen) if t is not None]
    return (max(found) if found else None), note


def _time_sync(document: Mapping[str, Any]) -> TimeSyncFacts:
    data = check(document, "time.sync")
    service = data.optional_text("ServiceStatus")
    source = data.optional_text("Source")
    if service != "Running":
        return _stopped(data, service)
    if source is None:
        raise Unreadable("time.sync: the service is running but w32tm gave no source")
    kind = data.optional_text("Type")
    last, note = _last_sync(data)
    lines = data.strings("StatusText")
    offset = _offset(lines)
    age = (host_now(document) - last).total_seconds() / 3600 if last else None
    name = source.strip().casefold()
    local = name in _LOCAL
    if not local and name not in _PROVIDERS and not _SERVER.match(source.strip()):
        raise Unreadable(
            f"time.sync: w32tm source {source!r} is neither a time server nor a clock name "
            "Baluarte knows (English or Spanish)"
        )
    why = ""
    if local or kind == "NoSync":
        why = f"source {source} (Type {kind})"
    elif last is None:
        why = f"source {source}, no successful synchronisation on record"
    seen = f"w32tm source {source}, Type {kind}"
    if last is not None and age is not None:
        seen += f", last successful sync {last:%Y-%m-%d %H:%M} UTC ({age:.1f} h ago)"
    if note:
        seen += f" ({note})"
    return TimeSyncFacts(
        synchronized=not why,
        source="w32tm",
        detail=f"{why} ({seen})" if why else seen,
        reference=None if local or name in _PROVIDERS else source.split(",")[0],
        offset_seconds=offset,
        servers=_servers(data.optional_text("NtpServer")),
        evidence="\n".join(lines),
        last_sync=last,
        last_sync_age_hours=age,
    )


def parse(document: Mapping[str, Any]) -> LoggingFacts:
    problems = {"forward_targets": "log forwarding is not collected on Windows"}
    try:
        sync: TimeSyncFacts | None = _time_sync(document)
    except Unreadable as exc:
        sync = None
        problems["time_sync"] = str(exc)
    return LoggingFacts(forward_targets=None, time_sync=sync, problems=problems)
