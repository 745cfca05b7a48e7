"""The intervention report: what one ``apply`` run did, per device, as one or two pages a
technician hands to the client after the work — in Spanish or English, HTML or a signed PDF.

- ``view`` and ``view_device``: the page in words, from the run alone (pure);
- ``words``: the report's own catalogue, and the report catalogues' shared words;
- ``render``: the HTML and the PDF;
- ``build``: the file and its Ed25519 signature (``build_report``).
"""

from reports.intervention.build import (
    InterventionReport,
    ReportKind,
    build_report,
    report_filename,
)
from reports.intervention.render import render_html, render_pdf

__all__ = [
    "InterventionReport",
    "ReportKind",
    "build_report",
    "render_html",
    "render_pdf",
    "report_filename",
]
