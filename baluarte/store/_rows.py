"""Models to table rows and back: Finding and its WaiverRef, RunInfo and its InputFiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping

from baluarte.findings import ErrorKind, Finding, Severity, Status, WaiverRef
from baluarte.masking import mask_secrets
from baluarte.operator import Operator
from baluarte.remediation import RemediationRecord, RemediationResult
from baluarte.run import InputFile, RunInfo, RunKind, RunState

__all__ = [
    "file_row",
    "finding_from_row",
    "finding_row",
    "remediation_from_row",
    "remediation_row",
    "run_info",
]


_PLACE = ("client", "site", "device", "platform", "control", "policy")


def _place(row: RowMapping) -> dict[str, Any]:
    """Where a finding or remediation stands: device and control, as stored in its row."""
    return {key: row[key] for key in _PLACE}


# What a device or a library said lands in these: the last place a resolved secret is masked
# before it would be kept (and hashed, signed and exported) for good.
_FREE_TEXT = ("expected", "observed", "reason", "evidence")
_REMEDIATION_TEXT = ("before", "action", "after", "detail")


def _masked(row: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: mask_secrets(v) if k in keys and isinstance(v, str) else v for k, v in row.items()}


def finding_row(run_id: int, seq: int, finding: Finding) -> dict[str, Any]:
    waiver = finding.waiver
    return {
        "run_id": run_id,
        "seq": seq,
        **_masked(finding.model_dump(exclude={"waiver", "error_kind"}, mode="python"), _FREE_TEXT),
        "status": finding.status.value,
        "severity": finding.severity.value,
        "error_kind": finding.error_kind.value if finding.error_kind else None,
        "waiver_reason": waiver.reason if waiver else None,
        "waiver_approved_by": waiver.approved_by if waiver else None,
        "waiver_ticket": waiver.ticket if waiver else None,
        "waiver_expires": waiver.expires if waiver else None,
        "waiver_expired": waiver.expired if waiver else None,
        "waiver_approved_on": waiver.approved_on if waiver else None,
        "waiver_compensating_control": waiver.compensating_control if waiver else None,
    }


def finding_from_row(row: RowMapping) -> Finding:
    waiver = None
    if row["waiver_reason"] is not None:
        waiver = WaiverRef(
            reason=row["waiver_reason"],
            approved_by=row["waiver_approved_by"],
            ticket=row["waiver_ticket"],
            expires=row["waiver_expires"],
            expired=bool(row["waiver_expired"]),
            approved_on=row["waiver_approved_on"],
            compensating_control=row["waiver_compensating_control"],
        )
    return Finding(
        **_place(row),
        status=Status(row["status"]),
        severity=Severity(row["severity"]),
        expected=row["expected"],
        observed=row["observed"],
        reason=row["reason"],
        evidence=row["evidence"],
        waiver=waiver,
        error_kind=ErrorKind(row["error_kind"]) if row["error_kind"] else None,
    )


def file_row(run_id: int, position: int, file: InputFile) -> dict[str, Any]:
    return {"run_id": run_id, "position": position, **file.model_dump()}


def run_info(row: RowMapping, files: Sequence[RowMapping]) -> RunInfo:
    return RunInfo(
        id=row["id"],
        kind=RunKind(row["kind"]),
        state=RunState(row["state"]),
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        operator=row["operator"],
        operator_identity=None
        if row["operator_name"] is None
        else Operator(
            name=row["operator_name"], email=row["operator_email"], role=row["operator_role"]
        ),
        tool_version=row["tool_version"],
        inventory_sha256=row["inventory_sha256"],
        scope=dict(row["scope"]),
        files=tuple(InputFile(role=f["role"], path=f["path"], sha256=f["sha256"]) for f in files),
        devices_total=row["devices_total"],
    )


def remediation_row(run_id: int, seq: int, record: RemediationRecord) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "seq": seq,
        **_masked(record.model_dump(mode="python"), _REMEDIATION_TEXT),
        "result": record.result.value,
        "verification": record.verification.value if record.verification else None,
    }


def remediation_from_row(row: RowMapping) -> RemediationRecord:
    return RemediationRecord(
        **_place(row),
        result=RemediationResult(row["result"]),
        before=row["before"],
        action=row["action"],
        after=row["after"],
        detail=row["detail"],
        verification=Status(row["verification"]) if row["verification"] else None,
        ticket=row["ticket"],
        approved_by=row["approved_by"],
    )
