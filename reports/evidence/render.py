"""The evidence report as one self-contained HTML page (and, from it, the PDF), in es or en."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment
from markupsafe import Markup

from baluarte.controls import FRAMEWORKS
from baluarte.evidence.data import EvidenceData, Lang
from baluarte.text import inert
from reports.evidence import view, view_history
from reports.evidence._common import posture_of
from reports.evidence.i18n import Formats, translations
from reports.html_text import VALUE_MAX_CHARS, untrusted_environment
from reports.json_report import load_controls

__all__ = ["render_html"]

_TEMPLATES = Path(__file__).parent / "templates"


def render_html(data: EvidenceData) -> str:
    """The evidence report for ``data``, in ``data.lang``: one HTML document, no external files."""
    fmt = Formats(data.lang, data.timezone)
    controls = load_controls()
    posture = posture_of(data)
    start, end = view_history.period(data)
    return (
        _environment(data.lang)
        .get_template("report.html.j2")
        .render(
            lang=data.lang,
            data=data,
            fmt=fmt,
            period_from=fmt.date(start),
            period_to=fmt.date(end),
            generated=fmt.datetime(data.generated_at),
            summary=view.summary(data, fmt),
            scope=view.scope(data, fmt),
            method=view.method(data, fmt),
            by_control=view.results_by_control(posture, controls, fmt),
            by_device=view.results_by_device(posture, fmt),
            drift=view_history.drift(data, fmt),
            trend=view_history.trend_chart(data.trend, fmt),
            remediations=view_history.remediations(data, fmt),
            waivers=view_history.waivers(data, fmt),
            mapping=view_history.mapping(data, controls),
            frameworks=list(FRAMEWORKS),
            # the catalogue's English text: the template translates it (control_text.py)
            titles={cid: c.title for cid, c in controls.items()},
            rationales={cid: c.rationale for cid, c in controls.items()},
            chain=view_history.chain(data.chain, fmt),
            value_max_chars=fmt.number(VALUE_MAX_CHARS),
        )
    )


@cache
def _environment(lang: Lang) -> Environment:
    env = untrusted_environment(_TEMPLATES)
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["css_string"] = _css_string
    return env


def _css_string(value: object) -> Markup:
    """Text as a quoted CSS string, safe inside <style> (HTML escaping does not apply there)."""
    text = inert(str(value))
    out = []
    for ch in text:
        if ch in '"\\<>&' or ord(ch) < 0x20:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup('"' + "".join(out) + '"')
