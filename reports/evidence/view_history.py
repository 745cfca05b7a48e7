"""Evidence report, part 2: the period — drift, trend chart, remediation log, waivers, mapping,
integrity chain. Shapes data only; the words are in the template's catalogues.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from baluarte.controls import FRAMEWORKS, Control
from baluarte.evidence.data import EvidenceData
from baluarte.findings import Finding, WaiverRef
from baluarte.history import ChainLink, ControlState, TrendPoint
from reports.evidence.i18n import Formats

__all__ = ["chain", "drift", "mapping", "remediations", "trend_chart", "waivers"]

# trend chart geometry (SVG user units; the chart scales to the page width)
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 34, 12, 34


def drift(data: EvidenceData, fmt: Formats) -> dict[str, Any] | None:
    d = data.drift
    if d is None:
        return None

    def rows(states: Sequence[ControlState]) -> list[dict[str, Any]]:
        return [
            {
                "client": s.client,
                "site": s.site,
                "device": s.device,
                "control": s.control,
                "status": str(s.status),
                "previous": None if s.previous is None else str(s.previous),
                "failing_since": fmt.datetime(s.failing_since) if s.failing_since else None,
                "time_to_remediate": _duration(s.time_to_remediate, fmt),
            }
            for s in sorted(states, key=lambda s: (s.client, s.site, s.device, s.control))
        ]

    return {
        "from_run": d.from_run,
        "to_run": d.to_run,
        "newly_failing": rows(d.newly_failing),
        "newly_passing": rows(d.newly_passing),
        "still_failing": rows(d.still_failing),
    }


def trend_chart(points: Sequence[TrendPoint], fmt: Formats) -> dict[str, Any]:
    """The compliance-per-run line chart: coordinates, axis ticks, and a table of the points."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    times = [p.started_at.timestamp() for p in points]
    span = (max(times) - min(times)) if len(times) > 1 else 0.0

    def x(i: int) -> float:
        if len(points) == 1:
            return LEFT + plot_w / 2
        if span == 0:
            return LEFT + plot_w * i / (len(points) - 1)
        return LEFT + plot_w * (times[i] - times[0]) / span

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / 100)

    marks: list[dict[str, Any]] = []
    segments: list[list[str]] = []
    current: list[str] = []
    for i, p in enumerate(points):
        v = p.compliance_percent
        mark = {
            "x": round(x(i), 1),
            "y": round(y(v), 1) if v is not None else round(y(0), 1),
            "judged": v is not None,
            "run_id": p.run_id,
            "label": fmt.percent(v),
            "date": fmt.short_date(p.started_at),
            "when": fmt.datetime(p.started_at),
            "counts": p.counts,
        }
        marks.append(mark)
        if v is None:  # nothing judged: the line breaks rather than inventing a value
            if current:
                segments.append(current)
            current = []
        else:
            current.append(f"{mark['x']},{mark['y']}")
    if current:
        segments.append(current)
    # at most ~8 date labels under the axis, always the first and last
    step = max(1, -(-len(marks) // 8))
    labelled = {i for i in range(0, len(marks), step)} | ({len(marks) - 1} if marks else set())
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "ticks": [{"y": round(y(v), 1), "label": fmt.percent(v)} for v in (0, 25, 50, 75, 100)],
        "segments": [" ".join(s) for s in segments],
        "marks": marks,
        "labelled": sorted(labelled),
    }


def remediations(data: EvidenceData, fmt: Formats) -> list[dict[str, Any]]:
    """Every remediation record of the period, oldest run first."""
    return [
        {
            **rec.model_dump(mode="json"),
            "run_id": run.info.id,
            "when": fmt.datetime(run.info.started_at),
        }
        for run in data.runs
        for rec in run.remediations
    ]


def waivers(data: EvidenceData, fmt: Formats) -> list[dict[str, Any]]:
    """Each distinct waiver the period's findings were judged under, with what it covered.

    Expired: it had expired when a run judged it, or its last day is before the report's date.
    """
    groups: dict[WaiverRef, list[Finding]] = {}
    for run in data.runs:
        for f in run.findings:
            if f.waiver is not None:
                groups.setdefault(f.waiver.model_copy(update={"expired": False}), []).append(f)
    today = data.generated_at.date()
    rows: list[dict[str, Any]] = []
    for w, own in groups.items():
        expired = any(f.waiver is not None and f.waiver.expired for f in own) or w.expires < today
        rows.append(
            {
                "reason": w.reason,
                "approved_by": w.approved_by,
                "ticket": w.ticket,
                "expires": fmt.date(w.expires),
                "expires_iso": w.expires.isoformat(),
                "expired": expired,
                "controls": sorted({f.control for f in own}),
                "devices": sorted({f.device for f in own}),
                "_key": (w.expires, w.reason),
            }
        )
    rows.sort(key=lambda r: r.pop("_key"))
    return rows


def mapping(data: EvidenceData, controls: Mapping[str, Control]) -> list[dict[str, Any]]:
    """The framework references of every control the period checked, in catalogue order."""
    used = {f.control for run in data.runs for f in run.findings}
    position = {cid: i for i, cid in enumerate(controls)}
    rows = []
    for cid in sorted(used, key=lambda c: (position.get(c, len(position)), c)):
        ctl = controls.get(cid)
        refs = {fw: list(ctl.mappings.get(fw, ())) if ctl else [] for fw in FRAMEWORKS}
        rows.append(
            {
                "id": cid,
                "title": ctl.title if ctl else None,
                "refs": refs,
                "benchmark": ctl.benchmark if ctl else None,
            }
        )
    return rows


def chain(links: Sequence[ChainLink], fmt: Formats) -> dict[str, Any]:
    """The hash chain over the period: each link, whether it follows the one before, ends."""
    rows = []
    for i, link in enumerate(links):
        follows = None if i == 0 else link.previous_sha256 == links[i - 1].record_sha256
        rows.append(
            {
                "run_id": link.run_id,
                "when": fmt.datetime(link.started_at),
                "previous": link.previous_sha256,
                "record": link.record_sha256,
                "follows": follows,
            }
        )
    return {
        "links": rows,
        "first": links[0].record_sha256 if links else None,
        "last": links[-1].record_sha256 if links else None,
        "broken": [r["run_id"] for r in rows if r["follows"] is False],
    }


def period(data: EvidenceData) -> tuple[date | None, date | None]:
    """The period as asked, else as the runs span it."""
    start = data.period_from or (data.runs[0].info.started_at.date() if data.runs else None)
    end = data.period_to or (data.runs[-1].info.started_at.date() if data.runs else None)
    return start, end


def _duration(value: timedelta | None, fmt: Formats) -> dict[str, str] | None:
    """A remediation time as days and hours (numbers formatted; the words are the template's)."""
    if value is None:
        return None
    hours = value.total_seconds() / 3600
    if hours >= 48:
        return {"unit": "days", "n": fmt.number(hours / 24, 1)}
    return {"unit": "hours", "n": fmt.number(hours, 1)}
