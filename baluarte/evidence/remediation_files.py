"""Each remediation of the period as a text file of the pack: the whole change, commands included.

The report's remediation log is made for paper: one short block per change. What does not fit a
page (the planned steps with their commands or scripts, what ran and what the device answered)
is kept whole here, one file per change, and the block cites the file by path and SHA-256. The
pack writes these files and lists them in MANIFEST.sha256; the report computes the same bytes to
cite them, so a citation always matches the file beside it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

from baluarte.evidence.data import EvidenceData, Lang
from baluarte.remediation import RemediationRecord
from baluarte.run import RunInfo
from baluarte.text import inert

__all__ = ["FOLDER", "RemediationFile", "remediation_files"]

FOLDER = "remediations"

# the file's labels, in the pack's language (the values are the record's, as stored)
_LABELS: dict[Lang, dict[str, str]] = {
    "es": {
        "title": "Remediación {n} de {total} de la ejecución {run}",
        "client": "Cliente",
        "site": "Sede",
        "device": "Dispositivo",
        "platform": "Plataforma",
        "control": "Control",
        "policy": "Política",
        "started": "Ejecución iniciada",
        "operator": "Ejecutada por",
        "ticket": "Ticket de cambio",
        "approved_by": "Aprobada por",
        "result": "Resultado",
        "verification": "Verificación posterior",
        "before": "Antes",
        "after": "Después",
        "action": "Cambio planificado (pasos y órdenes)",
        "detail": "Lo ejecutado y la respuesta del dispositivo",
    },
    "en": {
        "title": "Remediation {n} of {total} of run {run}",
        "client": "Client",
        "site": "Site",
        "device": "Device",
        "platform": "Platform",
        "control": "Control",
        "policy": "Policy",
        "started": "Run started",
        "operator": "Run by",
        "ticket": "Change ticket",
        "approved_by": "Approved by",
        "result": "Result",
        "verification": "Verification",
        "before": "Before",
        "after": "After",
        "action": "Planned change (steps and commands)",
        "detail": "What ran and what the device answered",
    },
}


@dataclass(frozen=True)
class RemediationFile:
    """One remediation record of a run, as the pack's file ``path``."""

    run_id: int
    index: int  # 1-based, in the run's order of records
    path: str
    content: bytes

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def remediation_files(data: EvidenceData) -> tuple[RemediationFile, ...]:
    """Every remediation of the period's runs as a file, oldest run first."""
    out = []
    for run in data.runs:
        total = len(run.remediations)
        for n, rec in enumerate(run.remediations, 1):
            text = _text(rec, run.info, n, total, data.lang)
            path = f"{FOLDER}/{run.info.id:03d}-{n:02d}.txt"
            out.append(RemediationFile(run.info.id, n, path, text.encode("utf-8")))
    return tuple(out)


def _text(rec: RemediationRecord, info: RunInfo, n: int, total: int, lang: Lang) -> str:
    label = _LABELS[lang]
    title = label["title"].format(n=n, total=total, run=info.id)
    # ticket and approver exist on records made since apply asked for them
    fields = {
        "client": rec.client,
        "site": rec.site,
        "device": rec.device,
        "platform": rec.platform,
        "control": rec.control,
        "policy": rec.policy,
        "started": info.started_at.isoformat(),
        "operator": info.operator,
        "ticket": getattr(rec, "ticket", None),
        "approved_by": getattr(rec, "approved_by", None),
        "result": str(rec.result),
        "verification": None if rec.verification is None else str(rec.verification),
    }
    width = max(len(label[k]) for k in fields)
    lines = [title, "=" * len(title), ""]
    lines += [f"{label[k] + ':':<{width + 1}} {v or '—'}" for k, v in fields.items()]
    for key in ("before", "after", "action", "detail"):
        value = getattr(rec, key)
        lines += ["", f"{label[key]}:", value if value else "—"]
    return inert("\n".join(lines)) + "\n"
