"""The dashboard's read model: each client's posture, summed up once per change, read cheaply.

The overview of 200 clients cannot fold 200 clients' runs on every request. After a run (the
service's own, or one the CLI stored in the same database) each covered client's posture is
built once from its runs of the last ``POSTURE_DAYS`` days and kept as a row of
``service_posture_cache``: the overview reads those rows; the client page reads one.

Figures come from the client's posture (baluarte/posture.py), never from whichever run was
last: a device that no run of the window read is *not verified*; one whose last attempt failed
is not verified either, whatever an earlier run saw. Observations older than the window are
left out: a pass from two months ago shown as current would be a stale pass.

Staleness: each row remembers the store's newest finished run (``runs.chain_seq``) when it was
built. A run finished since that covers the client makes the row stale; it is rebuilt when
asked for (``client_summaries(service, rebuild=True)``) or by ``refresh``.

Response targets (``sla:``, baluarte/service/sla.py): each failing control carries its due time
(the start of its fail streak plus its device's target, in business hours), its priority and
whether it is recurring (it failed on the device before, and was fixed less than
``recurring_days`` before this streak began: read from runs that far before the window); the
controls fixed within the window carry their time to remediate. Whether something is overdue is
worked out when read, never cached: time passes while the row does not change. A row built
under other targets (the configuration changed) is rebuilt when read.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from baluarte.findings import Status
from baluarte.history import ControlState
from baluarte.inventory import Client
from baluarte.posture import DeviceKey, Posture, posture_at, posture_trend
from baluarte.posture_drift import posture_drift
from baluarte.run import RunRecord, RunState
from baluarte.service.sla import ResponseTargets, Target, response_targets
from baluarte.service.tables import posture_cache
from baluarte.store.tables import findings as findings_table
from baluarte.store.tables import runs as runs_table
from baluarte.timezones import DEFAULT_TIMEZONE, zone
from baluarte.waivers import Waiver

if TYPE_CHECKING:
    from baluarte.service.context import Service

__all__ = [
    "POSTURE_DAYS",
    "TREND_DAYS",
    "ClientDetail",
    "ClientSummary",
    "DeviceRow",
    "DomainCell",
    "FailingControl",
    "Remediated",
    "Verdict",
    "build",
    "client_detail",
    "client_summaries",
    "earlier_verdicts",
    "refresh",
    "stale_clients",
]

POSTURE_DAYS = 30  # observations older than this are not current posture
TREND_DAYS = 30  # points of the overview's sparkline (one per day, the client's days)


@dataclass(frozen=True)
class ClientSummary:
    """A client's row on the overview: posture figures, never the last run's."""

    client: str
    legal_name: str
    timezone: str
    compliance_percent: float | None  # pass / (pass + fail + error) at the posture; None: none
    trend: tuple[float | None, ...]  # posture at the end of each of the last TREND_DAYS days
    devices_in_scope: int
    devices_verified: int
    devices_not_verified: int
    counts: dict[str, int]  # the posture's findings per status
    new_drift: int  # controls that passed at the previous posture and fail now
    expiring_waivers: int  # waivers of the client expiring soon (from the waiver file)
    last_run_id: int | None  # the newest run in the posture
    last_run_at: datetime | None
    computed_at: datetime
    stale: bool = False  # a run finished since that covers the client: being rebuilt
    # response targets: controls failing now (errors are no verdict: not drift), those of them
    # recurring, each one's due time (oldest first), and how many are past it when read
    open_drift: int = 0
    recurring: int = 0
    due_times: tuple[datetime, ...] = ()
    overdue: int = 0  # worked out when read, never cached


@dataclass(frozen=True)
class DomainCell:
    passed: int = 0
    failed: int = 0
    errors: int = 0
    waived: int = 0
    not_applicable: int = 0

    @property
    def worst(self) -> str | None:
        """The cell's colour: error, fail, pass, waived, not_applicable; None when empty."""
        for status, n in (
            ("error", self.errors),
            ("fail", self.failed),
            ("pass", self.passed),
            ("waived", self.waived),
            ("not_applicable", self.not_applicable),
        ):
            if n:
                return status
        return None


@dataclass(frozen=True)
class DeviceRow:
    site: str
    device: str
    platform: str
    state: str  # verified | partial | not_verified
    reason: str | None  # not verified: never_checked | unreadable
    observed_at: datetime | None
    cells: dict[str, DomainCell] = field(default_factory=dict)  # by domain
    errors: tuple[str, ...] = ()  # its last failed attempt's reasons


@dataclass(frozen=True)
class FailingControl:
    site: str
    device: str
    control: str
    status: str  # fail | error
    severity: str
    failing_since: datetime | None  # the start of its fail streak within the window
    run_id: int
    observed_at: datetime
    expected: str | None
    observed: str | None
    reason: str | None
    # a fail's response target (an error is no verdict: none); due: the streak's start (its
    # only observation when the window holds one run) plus the target, in business hours
    priority: str | None = None
    target_hours: float | None = None
    due_at: datetime | None = None
    recurring: bool = False  # failed on the device before, fixed within recurring_days of this
    overdue: bool = False  # past due_at when read: never cached


@dataclass(frozen=True)
class Remediated:
    """A control fixed within the window: how long it took, in business hours, against its
    device's target. A streak that began before the window is counted from its first
    observation in it."""

    site: str
    device: str
    control: str
    severity: str
    failing_since: datetime
    fixed_at: datetime  # the run that found it passing
    business_hours: float
    target_hours: float
    priority: str
    met: bool  # business_hours within target_hours


@dataclass(frozen=True)
class ClientDetail:
    summary: ClientSummary
    domains: tuple[str, ...]
    devices: tuple[DeviceRow, ...]
    failing: tuple[FailingControl, ...]
    remediated: tuple[Remediated, ...] = ()  # newest fix first


_STATUS_FIELD = {
    Status.PASS: "passed",
    Status.FAIL: "failed",
    Status.ERROR: "errors",
    Status.WAIVED: "waived",
    Status.NOT_APPLICABLE: "not_applicable",
}


def _scope(client: Client) -> dict[DeviceKey, str]:
    return {
        (client.name, site.name, dev.name): dev.platform
        for site in client.sites
        for dev in site.devices
    }


def _new_drift(before: Posture | None, after: Posture) -> int:
    if before is None:
        return 0
    was = {
        (o.finding.site, o.finding.device, o.finding.control): o.finding.status
        for o in before.observations
    }
    return sum(
        1
        for o in after.observations
        if o.finding.status is Status.FAIL
        and was.get((o.finding.site, o.finding.device, o.finding.control)) is Status.PASS
    )


def _waivers(service: Service) -> tuple[Waiver, ...]:
    try:
        return service.inputs().waivers.waivers
    except Exception:  # broken input files: the pages say so; the figure is unknown
        return ()


def _expiring(
    service: Service, client: Client, today: date, waivers: Sequence[Waiver] | None = None
) -> int:
    from baluarte.inventory import DeviceRef

    warn = service.config.notifications.waiver_warning_days
    if waivers is None:
        waivers = _waivers(service)
    if not waivers:
        return 0
    refs = [DeviceRef(client, s, d) for s in client.sites for d in s.devices]
    return sum(
        1
        for w in waivers
        if not w.expired(today)
        and (w.expires - today).days <= warn
        and any(w.covers(r) for r in refs)
    )


Key = tuple[str, str, str]  # site, device, control


@dataclass(frozen=True)
class Verdict:
    """A judged observation (no error) of the client from before the window: read only to
    tell recurring drift, a few columns instead of whole runs."""

    at: datetime  # its run's start
    run_id: int
    site: str
    device: str
    control: str
    status: Status


def _recurring(
    client: str,
    runs: Sequence[RunRecord],
    earlier: Sequence[Verdict],
    failing: set[Key],
    within: timedelta,
) -> set[Key]:
    """Of the ``failing`` controls, those whose earlier fail streak ended (a run found them
    passing, waived or not applicable) less than ``within`` before the current streak began.
    Errors are no verdict: they neither end nor start a streak (as in posture_drift)."""
    judged: dict[Key, list[tuple[datetime, Status]]] = {}
    for v in sorted(earlier, key=lambda v: (v.at, v.run_id)):
        key = (v.site, v.device, v.control)
        if key in failing and v.status is not Status.ERROR:
            judged.setdefault(key, []).append((v.at, v.status))
    for run in sorted(runs, key=lambda r: (r.info.started_at, r.info.id)):
        for f in run.findings:
            key = (f.site, f.device, f.control)
            if f.client == client and key in failing and f.status is not Status.ERROR:
                judged.setdefault(key, []).append((run.info.started_at, f.status))
    out: set[Key] = set()
    for key, seen in judged.items():
        if seen[-1][1] is not Status.FAIL:
            continue
        start = len(seen) - 1
        while start > 0 and seen[start - 1][1] is Status.FAIL:
            start -= 1
        last_fail = next((i for i in range(start - 1, -1, -1) if seen[i][1] is Status.FAIL), None)
        if last_fail is not None and seen[start][0] - seen[last_fail + 1][0] < within:
            out.add(key)
    return out


def build(
    client: Client,
    runs: Sequence[RunRecord],
    *,
    now: datetime,
    expiring_waivers: int = 0,
    targets: ResponseTargets | None = None,
    earlier: Sequence[Verdict] = (),
) -> ClientDetail:
    """The client's detail (and summary) from its runs of the window, oldest first. Pure.

    ``targets``: the response targets (None: the default, 8 business hours in Madrid);
    ``earlier``: the client's verdicts before the window (``earlier_verdicts``), read only to
    tell recurring drift."""
    if targets is None:
        targets = ResponseTargets.from_settings(None, DEFAULT_TIMEZONE)
    scope = _scope(client)
    tz = zone(client.timezone)
    after = posture_at(runs, None, scope)
    before = posture_at(runs[:-1], None, scope) if len(runs) > 1 else None
    today = now.astimezone(tz).date()
    trend = posture_trend(runs, today - timedelta(days=TREND_DAYS - 1), today, scope, tz=tz)
    last = runs[-1].info if runs else None
    summary = ClientSummary(
        client=client.name,
        legal_name=client.legal_name,
        timezone=client.timezone,
        compliance_percent=after.compliance_percent,
        trend=tuple(p.compliance_percent for p in trend),
        devices_in_scope=after.in_scope,
        devices_verified=after.verified,
        devices_not_verified=after.in_scope - after.verified,
        counts=after.counts,
        new_drift=_new_drift(before, after),
        expiring_waivers=expiring_waivers,
        last_run_id=last.id if last else None,
        last_run_at=last.started_at if last else None,
        computed_at=now,
    )
    cells: dict[tuple[str, str], dict[str, dict[str, int]]] = {}
    domains: set[str] = set()
    for obs in after.observations:
        f = obs.finding
        domain = f.control.partition(".")[0]
        domains.add(domain)
        cell = cells.setdefault((f.site, f.device), {}).setdefault(domain, {})
        name = _STATUS_FIELD[f.status]
        cell[name] = cell.get(name, 0) + 1
    devices = tuple(
        DeviceRow(
            site=d.site,
            device=d.device,
            platform=d.platform,
            state=d.state,
            reason=d.reason,
            observed_at=d.observed_at,
            cells={k: DomainCell(**v) for k, v in cells.get((d.site, d.device), {}).items()},
            errors=d.errors,
        )
        for d in after.devices
        if d.in_scope
    )
    drift = posture_drift(runs, scope, final=after)
    since: dict[tuple[str, str, str], datetime | None] = {}
    if drift is not None:
        for state in (*drift.newly_failing, *drift.still_failing):
            since[(state.site, state.device, state.control)] = state.failing_since
    device_target = {
        (site.name, dev.name): targets.target_for(dev.platform, dev.tags)
        for site in client.sites
        for dev in site.devices
    }

    def target(site: str, device: str, platform: str) -> Target:
        return device_target.get((site, device)) or targets.target_for(platform)

    open_keys = {
        (o.finding.site, o.finding.device, o.finding.control)
        for o in after.observations
        if o.finding.status is Status.FAIL
    }
    recurring = _recurring(client.name, runs, earlier, open_keys, targets.recurring_window)
    failing_list: list[FailingControl] = []
    for o in after.observations:
        f = o.finding
        if f.status not in (Status.FAIL, Status.ERROR):
            continue
        key = (f.site, f.device, f.control)
        row = FailingControl(
            site=f.site,
            device=f.device,
            control=f.control,
            status=f.status.value,
            severity=f.severity.value,
            # one run alone has nothing to compare: a fail's streak began at that run
            failing_since=since.get(key) or (o.observed_at if f.status is Status.FAIL else None),
            run_id=o.run_id,
            observed_at=o.observed_at,
            expected=f.expected,
            observed=f.observed,
            reason=f.reason,
        )
        if f.status is Status.FAIL:
            # one run alone has nothing to compare: its streak began at that run
            goal = target(f.site, f.device, f.platform)
            due = targets.due_at(row.failing_since or o.observed_at, goal)
            row = replace(
                row,
                priority=goal.priority,
                target_hours=goal.hours,
                due_at=due,
                recurring=key in recurring,
                overdue=now > due,
            )
        failing_list.append(row)
    failing = tuple(failing_list)
    remediated = _remediated(drift.newly_passing if drift else (), after, target, targets)
    due_times = tuple(sorted(f.due_at for f in failing if f.due_at is not None))
    summary = replace(
        summary,
        open_drift=len(open_keys),
        recurring=len(recurring),
        due_times=due_times,
        overdue=sum(1 for d in due_times if now > d),
    )
    return ClientDetail(summary, tuple(sorted(domains)), devices, failing, remediated)


def _remediated(
    fixed: Iterable[ControlState],
    after: Posture,
    target: Callable[[str, str, str], Target],
    targets: ResponseTargets,
) -> tuple[Remediated, ...]:
    observed = {
        (o.finding.site, o.finding.device, o.finding.control): o for o in after.observations
    }
    out: list[Remediated] = []
    for state in fixed:
        obs = observed.get((state.site, state.device, state.control))
        if obs is None or state.failing_since is None or state.time_to_remediate is None:
            continue
        goal = target(state.site, state.device, obs.finding.platform)
        done = state.failing_since + state.time_to_remediate
        hours = targets.business_hours(state.failing_since, done)
        out.append(
            Remediated(
                site=state.site,
                device=state.device,
                control=state.control,
                severity=obs.finding.severity.value,
                failing_since=state.failing_since,
                fixed_at=done,
                business_hours=round(hours, 2),
                target_hours=goal.hours,
                priority=goal.priority,
                met=hours <= goal.hours,
            )
        )
    out.sort(key=lambda r: (r.fixed_at, r.site, r.device, r.control), reverse=True)
    return tuple(out)


# -- the cache ----------------------------------------------------------------------------------


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _summary_from(
    data: Mapping[str, Any], *, stale: bool = False, now: datetime | None = None
) -> ClientSummary:
    due = tuple(datetime.fromisoformat(d) for d in data.get("due_times", ()))
    at = now or datetime.now(UTC)
    return ClientSummary(
        **{
            **{k: v for k, v in data.items() if k != _SLA_KEY},
            "trend": tuple(data["trend"]),
            "last_run_at": _dt(data["last_run_at"]),
            "computed_at": _dt(data["computed_at"]),
            "stale": stale,
            "due_times": due,
            "overdue": sum(1 for d in due if at > d),
        }
    )


def _failing_from(data: Mapping[str, Any], now: datetime) -> FailingControl:
    due = _dt(data.get("due_at"))
    return FailingControl(
        **{
            **data,
            "failing_since": _dt(data["failing_since"]),
            "observed_at": _dt(data["observed_at"]),
            "due_at": due,
            "overdue": due is not None and now > due,
        }
    )


def _remediated_from(data: Mapping[str, Any]) -> Remediated:
    return Remediated(
        **{
            **data,
            "failing_since": datetime.fromisoformat(data["failing_since"]),
            "fixed_at": datetime.fromisoformat(data["fixed_at"]),
        }
    )


def _detail_from(
    summary: ClientSummary, data: Mapping[str, Any], now: datetime | None = None
) -> ClientDetail:
    at = now or datetime.now(UTC)
    return ClientDetail(
        summary=summary,
        domains=tuple(data["domains"]),
        devices=tuple(
            DeviceRow(
                **{
                    **d,
                    "observed_at": _dt(d["observed_at"]),
                    "cells": {k: DomainCell(**v) for k, v in d["cells"].items()},
                    "errors": tuple(d["errors"]),
                }
            )
            for d in data["devices"]
        ),
        failing=tuple(_failing_from(f, at) for f in data["failing"]),
        remediated=tuple(_remediated_from(r) for r in data.get("remediated", ())),
    )


def _json(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.isoformat(), ensure_ascii=False)


_SLA_KEY = "sla"  # the summary's record of the response targets it was built under


def _summary_json(summary: ClientSummary, sla_key: str = "") -> str:
    data = asdict(summary)
    data.pop("stale")
    data.pop("overdue")  # a matter of when it is read
    data[_SLA_KEY] = sla_key
    return _json(data)


def _without_overdue(f: FailingControl) -> dict[str, Any]:
    data = asdict(f)
    data.pop("overdue")
    return data


def _detail_json(detail: ClientDetail) -> str:
    return _json(
        {
            "domains": list(detail.domains),
            "devices": [asdict(d) for d in detail.devices],
            "failing": [_without_overdue(f) for f in detail.failing],
            "remediated": [asdict(r) for r in detail.remediated],
        }
    )


def earlier_verdicts(
    service: Service, client: str, start: datetime, end: datetime
) -> list[Verdict]:
    """The client's judged observations from its complete runs started in ``[start, end)``,
    oldest first: five columns a finding, not whole runs (reading a month of runs twice over
    would double the cost of every rebuild)."""
    query = (
        sa.select(
            runs_table.c.started_at,
            runs_table.c.id,
            findings_table.c.site,
            findings_table.c.device,
            findings_table.c.control,
            findings_table.c.status,
        )
        .join(runs_table, runs_table.c.id == findings_table.c.run_id)
        .where(
            findings_table.c.client == client,
            findings_table.c.status != Status.ERROR.value,
            runs_table.c.state == RunState.COMPLETE.value,
            runs_table.c.started_at >= start,
            runs_table.c.started_at < end,
        )
        .order_by(runs_table.c.started_at, runs_table.c.id, findings_table.c.seq)
    )
    with service.db.read() as conn:
        return [Verdict(r[0], r[1], r[2], r[3], r[4], Status(r[5])) for r in conn.execute(query)]


def _newest_seq(service: Service) -> int:
    with service.db.read() as conn:
        value = conn.execute(sa.select(sa.func.max(runs_table.c.chain_seq))).scalar()
    return int(value or 0)


_building = threading.Lock()


def refresh(service: Service, clients: Iterable[str] | None = None) -> list[str]:
    """Rebuild the cached posture of ``clients`` (None: every client of the inventory); the
    names rebuilt. Clients no longer in the inventory lose their row."""
    inventory = service.inputs().inventory
    known = {c.name: c for c in inventory.clients}
    wanted = list(known) if clients is None else [c for c in clients if c in known]
    done = []
    targets = response_targets(service.config)
    waivers = _waivers(service)  # read once, not once per client
    with _building:  # two rebuilds at once would only do the same work twice
        for name in wanted:
            seq = _newest_seq(service)
            now = datetime.now(UTC)
            window = now - timedelta(days=POSTURE_DAYS)
            runs = service.db.store.client_findings(name, start=window)
            # recurring drift looks back recurring_days before the window: their verdicts too
            earlier = earlier_verdicts(service, name, window - targets.recurring_window, window)
            client = known[name]
            detail = build(
                client,
                runs,
                now=now,
                expiring_waivers=_expiring(service, client, now.date(), waivers),
                targets=targets,
                earlier=earlier,
            )
            row = {
                "last_run_id": detail.summary.last_run_id,
                "chain_seq": seq,
                "computed_at": now,
                "summary": _summary_json(detail.summary, targets.key),
                "detail": _detail_json(detail),
            }
            with service.db.write() as conn:
                updated = conn.execute(
                    posture_cache.update().where(posture_cache.c.client == name).values(**row)
                ).rowcount
                if not updated:
                    conn.execute(posture_cache.insert().values(client=name, **row))
            done.append(name)
        if clients is None:
            with service.db.write() as conn:
                conn.execute(posture_cache.delete().where(posture_cache.c.client.not_in(known)))
    return done


def stale_clients(service: Service, rows: Mapping[str, int]) -> set[str]:
    """Of the cached clients (name → the row's chain_seq), those a run finished since covers."""
    if not rows:
        return set()
    oldest = min(rows.values())
    stale: set[str] = set()
    for run_id, seq, scope_client in service.db.store.finished_since(oldest):
        covered = [scope_client] if scope_client else service.db.store.run_clients(run_id)
        stale.update(c for c in covered if c in rows and rows[c] < seq)
    return stale


def client_summaries(service: Service, *, rebuild: bool = False) -> list[ClientSummary]:
    """Every inventory client's cached summary, in inventory order. A client with no row yet
    is built now; a stale row is returned marked ``stale`` (``rebuild``: rebuilt first)."""
    clients = service.inputs().inventory.clients
    with service.db.read() as conn:
        rows = {
            r.client: (r.chain_seq, r.summary)
            for r in conn.execute(
                sa.select(
                    posture_cache.c.client, posture_cache.c.chain_seq, posture_cache.c.summary
                )
            )
        }
    parsed = {k: json.loads(v[1]) for k, v in rows.items()}
    key = response_targets(service.config).key
    # no row yet, or one built under other response targets (or before there were any)
    missing = [c.name for c in clients if parsed.get(c.name, {}).get(_SLA_KEY) != key]
    stale = stale_clients(service, {k: v[0] for k, v in rows.items()})
    if missing or (rebuild and stale):
        refresh(service, missing + (sorted(stale - set(missing)) if rebuild else []))
        return client_summaries(service)
    now = datetime.now(UTC)
    today = now.date()
    waivers = _waivers(service)
    out = []
    for c in clients:
        summary = _summary_from(parsed[c.name], stale=c.name in stale, now=now)
        # waivers change with the waiver file, not with runs: counted now
        out.append(_replace_waivers(summary, _expiring(service, c, today, waivers)))
    return out


def _replace_waivers(summary: ClientSummary, n: int) -> ClientSummary:
    from dataclasses import replace

    return summary if summary.expiring_waivers == n else replace(summary, expiring_waivers=n)


def client_detail(service: Service, client: str, *, rebuild: bool = True) -> ClientDetail | None:
    """The client page's data (None: not in the inventory); rebuilt first when stale."""
    known = {c.name: c for c in service.inputs().inventory.clients}
    if client not in known:
        return None
    with service.db.read() as conn:
        row = (
            conn.execute(sa.select(posture_cache).where(posture_cache.c.client == client))
            .mappings()
            .first()
        )
    stale = row is not None and client in stale_clients(service, {client: row["chain_seq"]})
    data = json.loads(row["summary"]) if row is not None else {}
    outdated = data.get(_SLA_KEY) != response_targets(service.config).key
    if row is None or (stale and rebuild) or (outdated and rebuild):
        refresh(service, [client])
        return client_detail(service, client, rebuild=False)
    now = datetime.now(UTC)
    summary = _replace_waivers(
        _summary_from(data, stale=stale, now=now),
        _expiring(service, known[client], now.date()),
    )
    return _detail_from(summary, json.loads(row["detail"]), now)
