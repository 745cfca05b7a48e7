"""Evidence report, part 2: the period — drift, trend chart, remediation log, waivers, mapping,
integrity chain. Shapes data only; the words are in the template's catalogues.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from baluarte.controls import FRAMEWORKS, Control
from baluarte.evidence.data import EvidenceData
from baluarte.evidence.remediation_files import remediation_files
from baluarte.findings import Finding, WaiverRef
from baluarte.history import ChainLink, ControlState
from baluarte.posture import PosturePoint
from baluarte.remediation import RemediationResult
from baluarte.run import RunInfo
from baluarte.timezones import zone
from reports.evidence.i18n import Formats
from reports.evidence.phrases import phrase, phrase_lines

__all__ = ["chain", "drift", "mapping", "remediations", "trend_chart", "waivers"]

# trend chart geometry (SVG user units; the chart scales to the page width)
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 34, 12, 34
DATE_LABELS = 7  # dates under the axis, evenly spread: about 80 units apart, never touching
DOTS_UP_TO = 31  # a dot per point up to a month of days; past that, the line alone
# on paper, more controls newly passing than this (about a page) are grouped by control
FIXES_PER_DEVICE_UP_TO = 20


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
        # None: few enough for paper to list them device by device too
        "passing_by_control": _by_control(d.newly_passing, fmt)
        if len(d.newly_passing) > FIXES_PER_DEVICE_UP_TO
        else None,
        "still_failing": rows(d.still_failing),
    }


def _by_control(states: Sequence[ControlState], fmt: Formats) -> list[dict[str, Any]]:
    """The controls newly passing, each with its devices (and each one's time to remediate)
    and the longest of those times: what paper shows of a fleet's fixes, a row per control
    instead of a row per device."""
    groups: dict[str, list[ControlState]] = {}
    for s in states:
        groups.setdefault(s.control, []).append(s)
    out = []
    for control in sorted(groups):
        own = sorted(groups[control], key=lambda s: (s.client, s.site, s.device))
        times = [s.time_to_remediate for s in own if s.time_to_remediate is not None]
        out.append(
            {
                "control": control,
                "devices": [
                    {"device": s.device, "time_to_remediate": _duration(s.time_to_remediate, fmt)}
                    for s in own
                ],
                "longest": _duration(max(times), fmt) if times else None,
            }
        )
    return out


def trend_chart(points: Sequence[PosturePoint], fmt: Formats) -> dict[str, Any]:
    """The posture-per-day (or week) line chart: coordinates, axis ticks, and a table of the
    days a run changed it. Days are evenly spaced; at most ``DATE_LABELS`` dates are written
    under the axis, so they never overlap."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w / 2 if len(points) == 1 else plot_w * i / (len(points) - 1))

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
            "runs": list(p.runs),
            "run_ranges": _ranges(p.runs),
            "weekly": p.weekly,
            "label": fmt.percent(v),
            "date": fmt.short_date(p.day),
            "when": fmt.date(p.day),
            "counts": p.counts,
            "verified": fmt.number(p.verified),
            "in_scope": fmt.number(p.in_scope),
        }
        marks.append(mark)
        if v is None:  # nothing observed yet: no line rather than an invented value
            if current:
                segments.append(current)
            current = []
        else:
            current.append(f"{mark['x']},{mark['y']}")
    if current:
        segments.append(current)
    step = max(1, -(-len(marks) // DATE_LABELS))
    labelled = set(range(0, len(marks), step))
    if marks and (len(marks) - 1) % step:  # the last day too, unless it would crowd its left
        labelled.discard(max(labelled))
        labelled.add(len(marks) - 1)
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
        "dots": len(marks) <= DOTS_UP_TO,
        "labelled": sorted(labelled),
        "weekly": any(p.weekly for p in points),
        "rows": [m for m in marks if m["runs"]],
    }


def remediations(data: EvidenceData, fmt: Formats) -> list[dict[str, Any]]:
    """Every remediation record of the period, oldest run first, as a block for paper.

    The planned steps' commands and what ran are left to the record's file in the pack (cited
    by path and SHA-256): a block keeps the change's summary lines and, when it did not apply,
    why — the lines of ``detail`` that are not a command transcript.
    """
    files = {(f.run_id, f.index): f for f in remediation_files(data)}
    out = []
    for run in data.runs:
        for n, rec in enumerate(run.remediations, 1):
            record = rec.model_dump(mode="json")
            file = files[(run.info.id, n)]
            note = ""
            if rec.result is not RemediationResult.APPLIED and rec.detail != rec.action:
                note = "\n".join(phrase(line, fmt.lang) for line in _prose(rec.detail))
            out.append(
                {
                    **{k: record[k] for k in _SHOWN},
                    # stored English: catalogued phrases shown in the report's language
                    "before": phrase_lines(rec.before, fmt.lang),
                    "after": phrase_lines(rec.after, fmt.lang),
                    # recorded by apply since it asked for them; older records have neither
                    "ticket": record.get("ticket"),
                    "approved_by": record.get("approved_by"),
                    "run_id": run.info.id,
                    "n": n,
                    "when": fmt.datetime(run.info.started_at),
                    "operator": run.info.operator,
                    "who": _who(run.info),
                    # "summary · step · step": one line of paper for what the change did
                    "summary": " · ".join(
                        phrase(line.removeprefix("- "), fmt.lang) for line in _prose(rec.action)
                    ),
                    "note": note,
                    "file": file.path,
                    "sha256": file.sha256,
                }
            )
    return out


# the record's own fields a block shows; action and detail stay in the record's file
_SHOWN = ("client", "site", "device", "platform", "control", "result", "before", "after",
          "verification")  # fmt: skip


def _who(info: RunInfo) -> str | None:
    """The person responsible for a run, when it recorded one: "name (role)"."""
    person = getattr(info, "operator_identity", None)  # runs recorded before it was asked for
    if person is None:
        return None
    return f"{person.name} ({person.role})" if person.role else str(person.name)


def _prose(text: str) -> list[str]:
    """The lines of an action or detail that are not commands: apply writes each command as
    ``$ …`` with its further lines indented, and a plan's commands indented under their step."""
    return [
        line
        for line in text.splitlines()
        if line.strip() and not line.startswith((" ", "\t", "$ "))
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
    today = data.generated_at.astimezone(zone(data.timezone)).date()
    rows: list[dict[str, Any]] = []
    for w, own in groups.items():
        expired = any(f.waiver is not None and f.waiver.expired for f in own) or w.expires < today
        rows.append(
            {
                "reason": w.reason,
                "approved_by": w.approved_by,
                "ticket": w.ticket,
                "approved_on": fmt.date(w.approved_on) if w.approved_on else None,
                "compensating_control": w.compensating_control,
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
    """The period as asked, else as the runs span it (days in the client's zone)."""
    here = zone(data.timezone)
    first = data.runs[0].info.started_at.astimezone(here).date() if data.runs else None
    last = data.runs[-1].info.started_at.astimezone(here).date() if data.runs else None
    start = data.period_from or first
    end = data.period_to or last
    return start, end


def _ranges(ids: Sequence[int]) -> str:
    """Run ids as a reader writes them, consecutive ones as a range: "1–6, 9"."""
    spans: list[list[int]] = []
    for i in sorted(ids):
        if spans and i == spans[-1][1] + 1:
            spans[-1][1] = i
        else:
            spans.append([i, i])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def _duration(value: timedelta | None, fmt: Formats) -> dict[str, str] | None:
    """A remediation time as days and hours (numbers formatted; the words are the template's)."""
    if value is None:
        return None
    hours = value.total_seconds() / 3600
    if hours >= 48:
        return {"unit": "days", "n": fmt.number(hours / 24, 1)}
    return {"unit": "hours", "n": fmt.number(hours, 1)}
