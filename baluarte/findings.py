"""Finding: one control on one device, and its verdict."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = ["Finding", "Outcome", "Severity", "Status", "WaiverRef"]


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"
    WAIVED = "waived"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Outcome(BaseModel):
    """What a pure evaluator returns: the verdict before waivers and device context are added."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Status
    expected: str | None = None
    observed: str | None = None
    reason: str | None = None
    evidence: str | None = None

    @classmethod
    def passed(cls, expected: str, observed: str, evidence: str | None = None) -> Outcome:
        return cls(status=Status.PASS, expected=expected, observed=observed, evidence=evidence)

    @classmethod
    def failed(
        cls, expected: str, observed: str, reason: str | None = None, evidence: str | None = None
    ) -> Outcome:
        return cls(
            status=Status.FAIL,
            expected=expected,
            observed=observed,
            reason=reason,
            evidence=evidence,
        )

    @classmethod
    def error(
        cls, reason: str, expected: str | None = None, evidence: str | None = None
    ) -> Outcome:
        return cls(status=Status.ERROR, reason=reason, expected=expected, evidence=evidence)

    @classmethod
    def not_applicable(cls, reason: str) -> Outcome:
        return cls(status=Status.NOT_APPLICABLE, reason=reason)


class WaiverRef(BaseModel):
    """The waiver a finding was judged under (applied, or expired and so not applied)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str
    approved_by: str
    ticket: str | None = None
    expires: date
    expired: bool = False


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client: str
    site: str
    device: str
    platform: str
    control: str
    policy: str | None = None
    status: Status
    severity: Severity
    expected: str | None = None
    observed: str | None = None
    reason: str | None = None
    evidence: str | None = None
    waiver: WaiverRef | None = None
