"""An apply run's intervention report as a file — HTML or PDF — and its signature.

Signed as the executive report is (``reports.printed.signing``): an Ed25519 signature of the
file's bytes by the provider's key, kept beside it as ``NAME.sig``. No key: the report is
unsigned (never withheld).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from baluarte.evidence.data import Lang
from baluarte.run import RunKind, RunRecord
from baluarte.timezones import RunZone
from reports.intervention.render import render_html, render_pdf
from reports.printed import Signature, sign_rendered

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["InterventionReport", "ReportKind", "build_report", "report_filename"]

ReportKind = Literal["html", "pdf"]


@dataclass(frozen=True)
class InterventionReport:
    run_id: int
    lang: Lang
    kind: ReportKind
    filename: str  # informe-intervencion-RUN.pdf (es) / intervention-report-RUN.pdf (en)
    content: bytes
    signature: bytes | None  # Ed25519 over ``content``; None: not signed (no key here)
    signed_by: str | None  # the key's fingerprint

    @property
    def signature_filename(self) -> str:
        return f"{self.filename}.sig"


def report_filename(run_id: int, lang: Lang, kind: ReportKind) -> str:
    stem = "informe-intervencion" if lang == "es" else "intervention-report"
    return f"{stem}-{run_id}.{kind}"


def build_report(
    run: RunRecord,
    kind: ReportKind,
    *,
    lang: Lang = "es",
    timezone: RunZone,
    now: datetime | None = None,
    signing_key: Ed25519PrivateKey | None = None,
    filename: str | None = None,
) -> InterventionReport:
    """The report of the apply ``run``; ValueError for a check run (it changed nothing).
    ``filename``: the file's name, when not ``report_filename``'s (the report names its
    signature file after it)."""
    if run.info.kind is not RunKind.APPLY:
        raise ValueError(f"run {run.info.id} is a {run.info.kind} run: it changed nothing")
    when = now if now is not None else datetime.now(UTC)
    render = render_pdf if kind == "pdf" else render_html

    def rendered(mark: Signature | None) -> bytes:
        made = render(run, lang, timezone=timezone, generated_at=when, signature=mark)
        return made if isinstance(made, bytes) else made.encode("utf-8")

    name = filename or report_filename(run.info.id, lang, kind)
    signed = sign_rendered(name, signing_key, rendered)
    return InterventionReport(
        run_id=run.info.id,
        lang=lang,
        kind=kind,
        filename=name,
        content=signed.content,
        signature=signed.signature,
        signed_by=signed.signed_by,
    )
