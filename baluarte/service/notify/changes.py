"""What to tell about one client after a run: its posture before the run against after it.

``client_changes`` is a pure function of two postures and the waivers (no I/O), so what is told
is decided in one place and tested without a server. Three things are told, each once, when it
happens:

- new drift: a control that passed at the posture before the run and fails now, per device.
  A device seen for the first time brings no drift (nothing passed before); an error is no
  verdict, so a control now unreadable is not drift (the device is told as unreachable);
- a device that became unreachable: read before, and its last attempt now could not read it;
- a waiver of the client that expires within ``warn_days`` days (and has not expired yet).

Each new drift carries its response target (``sla:``, baluarte/service/sla.py): the priority of
its device's target and when it is due (the fail's run plus the target, in business hours).

``run_changes`` reads what ``client_changes`` compares from the store, for the service to call
after each run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from baluarte.findings import Finding, Status
from baluarte.inventory import DeviceRef
from baluarte.posture import DeviceKey, DevicePosture, Posture, posture_at
from baluarte.run import RunRecord
from baluarte.service.sla import ResponseTargets
from baluarte.timezones import DEFAULT_TIMEZONE, zone
from baluarte.waivers import Waiver, WaiverSet

if TYPE_CHECKING:
    from baluarte.service.db import ServiceDb

__all__ = [
    "ClientChanges",
    "DriftItem",
    "ExpiringWaiver",
    "UnreachableDevice",
    "client_changes",
    "run_changes",
]


@dataclass(frozen=True)
class DriftItem:
    """A control that passed at the posture before the run and fails now, on one device."""

    site: str
    device: str
    platform: str
    control: str
    severity: str
    expected: str | None
    observed: str | None
    reason: str | None
    passed_at: datetime  # when the pass it had before was observed
    observed_at: datetime  # when the fail was observed (its run's start)
    run_id: int  # the run that observed the fail
    priority: str | None = None  # its device's response target's
    due_at: datetime | None = None  # observed_at plus the target, in business hours


@dataclass(frozen=True)
class UnreachableDevice:
    """A device that was read at the posture before the run and whose last attempt was not."""

    site: str
    device: str
    platform: str
    state: str  # "not_verified" (nothing current) or "partial" (some controls still current)
    failed_at: datetime | None  # the attempt that could not read it
    failed_run: int | None
    last_read: datetime | None  # when it was last read, if ever
    errors: tuple[str, ...] = ()  # the attempt's reasons, as stored (device text, inert)


@dataclass(frozen=True)
class ExpiringWaiver:
    """A waiver of the client that stops applying soon."""

    control: str
    expires: date  # the last day it applies
    days_left: int  # days from today (the client's day) to ``expires``; 0: expires today
    reason: str
    approved_by: str
    ticket: str | None = None
    site: str | None = None
    devices: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ClientChanges:
    """Everything to tell about one client after one run."""

    client: str
    at: datetime  # when the changes were worked out
    run_id: int | None = None
    new_drift: tuple[DriftItem, ...] = ()
    unreachable: tuple[UnreachableDevice, ...] = ()
    expiring_waivers: tuple[ExpiringWaiver, ...] = ()
    timezone: str = DEFAULT_TIMEZONE  # the client's zone: how times and days are shown
    compliance_percent: float | None = None  # the posture after the run

    @property
    def empty(self) -> bool:
        """Nothing to tell."""
        return not (self.new_drift or self.unreachable or self.expiring_waivers)


def client_changes(
    client: str,
    before: Posture | None,
    after: Posture,
    waivers: WaiverSet,
    *,
    now: datetime,
    warn_days: int = 14,
    run_id: int | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    devices: Iterable[DeviceRef] | None = None,
    since: datetime | None = None,
    targets: ResponseTargets | None = None,
) -> ClientChanges:
    """What to tell about ``client``: ``before`` the run (None: no posture yet) against
    ``after`` it.

    ``timezone``: the client's zone (a waiver applies through its expiry day there).
    ``devices``: the inventory's devices, to know which waivers select this client's devices
    by tags or names alone; without it a waiver is the client's when it names the client, one
    of its sites or devices, or a finding of the posture was judged under it.
    ``since``: when the client was last told anything (``outbox.last_notified``); a waiver
    already within the warning window then was told then and is left out, so a nightly run does
    not repeat it for two weeks (None: every waiver in the window).
    ``targets``: the response targets that date new drift (None: the default, 8 business hours
    in Madrid); a device's tags are read from ``devices`` (without it: by platform only).
    """
    today = _day(now, timezone)
    refs = list(devices) if devices is not None else None
    if targets is None:
        targets = ResponseTargets.from_settings(None, DEFAULT_TIMEZONE)
    return ClientChanges(
        client=client,
        at=now,
        run_id=run_id,
        new_drift=_targeted(_new_drift(client, before, after), targets, client, refs),
        unreachable=_unreachable(client, before, after),
        expiring_waivers=_expiring(
            client,
            after,
            waivers,
            today=today,
            warn_days=warn_days,
            told_on=None if since is None else _day(since, timezone),
            devices=refs,
        ),
        timezone=timezone,
        compliance_percent=after.compliance_percent,
    )


def _day(at: datetime, timezone: str) -> date:
    return at.astimezone(zone(timezone)).date() if at.tzinfo else at.date()


def _new_drift(client: str, before: Posture | None, after: Posture) -> tuple[DriftItem, ...]:
    if before is None:
        return ()
    passed: dict[tuple[str, str, str], datetime] = {
        (o.finding.site, o.finding.device, o.finding.control): o.observed_at
        for o in before.observations
        if o.finding.client == client and o.finding.status is Status.PASS
    }
    out: list[DriftItem] = []
    for obs in after.observations:
        f = obs.finding
        if f.client != client or f.status is not Status.FAIL:
            continue
        was = passed.get((f.site, f.device, f.control))
        if was is None:
            continue
        out.append(
            DriftItem(
                site=f.site,
                device=f.device,
                platform=f.platform,
                control=f.control,
                severity=str(f.severity),
                expected=f.expected,
                observed=f.observed,
                reason=f.reason,
                passed_at=was,
                observed_at=obs.observed_at,
                run_id=obs.run_id,
            )
        )
    out.sort(key=lambda d: (d.site, d.device, d.control))
    return tuple(out)


def _targeted(
    items: tuple[DriftItem, ...],
    targets: ResponseTargets,
    client: str,
    devices: Iterable[DeviceRef] | None,
) -> tuple[DriftItem, ...]:
    """The drift dated by its device's response target (tags from the inventory)."""
    tags = {(r.site_name, r.name): r.tags for r in devices or () if r.client_name == client}
    out = []
    for d in items:
        goal = targets.target_for(d.platform, tags.get((d.site, d.device), ()))
        out.append(replace(d, priority=goal.priority, due_at=targets.due_at(d.observed_at, goal)))
    return tuple(out)


def _readable(d: DevicePosture) -> bool:
    """Read at that posture: something of it is current and its last attempt read it."""
    return d.state != "not_verified" and d.failed_run is None


def _unreachable(
    client: str, before: Posture | None, after: Posture
) -> tuple[UnreachableDevice, ...]:
    if before is None:
        return ()
    was = {(d.site, d.device): d for d in before.devices if d.client == client and d.in_scope}
    out: list[UnreachableDevice] = []
    for d in after.devices:
        if d.client != client or not d.in_scope or d.failed_run is None:
            continue
        prior = was.get((d.site, d.device))
        if prior is None or not _readable(prior):
            continue  # new, or already unreachable before: told then (or never read)
        out.append(
            UnreachableDevice(
                site=d.site,
                device=d.device,
                platform=d.platform,
                state=d.state,
                failed_at=d.failed_at,
                failed_run=d.failed_run,
                last_read=d.observed_at,
                errors=d.errors,
            )
        )
    out.sort(key=lambda u: (u.site, u.device))
    return tuple(out)


def _expiring(
    client: str,
    after: Posture,
    waivers: WaiverSet,
    *,
    today: date,
    warn_days: int,
    told_on: date | None,
    devices: Iterable[DeviceRef] | None,
) -> tuple[ExpiringWaiver, ...]:
    window = timedelta(days=warn_days)
    out: list[ExpiringWaiver] = []
    for w in _client_waivers(client, after, waivers.waivers, devices):
        if w.expired(today) or w.expires > today + window:
            continue
        if told_on is not None and not w.expired(told_on) and w.expires <= told_on + window:
            continue  # within the window already when the client was last told: told then
        out.append(
            ExpiringWaiver(
                control=w.control,
                expires=w.expires,
                days_left=(w.expires - today).days,
                reason=w.reason,
                approved_by=w.approved_by,
                ticket=w.ticket,
                site=w.site,
                devices=w.devices,
                tags=w.tags,
            )
        )
    out.sort(key=lambda e: (e.expires, e.control, e.site or "", e.devices or ()))
    return tuple(out)


def _client_waivers(
    client: str,
    after: Posture,
    waivers: Sequence[Waiver],
    devices: Iterable[DeviceRef] | None,
) -> list[Waiver]:
    if devices is not None:
        refs = [r for r in devices if r.client_name == client]
        return [w for w in waivers if w.client in (None, client) and any(map(w.covers, refs))]
    own = [d for d in after.devices if d.client == client]
    sites = {d.site for d in own}
    names = {(d.site, d.device) for d in own}
    judged = _judged_under(client, after.findings)
    out = []
    for w in waivers:
        if w.client is not None:
            if w.client == client:
                out.append(w)
            continue
        if w.site is not None and w.site not in sites:
            continue
        named = w.devices is not None and any(
            (d.site, n) in names for d in own for n in w.devices if w.site in (None, d.site)
        )
        if (w.devices is None and w.site is not None and w.tags is None) or named:
            out.append(w)
        elif (w.control, w.reason, w.approved_by, w.expires) in judged:
            out.append(w)  # selects by tags: a finding of this client was judged under it
    return out


def _judged_under(client: str, findings: Iterable[Finding]) -> set[tuple[str, str, str, date]]:
    return {
        (f.control, f.waiver.reason, f.waiver.approved_by, f.waiver.expires)
        for f in findings
        if f.client == client and f.waiver is not None
    }


def run_changes(
    db: ServiceDb,
    run: RunRecord,
    waivers: WaiverSet,
    *,
    now: datetime,
    warn_days: int = 14,
    in_scope: Mapping[DeviceKey, str] | None = None,
    timezones: Mapping[str, str] | None = None,
    devices: Iterable[DeviceRef] | None = None,
    targets: ResponseTargets | None = None,
) -> list[ClientChanges]:
    """The changes of each client ``run`` observed, non-empty ones only: the client's posture
    from its complete runs in the store before ``run`` against the posture including it.

    ``in_scope``: the inventory's devices with their platforms (None: every device observed).
    ``timezones``: each client's zone (default Europe/Madrid). Waivers already told to a client
    (see ``client_changes``' ``since``) are read from the outbox. ``targets``: the response
    targets that date new drift (``sla.response_targets(config)``; None: the default).
    """
    from baluarte.service.notify.outbox import last_notified
    from baluarte.service.snapshots import POSTURE_DAYS

    refs = list(devices) if devices is not None else None
    order = (run.info.started_at, run.info.id)
    out: list[ClientChanges] = []
    for client in sorted({f.client for f in run.findings}):
        runs = [
            r
            # the window the dashboard's posture is drawn from; only the client's findings read
            for r in db.store.client_findings(
                client, start=run.info.started_at - timedelta(days=POSTURE_DAYS)
            )
            if (r.info.started_at, r.info.id) < order
        ]
        scope = None if in_scope is None else {k: v for k, v in in_scope.items() if k[0] == client}
        before = posture_at(runs, None, scope) if runs else None
        own = tuple(f for f in run.findings if f.client == client)
        after = posture_at([*runs, run.model_copy(update={"findings": own})], None, scope)
        changes = client_changes(
            client,
            before,
            after,
            waivers,
            now=now,
            warn_days=warn_days,
            run_id=run.info.id,
            timezone=(timezones or {}).get(client, DEFAULT_TIMEZONE),
            devices=refs,
            since=last_notified(db, client),
            targets=targets,
        )
        if not changes.empty:
            out.append(changes)
    return out
