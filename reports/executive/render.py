"""The executive report as one self-contained HTML page and, from it, an A4 PDF (WeasyPrint,
as the evidence report: DejaVu fonts embedded, PDF/A-3b, nothing fetched)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment

from baluarte.evidence.data import Lang
from reports.evidence.pdf import render_pdf as _evidence_pdf
from reports.executive.figures import ExecutiveFigures
from reports.executive.view import page
from reports.executive.words import Words
from reports.printed import Signature, printed_environment

__all__ = ["render_html", "render_pdf"]

_TEMPLATES = Path(__file__).parent / "templates"


def render_html(
    figures: ExecutiveFigures, lang: Lang = "es", *, signature: Signature | None = None
) -> str:
    """The report of ``figures`` in ``lang``: one HTML document, no external files."""
    return (
        _environment(lang)
        .get_template("executive.html.j2")
        .render(p=page(figures, lang, signature=signature))
    )


def render_pdf(
    figures: ExecutiveFigures, lang: Lang = "es", *, signature: Signature | None = None
) -> bytes:
    """The report as PDF bytes (A4)."""
    return _evidence_pdf(render_html(figures, lang, signature=signature))


@cache
def _environment(lang: Lang) -> Environment:
    return printed_environment(_TEMPLATES, Words(lang))
