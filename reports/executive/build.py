"""A client's executive report for a month, from the store: figures, PDF and its signature.

Signed as evidence packs are signed: an Ed25519 signature of the PDF's bytes by the provider's
key (``baluarte keys init``), kept beside it as ``NAME.pdf.sig``; ``openssl pkeyutl -verify
-pubin -inkey signing-key.pub.pem -rawin -in NAME.pdf -sigfile NAME.pdf.sig`` checks it. No key:
the report is unsigned (never withheld).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from baluarte.evidence.data import Lang
from baluarte.evidence.keys import fingerprint
from baluarte.inventory import Client
from baluarte.waivers import Waiver
from reports.executive.figures import ExecutiveFigures, executive_figures, runs_needed
from reports.executive.month import Month
from reports.executive.render import render_pdf
from reports.executive.view import Signature

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
    signed_by = fingerprint(signing_key.public_key()) if signing_key is not None else None
    mark = Signature(f"{name}.sig", signed_by) if signed_by is not None else None
    pdf = render_pdf(figures, lang, signature=mark)
    return ExecutiveReport(
        client=client.name,
        month=month,
        lang=lang,
        filename=name,
        pdf=pdf,
        signature=signing_key.sign(pdf) if signing_key is not None else None,
        signed_by=signed_by,
        figures=figures,
    )
