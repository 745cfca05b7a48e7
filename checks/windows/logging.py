"""LoggingFacts of a Windows host: the Windows Time service (w32tm).

Synchronised: the source is a time server (not "Local CMOS Clock" or "Free-running System
Clock"), the service is running and a successful synchronisation is on record; how long ago is
measured against the host's clock and judged by the policy. Log forwarding is not collected.

This module is ``checks.windows.logging``: absolute imports keep it from shadowing ``logging``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.facts.logging import LoggingFacts, TimeSyncFacts
from checks.windows.read import Unreadable, check, host_now

__all__ = ["parse"]

_LOCAL = ("Local CMOS Clock", "Free-running System Clock")


def _servers(text: str | None) -> tuple[str, ...]:
    # NtpServer "time.windows.com,0x9 pool.ntp.org,0x8": names with their flags
    return tuple(s.split(",")[0] for s in (text or "").split() if s)


def _time_sync(document: Mapping[str, Any]) -> TimeSyncFacts:
    data = check(document, "time.sync")
    source = data.text("Source")
    kind = data.optional_text("Type")
    service = data.optional_text("ServiceStatus")
    last = data.optional_date("LastSuccessfulSyncTime")
    offset = data.optional_real("PhaseOffsetSeconds")
    age = (host_now(document) - last).total_seconds() / 3600 if last else None
    why = ""
    if service != "Running":
        why = f"the Windows Time service is {service or 'not installed'}"
    elif source in _LOCAL or kind == "NoSync":
        why = f"source {source} (Type {kind})"
    elif last is None:
        why = f"source {source}, no successful synchronisation on record"
    seen = f"w32tm source {source}, Type {kind}"
    if last is not None and age is not None:
        seen += f", last successful sync {last:%Y-%m-%d %H:%M} UTC ({age:.1f} h ago)"
    return TimeSyncFacts(
        synchronized=not why,
        source="w32tm",
        detail=f"{why} ({seen})" if why else seen,
        reference=None if source in _LOCAL else source.split(",")[0],
        offset_seconds=abs(offset) if offset is not None else None,
        servers=_servers(data.optional_text("NtpServer")),
        evidence="\n".join(data.strings("StatusText")),
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
