"""HTML report: a stored Run as one self-contained page (inline CSS, no scripts, no remote assets).

Every user-facing word lives in ``templates/report.html.j2``; this module only shapes the data
(``report_dict``, the same data as the JSON report) so the template can be translated later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from baluarte.controls import Control
from baluarte.run import RunRecord
from baluarte.timezones import RunZone, local_text
from reports.html_text import VALUE_MAX_CHARS, clip, finalize
from reports.json_report import load_controls, report_dict
from reports.template_cache import template_cache

__all__ = ["EVIDENCE_MAX_CHARS", "EVIDENCE_MAX_LINES", "render_html", "trend_chart"]

# Evidence is an excerpt in the page; the full text stays in the JSON report and the store.
EVIDENCE_MAX_CHARS = 1500
EVIDENCE_MAX_LINES = 25
_TEMPLATES = Path(__file__).parent / "templates"


def render_html(
    run: RunRecord,
    *,
    controls: Mapping[str, Control] | None = None,
    history: Sequence[RunRecord] = (),
    timezone: RunZone | None = None,
) -> str:
    """The Run as one HTML document (``history``, ``timezone``: as for ``report_dict``)."""
    known = load_controls() if controls is None else controls
    report = report_dict(run, controls=known, history=history, timezone=timezone)
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            report=report,
            tz=report["timezone"]["name"],
            run=report["run"],
            summary=report["summary"],
            clients=_clients(report),
            problem_devices=_problem_devices(report),
            controls={c["id"]: c for c in report["controls"]},
            evidence_max_chars=EVIDENCE_MAX_CHARS,
            value_max_chars=VALUE_MAX_CHARS,
            chart=trend_chart(report["trend"]["points"]),
        )
    )


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        bytecode_cache=template_cache(),
        autoescape=True,  # explicit: the ".j2" suffix defeats select_autoescape
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=finalize,  # device and file text: control characters shown, not passed on
    )
    env.filters["when"] = _when
    env.filters["clip"] = clip
    return env


@pass_context
def _when(context: Context, value: str | None) -> str:
    """An ISO 8601 timestamp for reading, in the report's zone with its offset:
    ``2026-12-06 23:10:05 (+01:00)``."""
    if value is None:
        return ""
    return local_text(datetime.fromisoformat(value), context["tz"], seconds=True)


def excerpt(evidence: str | None) -> tuple[str | None, int]:
    """The start of an evidence text, cut at a line and character limit, and how much was cut."""
    if evidence is None:
        return None, 0
    lines = evidence.splitlines(keepends=True)
    cut = "".join(lines[:EVIDENCE_MAX_LINES])[:EVIDENCE_MAX_CHARS]
    return cut.rstrip("\n"), len(evidence) - len(cut)


def _clients(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Findings grouped client → device, each device's findings in catalogue order."""
    titles = {c["id"]: c["title"] for c in report["controls"]}
    order = {c["id"]: i for i, c in enumerate(report["controls"])}  # catalogue order
    by_device: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for f in report["findings"]:
        text, omitted = excerpt(f["evidence"])
        view = {**f, "title": titles.get(f["control"]), "excerpt": text, "omitted": omitted}
        by_device.setdefault((f["client"], f["site"], f["device"]), []).append(view)
    clients: dict[str, dict[str, Any]] = {
        row["client"]: {**row, "devices": []} for row in report["summary"]["by_client"]
    }
    for row in report["devices"]:
        own = by_device[(row["client"], row["site"], row["device"])]
        own.sort(key=lambda v: order[v["control"]])
        clients[row["client"]]["devices"].append({**row, "rows": own})
    return list(clients.values())


def _problem_devices(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Devices with any ``error`` finding, with the distinct reasons given (first three)."""
    reasons: dict[tuple[str, str, str], list[str]] = {}
    for f in report["findings"]:
        if f["status"] == "error":
            seen = reasons.setdefault((f["client"], f["site"], f["device"]), [])
            if f["reason"] and f["reason"] not in seen:
                seen.append(f["reason"])
    out = []
    for row in report["devices"]:
        if row["check_coverage"] != "complete":
            own = reasons.get((row["client"], row["site"], row["device"]), [])
            out.append({**row, "reasons": own[:3], "more_reasons": max(0, len(own) - 3)})
    return out


# The trend chart's drawing area, in SVG user units.
_CHART_WIDTH, _CHART_HEIGHT = 640, 220
_CHART_LEFT, _CHART_RIGHT, _CHART_TOP, _CHART_BOTTOM = 48, 624, 12, 190


def trend_chart(points: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Geometry of the inline SVG trend chart: one point per run, 0-100 % on the y axis.

    Runs with nothing judged get an x position and label but no point, and break no line: the
    line joins the runs that have a value.
    """
    span = _CHART_RIGHT - _CHART_LEFT - 20
    step = span / (len(points) - 1) if len(points) > 1 else 0
    placed = []
    for i, p in enumerate(points):
        x = _CHART_LEFT + 10 + (i * step if len(points) > 1 else span / 2)
        percent = p["compliance_percent"]
        y = None if percent is None else _y(percent)
        placed.append(
            {
                "run_id": p["run_id"],
                "started_at": p["started_at"],
                "percent": percent,
                "x": round(x, 1),
                "y": y,
            }
        )
    line = " ".join(f"{p['x']},{p['y']}" for p in placed if p["y"] is not None)
    return {
        "width": _CHART_WIDTH,
        "height": _CHART_HEIGHT,
        "left": _CHART_LEFT,
        "right": _CHART_RIGHT,
        "ticks": [{"label": v, "y": _y(v)} for v in (0, 25, 50, 75, 100)],
        "points": placed,
        "line": line if sum(p["y"] is not None for p in placed) > 1 else "",
    }


def _y(percent: float) -> float:
    return round(_CHART_BOTTOM - (_CHART_BOTTOM - _CHART_TOP) * percent / 100, 1)
