"""Backup jobs run by systemd timers: parse ``systemctl show`` of the job's service and timer.

A job's last run is judged from the **service** (``Result``, ``ExecMainStatus``,
``ExecMainExitTimestamp``): the timer's ``LastTriggerUSec`` only says the schedule fired, and a
manual ``systemctl start`` does not even update it (linux-checks.md §4.4). Pure.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from checks.facts.backup import SystemdJob

__all__ = ["parse_job", "parse_show", "parse_timestamp"]

_ARGV = re.compile(r"argv\[\]=(?P<argv>.*?) ; ")


def parse_show(text: str) -> dict[str, str]:
    """``Key=value`` lines; raises ValueError when there are none (not systemctl's answer)."""
    props: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and re.fullmatch(r"[A-Za-z]+", key):
            props[key] = value
    if "LoadState" not in props:
        raise ValueError("systemctl show printed no LoadState")
    return props


def parse_timestamp(value: str, tz: tzinfo) -> datetime | None:
    """``Sat 2026-11-28 05:52:11 UTC`` (the script sets TZ=UTC) or ``@1795845131``; else None."""
    value = value.strip()
    if not value or value == "n/a" or value == "0":
        return None
    if value.startswith("@") and value[1:].isdigit():
        return datetime.fromtimestamp(int(value[1:]), UTC)
    m = re.fullmatch(r"(?:\w+ )?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?: (\S+))?", value)
    if not m:
        raise ValueError(f"unrecognised systemd timestamp {value!r}")
    when = datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S")
    zone = m[2] or ""
    if zone in ("UTC", "GMT", "+0000"):
        return when.replace(tzinfo=UTC)
    return when.replace(tzinfo=tz)  # another zone name: the host's own, as date +%z tells


def parse_job(service_text: str, timer_text: str, manager_text: str, tz: tzinfo) -> SystemdJob:
    """The job from the outputs for its service and timer. Raises ValueError when malformed."""
    service = parse_show(service_text)
    timer = parse_show(timer_text)
    status = service.get("ExecMainStatus", "").strip()
    argv = _ARGV.search(service.get("ExecStart", ""))
    started = manager_text.strip().partition("UserspaceTimestamp=")[2]
    return SystemdJob(
        service=service.get("Id", ""),
        service_loaded=service.get("LoadState") == "loaded",
        timer=timer.get("Id", ""),
        timer_loaded=timer.get("LoadState") == "loaded",
        timer_enabled=timer.get("UnitFileState") in ("enabled", "linked"),
        timer_active=timer.get("ActiveState") == "active",
        next_run=parse_timestamp(timer.get("NextElapseUSecRealtime", ""), tz),
        last_trigger=parse_timestamp(timer.get("LastTriggerUSec", ""), tz),
        active_state=service.get("ActiveState", ""),
        result=service.get("Result") or None,
        exit_status=int(status) if status.lstrip("-").isdigit() else None,
        last_exit=parse_timestamp(service.get("ExecMainExitTimestamp", ""), tz),
        booted=parse_timestamp(started.splitlines()[0], tz) if started else None,
        command=tuple(argv["argv"].split()) if argv else (),
    )
