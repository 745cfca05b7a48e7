"""The executive report's figures: a client's month, drawn from its posture, never one run.

Every figure is the client's posture as the service shows it (baluarte/posture.py): for each
in-scope device and control, the latest finding of the ``POSTURE_DAYS`` days before an instant,
from whichever run observed it. The month's end is one instant (the month in progress: now),
the previous month's end another; the trend is the posture at the end of each day of the month.

What was fixed: a control that failed and passes at the month's end, its fix (the first run that
found it passing after its last fail streak) within the month; how fast: from the start of that
streak to the fix, as far back as the runs read reach (``POSTURE_DAYS`` before the month: a
streak that began before them is marked, and its time is a lower bound).

Pure: the caller reads the runs (``runs_needed`` says from when) and the waivers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from baluarte.controls import catalogue
from baluarte.findings import Status
from baluarte.history import ControlState
from baluarte.inventory import Client, DeviceRef
from baluarte.posture import DeviceKey, posture_at
from baluarte.posture_drift import posture_drift
from baluarte.run import RunRecord
from baluarte.timezones import zone
from baluarte.waivers import Waiver
from reports.executive.month import Month

__all__ = [
    "POSTURE_DAYS",
    "DayPoint",
    "ExecutiveFigures",
    "Fixed",
    "Open",
    "Unverified",
    "WaiverLine",
    "executive_figures",
    "runs_needed",
]

# the posture's window, as the dashboard's (baluarte.service.snapshots.POSTURE_DAYS)
POSTURE_DAYS = 30
_TICK = timedelta(microseconds=1)

Key = tuple[str, str, str, str]  # client, site, device, control
WaiverState = Literal["active", "expiring", "expired"]


@dataclass(frozen=True)
class Fixed:
    """A control on a device that failed and was fixed within the month."""

    site: str
    device: str
    control: str
    domain: str
    failing_since: datetime  # the start of the fail streak that ended
    fixed_at: datetime  # the run that found it passing
    # the streak began at the first run read: it may have failed before (the time is a minimum)
    at_least: bool

    @property
    def took(self) -> timedelta:
        return self.fixed_at - self.failing_since


@dataclass(frozen=True)
class Open:
    """A control that fails (or could not be checked) at the month's end."""

    site: str
    device: str
    control: str
    domain: str
    severity: str
    status: Literal["fail", "error"]
    since: datetime | None  # the start of its fail streak (None: an error)
    at_least: bool  # failing since the first run read: maybe longer
    new: bool  # its streak began within the month
    observed: str | None
    reason: str | None


@dataclass(frozen=True)
class WaiverLine:
    """A waiver covering some of the client's devices, in force at the month's end or expired
    within it."""

    control: str
    domain: str
    devices: tuple[str, ...]
    reason: str
    approved_by: str
    ticket: str | None
    approved_on: date | None
    expires: date
    compensating_control: str | None
    state: WaiverState


@dataclass(frozen=True)
class Unverified:
    """An in-scope device no run of the window could read at the month's end."""

    site: str
    device: str
    platform: str
    reason: str  # never_checked | unreadable
    last_read: datetime | None


@dataclass(frozen=True)
class DayPoint:
    day: date
    percent: float | None  # None: nothing judged yet


@dataclass(frozen=True)
class ExecutiveFigures:
    client: str
    legal_name: str
    timezone: str
    month: Month
    start: datetime  # the month's first instant in the client's zone
    end: datetime  # its end, or now for the month in progress
    complete: bool  # the month has ended
    generated_at: datetime
    runs: int  # the client's complete runs started within the month
    compliance: float | None  # at the end; None: nothing judged
    previous: float | None  # at the previous month's end
    counts: dict[str, int]  # the end posture's findings per status
    in_scope: int
    verified: int
    unverified: tuple[Unverified, ...]
    trend: tuple[DayPoint, ...]
    fixed: tuple[Fixed, ...]
    open: tuple[Open, ...]
    waivers: tuple[WaiverLine, ...]

    @property
    def change(self) -> float | None:
        """Percentage points since the previous month's end (None: no figure to compare)."""
        if self.compliance is None or self.previous is None:
            return None
        return round(self.compliance - self.previous, 1)

    @property
    def failing(self) -> tuple[Open, ...]:
        return tuple(o for o in self.open if o.status == "fail")

    @property
    def new_failures(self) -> int:
        return sum(1 for o in self.failing if o.new)


def runs_needed(month: Month, timezone: str, window_days: int = POSTURE_DAYS) -> datetime:
    """The first instant whose runs the month's figures read (the previous month's posture)."""
    return month.start(zone(timezone)) - timedelta(days=window_days)


def _scope(client: Client) -> dict[DeviceKey, str]:
    return {(client.name, s.name, d.name): d.platform for s in client.sites for d in s.devices}


def executive_figures(
    client: Client,
    runs: Sequence[RunRecord],
    waivers: Iterable[Waiver],
    month: Month,
    *,
    now: datetime,
    warn_days: int = 14,
    window_days: int = POSTURE_DAYS,
) -> ExecutiveFigures:
    """The figures of ``client`` for ``month`` from its complete ``runs`` (at least those since
    ``runs_needed``; later ones than the month are left out). ValueError for a month that has
    not begun where the client is."""
    tz = zone(client.timezone)
    start = month.start(tz)
    if now <= start:
        raise ValueError(f"{month} has not begun in {client.timezone}")
    end = min(month.end(tz), now)
    window = timedelta(days=window_days)
    ordered = sorted(
        (r for r in runs if start - window <= r.info.started_at < end),
        key=lambda r: (r.info.started_at, r.info.id),
    )
    scope = _scope(client)

    def posture(at: datetime) -> list[RunRecord]:
        return [r for r in ordered if at - window <= r.info.started_at < at]

    after = posture_at(posture(end), None, scope)
    before = posture_at(posture(start), None, scope)
    trend = []
    day = month.first_day
    while True:  # each day's end, up to the month's (or now)
        close = min(datetime.combine(day + timedelta(days=1), time(), tz), end)
        trend.append(DayPoint(day, posture_at(posture(close), None, scope).compliance_percent))
        if close >= end:
            break
        day += timedelta(days=1)

    first_judged: dict[Key, datetime] = {}
    for run in ordered:
        for f in run.findings:
            if f.status is not Status.ERROR:
                k = (f.client, f.site, f.device, f.control)
                first_judged.setdefault(k, run.info.started_at)
    drift = posture_drift(ordered, scope, final=after)

    def key(s: ControlState) -> Key:
        return (s.client, s.site, s.device, s.control)

    def at_least(s: ControlState) -> bool:
        return s.failing_since is not None and s.failing_since <= first_judged.get(key(s), start)

    fixed: list[Fixed] = []
    streaks: dict[Key, ControlState] = {}
    if drift is not None:
        for s in drift.newly_passing:
            if s.failing_since is None or s.time_to_remediate is None:
                continue
            fixed_at = s.failing_since + s.time_to_remediate
            if start <= fixed_at < end:
                fixed.append(
                    Fixed(
                        s.site, s.device, s.control, _domain(s.control),
                        s.failing_since, fixed_at, at_least(s),
                    )
                )  # fmt: skip
        streaks = {key(s): s for s in (*drift.newly_failing, *drift.still_failing)}
    opened: list[Open] = []
    for obs in after.observations:
        f = obs.finding
        if f.status not in (Status.FAIL, Status.ERROR):
            continue
        streak = streaks.get((f.client, f.site, f.device, f.control))
        since = streak.failing_since if streak is not None else None
        longer = streak is not None and at_least(streak)
        opened.append(
            Open(
                site=f.site,
                device=f.device,
                control=f.control,
                domain=_domain(f.control),
                severity=f.severity.value,
                status="fail" if f.status is Status.FAIL else "error",
                since=since,
                at_least=longer,
                new=since is not None and since >= start and not longer,
                observed=f.observed,
                reason=f.reason,
            )
        )
    last_day = (end - _TICK).astimezone(tz).date()
    return ExecutiveFigures(
        client=client.name,
        legal_name=client.legal_name,
        timezone=client.timezone,
        month=month,
        start=start,
        end=end,
        complete=end >= month.end(tz),
        generated_at=now,
        runs=sum(1 for r in ordered if r.info.started_at >= start),
        compliance=after.compliance_percent,
        previous=before.compliance_percent,
        counts=after.counts,
        in_scope=after.in_scope,
        verified=after.verified,
        unverified=tuple(
            Unverified(d.site, d.device, d.platform, d.reason or "never_checked", d.observed_at)
            for d in after.devices
            if d.in_scope and d.state == "not_verified"
        ),
        trend=tuple(trend),
        fixed=tuple(sorted(fixed, key=lambda x: (x.fixed_at, x.site, x.device, x.control))),
        open=tuple(opened),
        waivers=_waivers(client, waivers, month, last_day, warn_days),
    )


def _domain(control: str) -> str:
    return control.partition(".")[0]


def _waivers(
    client: Client, waivers: Iterable[Waiver], month: Month, last_day: date, warn_days: int
) -> tuple[WaiverLine, ...]:
    """The waivers covering the client's devices (those the control applies to), in force on the
    month's last day or expired within the month; soonest to expire first."""
    controls = catalogue()
    refs = [DeviceRef(client, s, d) for s in client.sites for d in s.devices]
    out = []
    for w in waivers:
        control = controls.get(w.control)
        if control is None or w.expires < month.first_day:
            continue
        devices = sorted({r.name for r in refs if w.covers(r) and r.platform in control.platforms})
        if not devices:
            continue
        state: WaiverState = "active"
        if w.expired(last_day):
            state = "expired"
        elif (w.expires - last_day).days <= warn_days:
            state = "expiring"
        out.append(
            WaiverLine(
                control=w.control,
                domain=control.domain,
                devices=tuple(devices),
                reason=w.reason,
                approved_by=w.approved_by,
                ticket=w.ticket,
                approved_on=w.approved_on,
                expires=w.expires,
                compensating_control=w.compensating_control,
                state=state,
            )
        )
    return tuple(sorted(out, key=lambda x: (x.expires, x.control, x.devices)))
