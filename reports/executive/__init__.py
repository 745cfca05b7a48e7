"""The monthly executive report: one client's month as a PDF for its managers, in Spanish or
English — posture, trend, what was fixed and how fast, what is left, what is waived and why.

- ``month``: the calendar month (``Month.parse("2026-11")``);
- ``figures``: the month's figures from the client's runs (pure);
- ``view`` and ``render``: the page in words, the HTML and the PDF;
- ``build``: from the store to a signed PDF (``build_report``).
"""

from reports.executive.build import ExecutiveReport, build_report, report_filename
from reports.executive.figures import ExecutiveFigures, executive_figures, runs_needed
from reports.executive.month import Month
from reports.executive.render import render_html, render_pdf

__all__ = [
    "ExecutiveFigures",
    "ExecutiveReport",
    "Month",
    "build_report",
    "executive_figures",
    "render_html",
    "render_pdf",
    "report_filename",
    "runs_needed",
]
