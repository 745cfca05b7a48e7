"""The evidence report's PDF: the same HTML, laid out on A4 by WeasyPrint, nothing fetched."""

from __future__ import annotations

__all__ = ["render_pdf"]


def render_pdf(html: str) -> bytes:
    """The HTML from ``render_html`` as PDF bytes (A4, DejaVu fonts embedded).

    The report is self-contained: a fetcher that allows no protocol at all makes WeasyPrint
    skip (and log) any file or URL a page might name, rather than read it.
    """
    # ~0.5 s to import: only when a PDF is asked for
    from weasyprint import HTML  # type: ignore[import-untyped]
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

    fetcher = URLFetcher(allowed_protocols=frozenset())
    return bytes(HTML(string=html, url_fetcher=fetcher).write_pdf())
