"""A client's executive report for a month, from the store: figures, PDF and its signature.

Signed as evidence packs are signed (``reports.printed.signing``): an Ed25519 signature of the
PDF's bytes by the provider's key, kept beside it as ``NAME.pdf.sig``. No key: the report is
unsigned (never withheld).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from baluarte.evidence.data import Lang
from baluarte.inventory import Client
from baluarte.waivers import Waiver
from reports.executive.figures import ExecutiveFigures, executive_figures, runs_needed
from reports.executive.month import Month
from reports.executive.render import render_pdf
from reports.printed import sign_rendered

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from baluarte.store import Store

__all__ = ["ExecutiveReport", "build_report", "report_filename"]


@dataclass(frozen=True)
class ExecutiveReport:
    client: str
    month: Month
    lang: Lang
    filename: str  # informe-ejecutivo-CLIENT-YYYY-MM.pdf (es) / executive-report-… (en)
    pdf: bytes
    signature: bytes | None  # Ed25519 over ``pdf``; None: no signing key here
    signed_by: str | None  # the key's fingerprint
    figures: ExecutiveFigures

    @property
    def signature_filename(self) -> str:
        return f"{self.filename}.sig"


def report_filename(client: str, month: Month, lang: Lang) -> str:
    """A client name is letters, digits, '.', '_' and '-' (the inventory's names): safe as is."""
    stem = "informe-ejecutivo" if lang == "es" else "executive-report"
    return f"{stem}-{client}-{month}.pdf"


def build_report(
    store: Store,
    client: Client,
    waivers: Iterable[Waiver],
    month: Month,
    *,
    lang: Lang = "es",
    now: datetime | None = None,
    signing_key: Ed25519PrivateKey | None = None,
    warn_days: int = 14,
    filename: str | None = None,
) -> ExecutiveReport:
    """The report of ``client`` for ``month`` from its complete runs in ``store``; ValueError
    for a month that has not begun where the client is. ``filename``: the PDF's name, when it
    is not ``report_filename``'s (the report names its signature file after it)."""
    now = now if now is not None else datetime.now(UTC)
    runs = store.client_findings(client.name, start=runs_needed(month, client.timezone))
    figures = executive_figures(client, runs, waivers, month, now=now, warn_days=warn_days)
    name = filename or report_filename(client.name, month, lang)
    signed = sign_rendered(
        name, signing_key, lambda mark: render_pdf(figures, lang, signature=mark)
    )
    return ExecutiveReport(
        client=client.name,
        month=month,
        lang=lang,
        filename=name,
        pdf=signed.content,
        signature=signed.signature,
        signed_by=signed.signed_by,
        figures=figures,
    )
