"""Small pieces the evidence renderers share: orderings, keys and the evidence hash."""

from __future__ import annotations

import hashlib

from baluarte.evidence.data import EvidenceData
from baluarte.findings import Finding, Severity, Status
from baluarte.posture import Posture, posture_at
from baluarte.run import RunRecord

__all__ = [
    "SEVERITY_ORDER",
    "STATUS_ORDER",
    "evidence_sha256",
    "finding_sort_key",
    "latest_run",
    "posture_of",
]

# failures first: what a reader has to act on comes before what is fine
STATUS_ORDER: tuple[Status, ...] = (
    Status.FAIL,
    Status.ERROR,
    Status.WAIVED,
    Status.PASS,
    Status.NOT_APPLICABLE,
)
SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
)


def evidence_sha256(finding: Finding) -> str | None:
    """SHA-256 of a finding's raw evidence (UTF-8), or None when it has none."""
    if finding.evidence is None:
        return None
    return hashlib.sha256(finding.evidence.encode("utf-8")).hexdigest()


def finding_sort_key(f: Finding) -> tuple[int, int, str]:
    return (STATUS_ORDER.index(f.status), SEVERITY_ORDER.index(f.severity), f.control)


def latest_run(data: EvidenceData) -> RunRecord | None:
    """The period's last run: the state the report's results describe."""
    return data.runs[-1] if data.runs else None


def posture_of(data: EvidenceData) -> Posture:
    """The client's posture at the period's end: as gathered, else drawn from the runs and the
    devices in scope (every device observed when none is listed)."""
    if data.posture is not None:
        return data.posture
    scope = {(d["client"], d["site"], d["device"]): d["platform"] for d in data.devices_in_scope}
    return posture_at(data.runs, None, scope or None)
