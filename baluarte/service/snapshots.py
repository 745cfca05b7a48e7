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
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from baluarte.findings import Status
from baluarte.inventory import Client
from baluarte.posture import DeviceKey, Posture, posture_at, posture_trend
from baluarte.posture_drift import posture_drift
from baluarte.run import RunRecord
from baluarte.service.tables import posture_cache
from baluarte.store.tables import runs as runs_table
from baluarte.timezones import zone
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
    "build",
    "client_detail",
    "client_summaries",
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


@dataclass(frozen=True)
class ClientDetail:
    summary: ClientSummary
    domains: tuple[str, ...]
    devices: tuple[DeviceRow, ...]
    failing: tuple[FailingControl, ...]


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


def build(
    client: Client,
    runs: Sequence[RunRecord],
    *,
    now: datetime,
    expiring_waivers: int = 0,
) -> ClientDetail:
    """The client's detail (and summary) from its runs of the window, oldest first. Pure."""
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
    failing = tuple(
        FailingControl(
            site=o.finding.site,
            device=o.finding.device,
            control=o.finding.control,
            status=o.finding.status.value,
            severity=o.finding.severity.value,
            failing_since=since.get((o.finding.site, o.finding.device, o.finding.control)),
            run_id=o.run_id,
            observed_at=o.observed_at,
            expected=o.finding.expected,
            observed=o.finding.observed,
            reason=o.finding.reason,
        )
        for o in after.observations
        if o.finding.status in (Status.FAIL, Status.ERROR)
    )
    return ClientDetail(summary, tuple(sorted(domains)), devices, failing)


# -- the cache ----------------------------------------------------------------------------------


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _summary_from(data: Mapping[str, Any], *, stale: bool = False) -> ClientSummary:
    return ClientSummary(
        **{
            **data,
            "trend": tuple(data["trend"]),
            "last_run_at": _dt(data["last_run_at"]),
            "computed_at": _dt(data["computed_at"]),
            "stale": stale,
        }
    )


def _detail_from(summary: ClientSummary, data: Mapping[str, Any]) -> ClientDetail:
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
        failing=tuple(
            FailingControl(
                **{
                    **f,
                    "failing_since": _dt(f["failing_since"]),
                    "observed_at": _dt(f["observed_at"]),
                }
            )
            for f in data["failing"]
        ),
    )


def _json(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.isoformat(), ensure_ascii=False)


def _summary_json(summary: ClientSummary) -> str:
    data = asdict(summary)
    data.pop("stale")
    return _json(data)


def _detail_json(detail: ClientDetail) -> str:
    return _json(
        {
            "domains": list(detail.domains),
            "devices": [asdict(d) for d in detail.devices],
            "failing": [asdict(f) for f in detail.failing],
        }
    )


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
    with _building:  # two rebuilds at once would only do the same work twice
        for name in wanted:
            seq = _newest_seq(service)
            now = datetime.now(UTC)
            runs = service.db.store.client_findings(name, start=now - timedelta(days=POSTURE_DAYS))
            client = known[name]
            detail = build(
                client, runs, now=now, expiring_waivers=_expiring(service, client, now.date())
            )
            row = {
                "last_run_id": detail.summary.last_run_id,
                "chain_seq": seq,
                "computed_at": now,
                "summary": _summary_json(detail.summary),
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
    missing = [c.name for c in clients if c.name not in rows]
    stale = stale_clients(service, {k: v[0] for k, v in rows.items()})
    if missing or (rebuild and stale):
        refresh(service, missing + (sorted(stale) if rebuild else []))
        return client_summaries(service)
    today = datetime.now(UTC).date()
    waivers = _waivers(service)
    out = []
    for c in clients:
        data = json.loads(rows[c.name][1])
        summary = _summary_from(data, stale=c.name in stale)
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
    if row is None or (stale and rebuild):
        refresh(service, [client])
        return client_detail(service, client, rebuild=False)
    summary = _replace_waivers(
        _summary_from(json.loads(row["summary"]), stale=stale),
        _expiring(service, known[client], datetime.now(UTC).date()),
    )
    return _detail_from(summary, json.loads(row["detail"]))
