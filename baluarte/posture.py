"""Posture: a client's compliance at an instant, drawn from every run of a period, not the last.

A run may cover the whole client (a scheduled check) or one device (``apply --device``): the
last run alone says nothing about the devices it did not touch. Posture at an instant holds,
for every in-scope device and control, the latest finding at or before it within the runs
given, with the run it came from. A finding that could not read the device (an ``unreadable``
error) is the latest word too: a device whose last attempt failed is not verified, whatever an
earlier run saw — an old pass shown as current would be a stale pass. When it was last read is
kept, so the reader sees both.

Pure functions over RunRecords, plus ``client_posture`` that reads them from the store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Literal

from baluarte.findings import ErrorKind, Finding, Status
from baluarte.run import RunRecord

if TYPE_CHECKING:  # the store imports history, which imports this module
    from baluarte.store import Store

__all__ = [
    "WEEKLY_AFTER_DAYS",
    "DeviceKey",
    "DevicePosture",
    "Observation",
    "Posture",
    "PosturePoint",
    "client_posture",
    "compliance_percent",
    "counts",
    "posture_at",
    "posture_trend",
    "trend_instants",
]

DeviceKey = tuple[str, str, str]  # client, site, device
Key = tuple[str, str, str, str]  # client, site, device, control
# Longer periods are drawn per ISO week: a point a day would crowd the chart past reading.
WEEKLY_AFTER_DAYS = 60

DeviceState = Literal["verified", "partial", "not_verified"]
NotVerified = Literal["never_checked", "unreadable"]  # never read / its last attempt failed


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per status, every status present (zero when none), in Status order."""
    c = Counter(f.status for f in findings)
    return {str(s): c.get(s, 0) for s in Status}


def compliance_percent(findings: Iterable[Finding]) -> float | None:
    """pass / (pass + fail + error), in percent to one decimal; None when nothing was judged.

    Waived and not_applicable findings are left out: they are reported apart, never as passes.
    """
    c = counts(findings)
    judged = c["pass"] + c["fail"] + c["error"]
    return None if judged == 0 else round(100 * c["pass"] / judged, 1)


@dataclass(frozen=True)
class Observation:
    """One control on one device as last seen: the finding, its run and when."""

    finding: Finding
    run_id: int
    observed_at: datetime  # the run's start


@dataclass(frozen=True)
class DevicePosture:
    """A device at the posture's instant: verified (every control observed), partial (some
    controls only failed to be read), or not verified (nothing observed)."""

    client: str
    site: str
    device: str
    platform: str
    in_scope: bool  # False: observed in the period but no longer in the inventory
    state: DeviceState
    observed_at: datetime | None  # its newest observation
    runs: tuple[int, ...]  # the runs its observations come from, oldest first
    # not verified: "never_checked" or "unreadable" (its last attempt could not read it)
    reason: NotVerified | None
    # the last attempt that could not read it, when none observed it after (its reasons)
    failed_at: datetime | None = None
    failed_run: int | None = None
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Posture:
    at: datetime | None  # None: after every run given
    observations: tuple[Observation, ...]  # in-scope devices only; by client, site, device, ctl
    devices: tuple[DevicePosture, ...]  # in scope first, then the ones no longer in scope

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(o.finding for o in self.observations)

    @property
    def compliance_percent(self) -> float | None:
        return compliance_percent(self.findings)

    @property
    def counts(self) -> dict[str, int]:
        return counts(self.findings)

    @property
    def in_scope(self) -> int:
        return sum(1 for d in self.devices if d.in_scope)

    @property
    def verified(self) -> int:
        """In-scope devices with at least one control observed."""
        return sum(1 for d in self.devices if d.in_scope and d.state != "not_verified")


@dataclass(frozen=True)
class PosturePoint:
    """Posture at the end of a day (or an ISO week) of the period: one point of the trend."""

    day: date  # the day, or the last day of the week, the point closes
    weekly: bool
    compliance_percent: float | None  # None: nothing observed yet
    counts: dict[str, int]
    verified: int  # in-scope devices observed so far
    in_scope: int
    runs: tuple[int, ...] = ()  # the runs started within the day (or week)


def _unreadable(f: Finding) -> bool:
    # an error stored before error kinds existed is read as unreadable (see Finding)
    return f.status is Status.ERROR and f.error_kind in (None, ErrorKind.UNREADABLE)


def _ordered(runs: Iterable[RunRecord]) -> list[RunRecord]:
    return sorted(runs, key=lambda r: (r.info.started_at, r.info.id))


class _Fold:
    """Posture built run by run, oldest first (so a trend costs one pass over the runs)."""

    def __init__(self) -> None:
        self.seen: dict[Key, Observation] = {}  # latest observation, or a failed attempt
        self.observed: dict[Key, bool] = {}  # whether ``seen`` is a real observation
        self.platform: dict[DeviceKey, str] = {}
        self.last_read: dict[DeviceKey, tuple[datetime, int]] = {}  # when and by which run
        # a device's last attempt that could not read it, when no run read it after
        self.failed: dict[DeviceKey, tuple[int, datetime, list[str]]] = {}

    def add(self, run: RunRecord) -> None:
        at = run.info.started_at
        read: set[DeviceKey] = set()
        failed: dict[DeviceKey, list[str]] = {}
        for f in run.findings:
            dev = (f.client, f.site, f.device)
            key = (*dev, f.control)
            self.platform.setdefault(dev, f.platform)
            obs = Observation(f, run.info.id, at)
            if not _unreadable(f):
                self.seen[key], self.observed[key] = obs, True
                self.last_read[dev] = (at, run.info.id)
                read.add(dev)
                continue
            reasons = failed.setdefault(dev, [])
            if f.reason and f.reason not in reasons:
                reasons.append(f.reason)
            # the latest word: an earlier observation would be stale shown as current
            self.seen[key], self.observed[key] = obs, False
        for dev in read:
            self.failed.pop(dev, None)
        for dev, reasons in failed.items():
            if dev not in read:
                self.failed[dev] = (run.info.id, at, reasons)

    def posture(self, at: datetime | None, in_scope: Mapping[DeviceKey, str] | None) -> Posture:
        scope = dict(in_scope) if in_scope is not None else dict(self.platform)
        by_device: dict[DeviceKey, list[tuple[Observation, bool]]] = {}
        for key, obs in self.seen.items():
            by_device.setdefault(key[:3], []).append((obs, self.observed[key]))
        devices: list[DevicePosture] = []
        for dev in sorted(set(scope) | set(by_device), key=lambda d: (d not in scope, d)):
            own = by_device.get(dev, [])
            real = [o for o, ok in own if ok]
            failed = self.failed.get(dev)
            state: DeviceState
            if not real:
                state = "not_verified"
            elif len(real) < len(own):
                state = "partial"
            else:
                state = "verified"
            reason: NotVerified | None = None
            if state == "not_verified":
                reason = "unreadable" if failed else "never_checked"
            devices.append(
                DevicePosture(
                    client=dev[0],
                    site=dev[1],
                    device=dev[2],
                    platform=scope.get(dev) or self.platform.get(dev, ""),
                    in_scope=dev in scope,
                    state=state,
                    # not verified now: when it was last read, if ever
                    observed_at=max((o.observed_at for o in real), default=None)
                    or (self.last_read[dev][0] if dev in self.last_read else None),
                    runs=tuple(sorted({o.run_id for o in real}))
                    or ((self.last_read[dev][1],) if dev in self.last_read else ()),
                    reason=reason,
                    failed_at=failed[1] if failed else None,
                    failed_run=failed[0] if failed else None,
                    errors=tuple(failed[2]) if failed else (),
                )
            )
        observations = tuple(obs for key, obs in sorted(self.seen.items()) if key[:3] in scope)
        return Posture(at, observations, tuple(devices))


def posture_at(
    runs: Iterable[RunRecord],
    at: datetime | None = None,
    in_scope: Mapping[DeviceKey, str] | None = None,
) -> Posture:
    """The posture at ``at`` (None: after every run) from ``runs`` started at or before it.

    ``in_scope``: the devices in scope, each with its platform (None: every device observed).
    A device in scope never observed is ``not_verified``; one observed but not in scope is
    listed apart, its findings left out of the counts.
    """
    fold = _Fold()
    for run in _ordered(runs):
        if at is None or run.info.started_at <= at:
            fold.add(run)
    return fold.posture(at, in_scope)


def trend_instants(start: date, end: date) -> list[tuple[date, bool]]:
    """The days a trend closes points on: each day of ``[start, end]``, or each ISO week's
    Sunday (and ``end``) when the period is longer than ``WEEKLY_AFTER_DAYS``; weekly flag."""
    days = (end - start).days + 1
    if days <= WEEKLY_AFTER_DAYS:
        return [(start + timedelta(days=i), False) for i in range(max(days, 0))]
    out = []
    day = start + timedelta(days=6 - start.weekday())  # the first Sunday on or after start
    while day < end:
        out.append((day, True))
        day += timedelta(days=7)
    out.append((end, True))
    return out


def posture_trend(
    runs: Iterable[RunRecord],
    start: date,
    end: date,
    in_scope: Mapping[DeviceKey, str] | None = None,
    tz: tzinfo = UTC,
) -> list[PosturePoint]:
    """Posture at the end of each day (or ISO week) of ``[start, end]`` (days in ``tz``, the
    client's zone), never per run: a one-device run moves only that device's part of the line."""
    ordered = _ordered(runs)
    fold = _Fold()
    points: list[PosturePoint] = []
    i = 0
    for day, weekly in trend_instants(start, end):
        close = datetime.combine(day + timedelta(days=1), time(), tz)
        within: list[int] = []
        while i < len(ordered) and ordered[i].info.started_at < close:
            fold.add(ordered[i])
            within.append(ordered[i].info.id)
            i += 1
        p = fold.posture(close, in_scope)
        points.append(
            PosturePoint(
                day=day,
                weekly=weekly,
                compliance_percent=p.compliance_percent,
                counts=p.counts,
                verified=p.verified,
                in_scope=p.in_scope,
                runs=tuple(within),
            )
        )
    return points


def client_posture(
    store: Store,
    client: str,
    *,
    start: date | None = None,
    end: date | None = None,
    in_scope: Mapping[DeviceKey, str] | None = None,
) -> tuple[list[RunRecord], Posture]:
    """The client's complete runs over ``[start, end]`` (whole days, UTC) and its posture
    after the last of them."""
    from baluarte.history import client_runs  # history imports this module

    runs = client_runs(store, client, start=start, end=end)
    return runs, posture_at(runs, None, in_scope)
