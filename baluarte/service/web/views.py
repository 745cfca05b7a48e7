"""What the pages show, drawn from the service's inputs and store: plain values for templates.

Nothing here renders words: the templates do, in the reader's language. Everything a device,
an inventory or a waiver file said is passed as data, and escaped where it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape

from baluarte.controls import catalogue
from baluarte.findings import Finding, Status
from baluarte.inventory import Client, Inventory
from baluarte.posture import Observation, compliance_percent, counts
from baluarte.run import RunRecord
from baluarte.service.accounts import User
from baluarte.service.checks import ServiceCheck
from baluarte.service.db import ServiceDb
from baluarte.service.tables import service_checks
from baluarte.service.web.errors import PageError
from baluarte.timezones import zone
from baluarte.waivers import Waiver, WaiverSet

__all__ = [
    "STATUS_ORDER",
    "FindingRow",
    "HistoryRow",
    "WaiverRow",
    "checks_for_run",
    "control_title",
    "finding_rows",
    "history_rows",
    "sparkline",
    "status_rank",
    "visible_client",
    "visible_clients",
    "waiver_rows",
]

# the order findings are listed in, and which status a cell of several is coloured by
STATUS_ORDER: tuple[str, ...] = ("fail", "error", "waived", "pass", "not_applicable")
EVIDENCE_EXCERPT = 1500  # characters of a finding's evidence shown on the device page


def status_rank(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


def control_title(control: str) -> str | None:
    """The control's English title (a catalogue msgid), or None for an unknown control."""
    found = catalogue().get(control)
    return found.title if found else None


# -- clients -------------------------------------------------------------------------------


def visible_clients(inventory: Inventory, user: User) -> list[Client]:
    return [c for c in inventory.clients if user.can_see(c.name)]


def visible_client(inventory: Inventory, user: User, name: str) -> Client:
    """The client ``name`` if this account may see it; else 404, the same answer as for a
    client that does not exist, so an auditor cannot learn other clients' names."""
    for c in inventory.clients:
        if c.name == name and user.can_see(name):
            return c
    raise PageError(404, "not_found")


# -- sparkline ------------------------------------------------------------------------------


def sparkline(
    values: Sequence[float | None], label: str, *, width: int = 120, height: int = 32
) -> Markup:
    """An inline SVG line of percentages (oldest first; None: no posture that day), drawn on
    the range the values span (at least 10 points) so a small change is visible. ``label`` is
    its accessible text, escaped here."""
    pad = 3.0
    known = [v for v in values if v is not None]
    head = (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
    )
    if not known:
        mid = height / 2
        return Markup(
            head + f'<line x1="0" y1="{mid}" x2="{width}" y2="{mid}" class="spark-none"/></svg>'
        )
    low, high = min(known), max(known)
    if high - low < 10:
        middle = (high + low) / 2
        low, high = max(0.0, middle - 5), min(100.0, middle + 5)
        if high - low < 10:  # pressed against 0 or 100
            low, high = (0.0, 10.0) if low == 0 else (90.0, 100.0)
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def point(i: int, v: float) -> tuple[float, float]:
        y = pad + (high - v) / (high - low) * (height - 2 * pad)
        return round(pad + i * step, 1), round(y, 1)

    parts: list[str] = []
    segment: list[tuple[float, float]] = []
    for i, v in enumerate([*values, None]):
        if v is not None:
            segment.append(point(i, v))
            continue
        if len(segment) == 1:
            x, y = segment[0]
            parts.append(f'<circle cx="{x}" cy="{y}" r="1.5" class="spark-line"/>')
        elif segment:
            pts = " ".join(f"{x},{y}" for x, y in segment)
            parts.append(f'<polyline points="{pts}" class="spark-line"/>')
        segment = []
    last = next((i, v) for i, v in reversed(list(enumerate(values))) if v is not None)
    x, y = point(*last)
    parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" class="spark-dot"/>')
    return Markup(head + "".join(parts) + "</svg>")


# -- findings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingRow:
    client: str
    site: str
    device: str
    control: str
    title: str | None  # English msgid; the template translates it
    status: str
    severity: str
    expected: str | None  # stored English; the template shows it through ``phrase``
    observed: str | None
    reason: str | None
    evidence: str | None  # an excerpt
    evidence_cut: bool
    waiver: Mapping[str, Any] | None
    run_id: int | None
    observed_at: datetime | None


def _row(f: Finding, run_id: int | None, at: datetime | None) -> FindingRow:
    evidence = f.evidence
    cut = evidence is not None and len(evidence) > EVIDENCE_EXCERPT
    return FindingRow(
        client=f.client,
        site=f.site,
        device=f.device,
        control=f.control,
        title=control_title(f.control),
        status=str(f.status),
        severity=str(f.severity),
        expected=f.expected,
        observed=f.observed,
        reason=f.reason,
        evidence=evidence[:EVIDENCE_EXCERPT] if evidence and cut else evidence,
        evidence_cut=cut,
        waiver=f.waiver.model_dump() if f.waiver else None,
        run_id=run_id,
        observed_at=at,
    )


def finding_rows(
    items: Iterable[Finding | Observation], run_id: int | None = None
) -> list[FindingRow]:
    """Findings (or observations) as rows, failing first, then by device and control."""
    rows = [
        _row(i.finding, i.run_id, i.observed_at)
        if isinstance(i, Observation)
        else _row(i, run_id, None)
        for i in items
    ]
    return sorted(rows, key=lambda r: (status_rank(r.status), r.site, r.device, r.control))


# -- history ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    run_id: int
    kind: str
    started_at: datetime
    ended_at: datetime | None
    operator: str
    counts: dict[str, int]
    percent: float | None


def history_rows(runs: Sequence[RunRecord], limit: int = 30) -> list[HistoryRow]:
    """The newest ``limit`` runs that hold findings, newest first (runs already reduced to the
    findings wanted, e.g. one device's)."""
    out = []
    for run in reversed(runs):
        if not run.findings:
            continue
        out.append(
            HistoryRow(
                run_id=run.info.id,
                kind=str(run.info.kind),
                started_at=run.info.started_at,
                ended_at=run.info.ended_at,
                operator=run.info.operator_identity.name
                if run.info.operator_identity
                else run.info.operator,
                counts=counts(run.findings),
                percent=compliance_percent(run.findings),
            )
        )
        if len(out) >= limit:
            break
    return out


def checks_for_run(db: ServiceDb, run_id: int) -> list[ServiceCheck]:
    """The service's check that made the run, when the service made it."""
    from baluarte.service.checks import ServiceCheck

    with db.read() as conn:
        rows = (
            conn.execute(sa.select(service_checks).where(service_checks.c.run_id == run_id))
            .mappings()
            .all()
        )
    return [ServiceCheck(**{k: r[k] for k in ServiceCheck.__dataclass_fields__}) for r in rows]


# -- waivers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaiverRow:
    control: str
    title: str | None
    client: str | None
    site: str | None
    tags: tuple[str, ...]
    devices: tuple[str, ...]
    reason: str
    approved_by: str
    approved_on: date | None
    ticket: str | None
    compensating_control: str | None
    expires: date
    state: str  # "expired" | "expiring" | "active"
    days_left: int  # negative once expired


def _visible_waiver(w: Waiver, inventory: Inventory, user: User) -> bool:
    if w.client is not None:
        return user.can_see(w.client)
    if user.clients is None:
        return True
    # no client named: shown to an auditor only when it covers a device of theirs
    return any(w.covers(ref) for ref in inventory.devices() if user.can_see(ref.client_name))


def waiver_rows(
    waivers: WaiverSet,
    inventory: Inventory,
    user: User,
    *,
    default_zone: str,
    warn_days: int,
    now: datetime | None = None,
) -> list[WaiverRow]:
    """The waivers this account may see, the soonest to expire first. A waiver expires at the
    end of its day in its client's zone (as the engine applies it)."""
    now = now or datetime.now(UTC)
    zones = {c.name: c.timezone for c in inventory.clients}
    out = []
    for w in waivers.waivers:
        if not _visible_waiver(w, inventory, user):
            continue
        today = now.astimezone(zone(zones.get(w.client or "", default_zone))).date()
        left = (w.expires - today).days
        state = "expired" if w.expired(today) else ("expiring" if left <= warn_days else "active")
        out.append(
            WaiverRow(
                control=w.control,
                title=control_title(w.control),
                client=w.client,
                site=w.site,
                tags=w.tags or (),
                devices=w.devices or (),
                reason=w.reason,
                approved_by=w.approved_by,
                approved_on=w.approved_on,
                ticket=w.ticket,
                compensating_control=w.compensating_control,
                expires=w.expires,
                state=state,
                days_left=left,
            )
        )
    return sorted(out, key=lambda r: (r.expires, r.control))


def period_default(today: date, days: int = 90) -> tuple[date, date]:
    """The export form's default period: the last ``days`` days, today included."""
    return today - timedelta(days=days - 1), today


def statuses() -> tuple[str, ...]:
    return tuple(str(s) for s in Status)
