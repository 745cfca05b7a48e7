"""The evidence report's PDF: the same HTML, laid out on A4 by WeasyPrint, nothing fetched.

The PDF is PDF/A-3b (WeasyPrint's archival variant: fonts embedded, an sRGB output intent, XMP
metadata) so an archive accepts it, and carries files of the pack (``results.json``) embedded:
the report and the data it was made from travel together even when the PDF is filed alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = ["PDF_VARIANT", "finish_pdf", "layout_pdf", "render_pdf"]

PDF_VARIANT = "pdf/a-3b"


def render_pdf(html: str, attachments: Mapping[str, bytes] | None = None) -> bytes:
    """The HTML from ``render_html`` as PDF/A-3b bytes (A4, DejaVu fonts embedded), with each
    of ``attachments`` (file name → content) embedded as an associated file.

    The report is self-contained: a fetcher that allows no protocol at all makes WeasyPrint
    skip (and log) any file or URL a page might name, rather than read it.
    """
    return finish_pdf(layout_pdf(html), attachments or {})


def layout_pdf(html: str) -> Any:
    """``render_pdf``'s first step, its longest: the pages laid out (a WeasyPrint document).
    An export starts it as soon as the HTML exists, before the files to embed are made."""
    # ~0.5 s to import: only when a PDF is asked for
    from weasyprint import HTML  # type: ignore[import-untyped]
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

    fetcher = URLFetcher(allowed_protocols=frozenset())
    return HTML(string=html, url_fetcher=fetcher).render(pdf_variant=PDF_VARIANT)


def finish_pdf(document: Any, attachments: Mapping[str, bytes]) -> bytes:
    """``render_pdf``'s second step: the laid-out ``document`` drawn, with ``attachments``."""
    from weasyprint import Attachment
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=frozenset())
    # the files carry the report's own date (its dcterms.created), not the time of rendering:
    # the same pack renders to the same bytes
    when = _datetime(document.metadata.created)
    files = [
        # "Source": the data the report was rendered from (PDF/A-3's AFRelationship)
        Attachment(
            string=data,
            name=name,
            url_fetcher=fetcher,
            relationship="Source",
            created=when,
            modified=when,
        )
        for name, data in attachments.items()
    ]
    return bytes(document.write_pdf(pdf_variant=PDF_VARIANT, attachments=files))


def _datetime(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
