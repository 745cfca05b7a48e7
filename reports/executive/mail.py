"""The mail that carries the executive report: a subject and a few lines of plain text, in the
report's language; the PDF (and its signature) travel as attachments."""

from __future__ import annotations

from dataclasses import dataclass

from baluarte.evidence.data import Lang
from baluarte.text import inert
from reports.executive.build import ExecutiveReport
from reports.executive.view import month_phrase, verdict
from reports.executive.words import Words

__all__ = ["ReportMail", "report_mail"]


@dataclass(frozen=True)
class ReportMail:
    subject: str
    text: str


def report_mail(report: ExecutiveReport, lang: Lang) -> ReportMail:
    """The subject and body; the client's legal name is the inventory's text, made inert (one
    line in the subject: a header never breaks)."""
    w = Words(lang)
    figures = report.figures
    month = month_phrase(figures, lang)
    name = inert(figures.legal_name, newlines=False)
    subject = w._("Executive compliance report: %(client)s, %(month)s", client=name, month=month)
    lines = [
        w._("Hello,"),
        "",
        w._(
            "Attached is the executive compliance report of %(client)s for %(month)s.",
            client=name,
            month=month,
        ),
        "",
        verdict(figures, lang),
        "",
    ]
    if report.signature is not None:
        lines += [
            w._(
                "Its signature is attached too (%(file)s): it shows the report has not been "
                "changed since the provider issued it.",
                file=report.signature_filename,
            ),
            "",
        ]
    lines.append(w._("This message was sent automatically by Baluarte."))
    return ReportMail(subject, "\n".join(lines) + "\n")
