"""The executive report's page, as words and numbers: the figures told for a manager.

Plain words first — a verdict, five figures, a chart, what was fixed and what is left by area
(patching is "security updates", never ``patching.*``), the exceptions with their reasons —
and control identifiers only in the annex. Every sentence is a catalogue message (context
``executive``); values from input files and devices (a waiver's reason, an observed value) are
inserted as text: the template escapes them and makes their control characters visible.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import format_date, format_skeleton
from babel.numbers import format_percent
from babel.units import format_unit

from baluarte.controls import DOMAINS, catalogue
from baluarte.evidence.data import Lang
from reports.evidence.i18n import Formats
from reports.executive.figures import POSTURE_DAYS, ExecutiveFigures, Fixed, Open
from reports.executive.words import Words
from reports.printed.signing import Signature, verify_command

__all__ = [
    "ANNEX_ROWS",
    "FAIR",
    "GOOD",
    "STEADY_POINTS",
    "TOP_REQUIREMENTS",
    "level",
    "month_phrase",
    "month_title",
    "page",
    "verdict",
]

GOOD = 90.0  # compliance at or above: a good position
FAIR = 75.0  # at or above: acceptable; below: needs attention
STEADY_POINTS = 1.0  # a change this small either way is "steady"
TOP_REQUIREMENTS = 8  # requirements not met, named on the summary
DEVICES_LISTED = 10  # devices not checked, named on the summary
WAIVERS_LISTED = 15  # exceptions on the summary
ANNEX_ROWS = 25  # rows per annex table; the dashboard and the evidence pack have them all
OBSERVED_CHARS = 90  # an observed value in the annex: a line or two
NAMES_SHOWN = 3  # device names in a waiver's row; more are counted

# the chart (SVG user units; the page scales it to the column)
WIDTH, HEIGHT = 680, 190
LEFT, RIGHT, TOP, BOTTOM = 46, 14, 12, 26


def level(percent: float | None) -> str:
    """good | fair | poor | none"""
    if percent is None:
        return "none"
    if percent >= GOOD:
        return "good"
    return "fair" if percent >= FAIR else "poor"


def _direction(change: float | None) -> str:
    if change is None:
        return "new"
    if change > STEADY_POINTS:
        return "up"
    return "down" if change < -STEADY_POINTS else "same"


def _areas(w: Words) -> dict[str, str]:
    return {
        "patching": w._("Security updates"),
        "firewall": w._("Firewall"),
        "endpoint": w._("Endpoint protection (antivirus)"),
        "backup": w._("Backups"),
        "access": w._("Access control"),
        "logging": w._("Activity logging"),
    }


def verdict(figures: ExecutiveFigures, lang: Lang) -> str:
    """The one-line verdict, in plain words."""
    fmt = Formats(lang, figures.timezone)
    return _verdict(Words(lang), figures, fmt)


def month_title(figures: ExecutiveFigures, lang: Lang) -> str:
    """``Noviembre de 2026`` / ``November 2026``."""
    return _month_title(figures.month.first_day, Formats(lang, figures.timezone))


def month_phrase(figures: ExecutiveFigures, lang: Lang) -> str:
    """``noviembre de 2026`` / ``November 2026``: the month within a sentence."""
    return _month_phrase(figures.month.first_day, Formats(lang, figures.timezone))


def _verdict(w: Words, figures: ExecutiveFigures, fmt: Formats) -> str:
    lvl, way = level(figures.compliance), _direction(figures.change)
    if lvl == "none":
        return w._("No figures this month: no device could be checked.")
    p = fmt.percent(figures.compliance)
    if lvl == "good":
        if way == "up":
            return w._(
                "Good position, and improving: %(percent)s of the checks are met.", percent=p
            )
        if way == "down":
            return w._(
                "Good position, though slipping: %(percent)s of the checks are met.", percent=p
            )
        if way == "same":
            return w._("Good position, steady: %(percent)s of the checks are met.", percent=p)
        return w._("Good position: %(percent)s of the checks are met.", percent=p)
    if lvl == "fair":
        if way == "up":
            return w._(
                "Acceptable position, and improving: %(percent)s of the checks are met.", percent=p
            )
        if way == "down":
            return w._(
                "Acceptable position, but getting worse: %(percent)s of the checks are met.",
                percent=p,
            )
        if way == "same":
            return w._(
                "Acceptable position with work pending: %(percent)s of the checks are met.",
                percent=p,
            )
        return w._("Acceptable position: %(percent)s of the checks are met.", percent=p)
    if way == "up":
        return w._(
            "Needs attention, though improving: only %(percent)s of the checks are met.", percent=p
        )
    if way == "down":
        return w._(
            "Needs attention, and getting worse: only %(percent)s of the checks are met.", percent=p
        )
    return w._("Needs attention: only %(percent)s of the checks are met.", percent=p)


def _month_name(month: date, fmt: Formats) -> str:
    """``octubre`` / ``October``: the month alone, as a sentence names it."""
    return format_date(month, "LLLL", locale=fmt.locale)


def _month_phrase(month: date, fmt: Formats) -> str:
    return str(format_skeleton("yMMMM", month, locale=fmt.locale))


def _month_title(month: date, fmt: Formats) -> str:
    """``Noviembre de 2026`` / ``November 2026``: the month as a heading."""
    text = _month_phrase(month, fmt)
    return text[:1].upper() + text[1:]


def _duration(value: timedelta, fmt: Formats) -> str:
    """``31 días`` / ``5 horas``: a time to fix in days (hours, under a day and a half), never
    rounded to months: "1 month" would hide a week either way."""
    seconds = value.total_seconds()
    if seconds < 3600:
        n, unit = max(1, round(seconds / 60)), "duration-minute"
    elif seconds < 36 * 3600:
        n, unit = round(seconds / 3600), "duration-hour"
    else:
        n, unit = round(seconds / 86400), "duration-day"
    return str(format_unit(n, unit, length="long", locale=fmt.locale))


def _medium(value: datetime | None, fmt: Formats) -> str:
    """``16 nov 2026``: a day in a table, in the client's zone."""
    if value is None:
        return "—"
    return format_date(value.astimezone(fmt.tz).date(), "medium", locale=fmt.locale)


def _took(w: Words, item: Fixed, fmt: Formats) -> str:
    took = _duration(item.took, fmt)
    return w._("%(time)s or more", time=took) if item.at_least else took


def _cards(w: Words, figures: ExecutiveFigures, fmt: Formats) -> list[dict[str, str]]:
    previous = _month_name(figures.month.previous.first_day, fmt)
    change = figures.change
    if figures.compliance is None:
        sub = w._("Nothing could be judged")
    elif change is None:
        sub = w._("No figure for %(month)s to compare with", month=previous)
    else:
        sub = w._("%(points)s points on %(month)s", points=fmt.points(change), month=previous)
    missing = figures.in_scope - figures.verified
    fixed = figures.fixed
    failing = figures.failing
    devices = len({(o.site, o.device) for o in failing})
    active = [x for x in figures.waivers if x.state != "expired"]
    expiring = sum(1 for x in active if x.state == "expiring")
    fix_sub = (
        w._("usually within %(time)s", time=_duration(_median(fixed), fmt))
        if fixed
        else w._("nothing was fixed")
    )
    open_sub = [w._n("on %(count)d device", "on %(count)d devices", devices)] if failing else []
    if figures.new_failures:
        open_sub.append(w._n("%(count)d new", "%(count)d new", figures.new_failures))
    return [
        {
            "key": "compliance",
            "label": w._("Compliance at month end")
            if figures.complete
            else w._("Compliance so far"),
            "value": fmt.percent(figures.compliance),
            "sub": sub,
            "tone": _tone(change),
        },
        {
            "key": "devices",
            "label": w._("Devices checked"),
            "value": w._(
                "%(n)s of %(total)s",
                n=fmt.number(figures.verified),
                total=fmt.number(figures.in_scope),
            ),
            "sub": w._n("%(count)d could not be checked", "%(count)d could not be checked", missing)
            if missing
            else w._("all of them"),
            "tone": "down" if missing else "",
        },
        {
            "key": "fixed",
            "label": w._("Fixed this month"),
            "value": fmt.number(len(fixed)),
            "sub": fix_sub,
            "tone": "",
        },
        {
            "key": "open",
            "label": w._("Still to fix"),
            "value": fmt.number(len(failing)),
            "sub": " · ".join(open_sub) if open_sub else w._("nothing pending"),
            "tone": "down" if figures.new_failures else "",
        },
        {
            "key": "waivers",
            "label": w._("Accepted exceptions"),
            "value": fmt.number(len(active)),
            "sub": w._n("%(count)d expires soon", "%(count)d expire soon", expiring)
            if expiring
            else w._("none expires soon"),
            "tone": "",
        },
    ]


def _tone(change: float | None) -> str:
    if change is None or abs(change) <= STEADY_POINTS:
        return ""
    return "up" if change > 0 else "down"


def _median(items: Sequence[Fixed]) -> timedelta:
    return timedelta(seconds=statistics.median(i.took.total_seconds() for i in items))


def _chart(w: Words, figures: ExecutiveFigures, fmt: Formats) -> dict[str, Any]:
    """The month's line: the posture at the end of each day, the previous month's end as a
    dashed line. The scale starts below the lowest value (by tens), so a change of a few points
    is visible; its labels say where it starts."""
    points = figures.trend
    values = [p.percent for p in points if p.percent is not None]
    if figures.previous is not None:
        values.append(figures.previous)
    if not values:
        return {"empty": True}
    floor = min(max(0.0, math.floor((min(values) - 5) / 10) * 10), 80.0)  # twenty points at least
    step = 10
    if 100 - floor > 60:  # a line every twenty points, from a multiple of twenty: 100 is one
        floor, step = math.floor(floor / 20) * 20, 20
    days = (figures.month.next.first_day - figures.month.first_day).days
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(index: int) -> float:
        return round(LEFT + plot_w * index / max(days - 1, 1), 1)

    def y(value: float) -> float:
        return round(TOP + plot_h * (1 - (value - floor) / (100 - floor)), 1)

    segments: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for i, p in enumerate(points):
        if p.percent is None:  # nothing judged yet: a gap, never an invented value
            if current:
                segments.append(current)
            current = []
        else:
            current.append((x(i), y(p.percent)))
    if current:
        segments.append(current)
    ticks = [
        {"y": y(v), "label": format_percent(v / 100, locale=fmt.locale)}
        for v in range(int(floor), 101, step)
    ]
    labelled = [i for i in range(0, days, 7)]
    if days - 1 - labelled[-1] >= 3:
        labelled.append(days - 1)
    first = figures.month.first_day
    base = HEIGHT - BOTTOM
    last = next((p for p in reversed(points) if p.percent is not None), None)
    out: dict[str, Any] = {
        "empty": False,
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "ticks": ticks,
        "lines": [" ".join(f"{a},{b}" for a, b in s) for s in segments],
        # the area under each line, closed along the axis
        "areas": [
            " ".join([f"{s[0][0]},{base}", *(f"{a},{b}" for a, b in s), f"{s[-1][0]},{base}"])
            for s in segments
        ],
        "days": [
            {"x": x(i), "label": format_date(first + timedelta(days=i), "d MMM", locale=fmt.locale)}
            for i in labelled
        ],
        "dots": [{"x": a, "y": b} for s in segments for a, b in s] if len(points) <= 31 else [],
        "previous": None,
        "last": None,
    }
    if figures.previous is not None:
        out["previous"] = {
            "y": y(figures.previous),
            "caption": w._(
                "The share of checks met at the end of each day; the dashed line is the figure "
                "at the end of %(month)s (%(percent)s).",
                month=_month_name(figures.month.previous.first_day, fmt),
                percent=fmt.percent(figures.previous),
            ),
        }
    if last is not None and last.percent is not None:
        i = points.index(last)
        out["last"] = {"x": x(i), "y": y(last.percent), "label": fmt.percent(last.percent)}
    return out


def _by_area_fixed(w: Words, figures: ExecutiveFigures, fmt: Formats) -> list[dict[str, str]]:
    names = _areas(w)
    rows = []
    for domain in DOMAINS:
        items = [f for f in figures.fixed if f.domain == domain]
        if not items:
            continue
        slowest = max(items, key=lambda f: f.took)
        rows.append(
            {
                "area": names[domain],
                "count": fmt.number(len(items)),
                "typical": _duration(_median(items), fmt),
                "slowest": _took(w, slowest, fmt),
            }
        )
    return rows


def _fixed_text(w: Words, figures: ExecutiveFigures, fmt: Formats) -> list[str]:
    fixed = figures.fixed
    if not fixed:
        if not figures.open:
            return [w._("There was nothing to fix this month.")]
        return [w._("Nothing was fixed this month.")]
    out = [
        w._n(
            "%(count)d problem was fixed this month.",
            "%(count)d problems were fixed this month.",
            len(fixed),
        )
    ]
    if len(fixed) == 1:
        out.append(w._("It took %(time)s.", time=_took(w, fixed[0], fmt)))
    else:
        slowest = max(fixed, key=lambda f: f.took)
        out.append(
            w._(
                "Half of them were fixed within %(median)s; the slowest took %(slowest)s.",
                median=_duration(_median(fixed), fmt),
                slowest=_took(w, slowest, fmt),
            )
        )
    return out


def _by_area_open(w: Words, figures: ExecutiveFigures, fmt: Formats) -> list[dict[str, str]]:
    names = _areas(w)
    rows = []
    for domain in DOMAINS:
        items = [o for o in figures.open if o.domain == domain]
        if not items:
            continue
        failing = [o for o in items if o.status == "fail"]
        dated = [o for o in failing if o.since is not None]
        oldest = min(dated, key=lambda o: o.since or datetime.max) if dated else None
        since = "—"
        if oldest is not None:
            since = _medium(oldest.since, fmt)
            if oldest.at_least:
                since = w._("%(date)s or earlier", date=since)
        rows.append(
            {
                "area": names[domain],
                "failing": fmt.number(len(failing)),
                "devices": fmt.number(len({(o.site, o.device) for o in failing})),
                "new": fmt.number(sum(1 for o in failing if o.new)),
                "since": since,
                "errors": fmt.number(len(items) - len(failing)),
            }
        )
    return rows


_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def _requirements(w: Words, figures: ExecutiveFigures) -> tuple[list[dict[str, str]], int]:
    """The requirements not met, most serious and widest first: the catalogue's title (in the
    report's language) and on how many devices; and how many more are left unnamed."""
    controls = catalogue()
    names = _areas(w)
    per: dict[str, set[tuple[str, str]]] = {}
    severity: dict[str, str] = {}
    for o in figures.failing:
        per.setdefault(o.control, set()).add((o.site, o.device))
        severity[o.control] = o.severity
    ranked = sorted(per, key=lambda c: (_SEVERITY_RANK.get(severity[c], 9), -len(per[c]), c))
    rows = []
    for control in ranked[:TOP_REQUIREMENTS]:
        known = controls.get(control)
        title = w.plain(known.title) if known is not None else control
        rows.append(
            {
                "title": title,
                "area": names.get(control.partition(".")[0], ""),
                "devices": w._n("on %(count)d device", "on %(count)d devices", len(per[control])),
            }
        )
    return rows, max(len(ranked) - TOP_REQUIREMENTS, 0)


def _unverified(w: Words, figures: ExecutiveFigures, fmt: Formats) -> list[dict[str, str]]:
    rows = []
    for d in figures.unverified[:DEVICES_LISTED]:
        why = w._("could not be reached") if d.reason == "unreadable" else w._("never checked")
        last = w._("last read %(when)s", when=fmt.date(d.last_read)) if d.last_read else ""
        rows.append({"device": d.device, "site": d.site, "why": why, "last": last})
    return rows


def _device_list(w: Words, devices: Sequence[str]) -> str:
    if len(devices) <= NAMES_SHOWN:
        return ", ".join(devices)
    return w._n("%(count)d device", "%(count)d devices", len(devices))


def _waivers(w: Words, figures: ExecutiveFigures, fmt: Formats) -> list[dict[str, str]]:
    controls = catalogue()
    names = _areas(w)
    states = {"active": "", "expiring": w._("expires soon"), "expired": w._("expired")}
    rows = []
    for x in figures.waivers[:WAIVERS_LISTED]:
        known = controls.get(x.control)
        rows.append(
            {
                "title": w.plain(known.title) if known is not None else x.control,
                "area": names.get(x.domain, ""),
                "devices": _device_list(w, x.devices),
                "reason": x.reason,
                "meanwhile": w._("Meanwhile: %(what)s", what=x.compensating_control)
                if x.compensating_control
                else "",
                "approved_by": x.approved_by,
                "until": fmt.date(x.expires),
                "state": x.state,
                "state_text": states[x.state],
            }
        )
    return rows


def _annex(w: Words, figures: ExecutiveFigures, fmt: Formats) -> dict[str, Any]:
    fixed = [
        {
            "device": f.device,
            "site": f.site,
            "control": f.control,
            "since": fmt.short_date(f.failing_since),
            "fixed": fmt.short_date(f.fixed_at),
            "took": _took(w, f, fmt),
        }
        for f in figures.fixed[:ANNEX_ROWS]
    ]
    order = sorted(
        figures.open,
        key=lambda o: (o.status != "fail", DOMAINS.index(o.domain), o.device, o.control),
    )
    opened = [
        {
            "device": o.device,
            "site": o.site,
            "control": o.control,
            "since": _since(w, o, fmt),
            "observed": _clip(o.observed if o.status == "fail" else o.reason),
            "error": o.status == "error",
        }
        for o in order[:ANNEX_ROWS]
    ]
    waivers = [
        {
            "control": x.control,
            "devices": ", ".join(x.devices),
            "ticket": x.ticket or "—",
            "approved_on": fmt.short_date(x.approved_on),
            "until": fmt.short_date(x.expires),
        }
        for x in figures.waivers[:ANNEX_ROWS]
    ]

    def more(total: int) -> str:
        left = total - ANNEX_ROWS
        if left <= 0:
            return ""
        return w._n(
            "%(count)d more not listed here: the dashboard and the evidence pack list them all.",
            "%(count)d more not listed here: the dashboard and the evidence pack list them all.",
            left,
        )

    return {
        "fixed": fixed,
        "fixed_more": more(len(figures.fixed)),
        "open": opened,
        "open_more": more(len(figures.open)),
        "waivers": waivers,
        "waivers_more": more(len(figures.waivers)),
    }


def _more(w: Words, left: int) -> str:
    return w._n("…and %(count)d more.", "…and %(count)d more.", left) if left > 0 else ""


def _since(w: Words, o: Open, fmt: Formats) -> str:
    if o.status == "error":
        return w._("could not be checked")
    text = fmt.short_date(o.since)
    return w._("%(date)s or earlier", date=text) if o.at_least else text


def _clip(text: str | None) -> str:
    if not text:
        return ""
    text = " ".join(text.split())  # one line: a table cell, not a transcript
    return text if len(text) <= OBSERVED_CHARS else text[: OBSERVED_CHARS - 1] + "…"


def page(
    figures: ExecutiveFigures,
    lang: Lang,
    *,
    signature: Signature | None = None,
) -> dict[str, Any]:
    """Everything the template shows, in ``lang``."""
    fmt = Formats(lang, figures.timezone)
    w = Words(fmt.lang)
    month_title = _month_title(figures.month.first_day, fmt)
    requirements, requirements_more = _requirements(w, figures)
    failing = figures.failing
    counts = Counter(o.status for o in figures.open)
    return {
        "lang": lang,
        "title": w._("Executive compliance report"),
        "client": figures.legal_name,
        "month": month_title,
        "running": f"{figures.legal_name} · {month_title}",
        "generated": w._("Generated %(when)s", when=fmt.date(figures.generated_at)),
        "generated_iso": figures.generated_at.isoformat(timespec="seconds"),
        "partial": ""
        if figures.complete
        else w._("Month in progress: figures up to %(when)s.", when=fmt.datetime(figures.end)),
        "level": level(figures.compliance),
        "verdict": _verdict(w, figures, fmt),
        "cards": _cards(w, figures, fmt),
        "chart": _chart(w, figures, fmt),
        "runs": w._n(
            "The devices were checked %(count)d time this month.",
            "The devices were checked %(count)d times this month.",
            figures.runs,
        ),
        "fixed_text": _fixed_text(w, figures, fmt),
        "fixed_rows": _by_area_fixed(w, figures, fmt),
        "open_rows": _by_area_open(w, figures, fmt),
        "open_text": w._n(
            "%(count)d problem is still open.", "%(count)d problems are still open.", len(failing)
        )
        if failing
        else (
            w._("Nothing is pending: everything that could be checked is met.")
            if not counts["error"]
            else w._("No requirement is known to be unmet.")
        ),
        "errors_text": w._n(
            "%(count)d check could not be made: it counts as not met until it is made.",
            "%(count)d checks could not be made: they count as not met until they are made.",
            counts["error"],
        )
        if counts["error"]
        else "",
        "requirements": requirements,
        "requirements_more": w._n(
            "…and %(count)d more requirement.",
            "…and %(count)d more requirements.",
            requirements_more,
        )
        if requirements_more
        else "",
        "unverified": _unverified(w, figures, fmt),
        "unverified_more": _more(w, len(figures.unverified) - DEVICES_LISTED),
        "waivers": _waivers(w, figures, fmt),
        "waivers_more": _more(w, len(figures.waivers) - WAIVERS_LISTED),
        "window_days": fmt.number(POSTURE_DAYS),
        "annex": _annex(w, figures, fmt),
        "signature": signature,
        "verify_command": verify_command(signature),
    }
