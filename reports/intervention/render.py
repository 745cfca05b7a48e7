"""The intervention report as one self-contained HTML page and, from it, an A4 PDF (WeasyPrint,
as the evidence and executive reports: DejaVu fonts embedded, PDF/A-3b, nothing fetched)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

from jinja2 import Environment

from baluarte.evidence.data import Lang
from baluarte.run import RunRecord
from baluarte.timezones import RunZone
from reports.evidence.pdf import render_pdf as _evidence_pdf
from reports.intervention.view import page
from reports.intervention.words import Words
from reports.printed import Signature, printed_environment

__all__ = ["render_html", "render_pdf"]

_TEMPLATES = Path(__file__).parent / "templates"


def render_html(
    run: RunRecord,
    lang: Lang,
    *,
    timezone: RunZone,
    generated_at: datetime,
    signature: Signature | None = None,
) -> str:
    """The report of the apply ``run`` in ``lang``: one HTML document, no external files."""
    shown = page(run, lang, timezone=timezone, generated_at=generated_at, signature=signature)
    return _environment(lang).get_template("intervention.html.j2").render(p=shown)


def render_pdf(
    run: RunRecord,
    lang: Lang,
    *,
    timezone: RunZone,
    generated_at: datetime,
    signature: Signature | None = None,
) -> bytes:
    """The report as PDF bytes (A4)."""
    html = render_html(run, lang, timezone=timezone, generated_at=generated_at, signature=signature)
    return _evidence_pdf(html)


@cache
def _environment(lang: Lang) -> Environment:
    return printed_environment(_TEMPLATES, Words(lang))
