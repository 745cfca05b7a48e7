"""PatchFacts of a FortiGate: its FortiOS firmware and FortiGuard's automatic update schedule.

The firmware version and build come with every REST answer's envelope; the schedule is
``cmdb system.autoupdate/schedule`` (``status``, ``frequency``). FortiGuard updates are the
unit's security content (antivirus and IPS definitions), hence ``security_origin``.
"""

from __future__ import annotations

import re

from checks.facts.patching import AutoUpdates, Firmware, PatchFacts
from checks.fortigate.read import Unreadable, single
from checks.fortigate.snapshot import FortiSnapshot

__all__ = ["firmware", "parse"]

_VERSION = re.compile(r"v?(\d+\.\d+\.\d+)")


def firmware(snapshot: FortiSnapshot) -> Firmware:
    match = _VERSION.fullmatch(snapshot.version.strip())
    return Firmware(
        product="FortiOS",
        reported=snapshot.version,
        version=match[1] if match else None,
        build=snapshot.build or None,
        source="the REST API response envelope",
    )


def _schedule(snapshot: FortiSnapshot) -> AutoUpdates:
    schedule = single(snapshot, "system.autoupdate/schedule")
    enabled = schedule.on("status")
    detail = "FortiGuard scheduled updates (system.autoupdate/schedule): status "
    detail += f"enable, frequency {schedule.text('frequency')}" if enabled else "disable"
    return AutoUpdates(
        tool="fortiguard", installed=True, enabled=enabled, security_origin=True, detail=detail
    )


def parse(snapshot: FortiSnapshot) -> PatchFacts:
    problems: tuple[str, ...] = ()
    try:
        auto: AutoUpdates | None = _schedule(snapshot)
    except Unreadable as exc:
        auto, problems = None, (str(exc),)
    return PatchFacts(
        package_manager=None,
        pending=None,
        last_update=None,
        history_read=False,
        automatic_updates=auto,
        reboot=None,
        kernel_running=None,
        kernel_newest=None,
        packages=None,
        problems=problems,
        firmware=firmware(snapshot),
    )
