"""Finding: one control on one device, and its verdict."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ErrorKind", "Finding", "Outcome", "Severity", "Status", "WaiverRef"]


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"
    WAIVED = "waived"


class ErrorKind(StrEnum):
    """Why an ``error`` finding has no verdict; both are never-pass, and no waiver covers them.

    ``unreadable``: the device, or the part of it the control needs, could not be read
    (unreachable, refused credentials, timed out, an answer that does not parse, a collection
    step that failed on the device, a collection fragment missing from the installation). Any
    such finding makes ``check`` and ``apply`` exit 3.

    ``undetermined``: the device was read, but what it showed does not settle the control
    (package lists too old to trust, no reboot signal, a PAM module whose outcome is unknown,
    a timestamp ahead of the run's clock). These exit 1, like drift: the device is not shown
    to be compliant and someone has to act on it or on the policy.
    """

    UNREADABLE = "unreadable"
    UNDETERMINED = "undetermined"


def _check_kind(status: Status, kind: ErrorKind | None) -> None:
    if status is not Status.ERROR and kind is not None:
        raise ValueError(f"error_kind is for error findings only, not {status}")


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
    error_kind: ErrorKind | None = None  # set on every error (Outcome.error, .unreadable)

    @model_validator(mode="before")
    @classmethod
    def _error_has_a_kind(cls, data: Any) -> Any:
        # an error built without a kind was read but not settled: the evaluators' usual case
        error = isinstance(data, dict) and data.get("status") in (Status.ERROR, "error")
        if error and data.get("error_kind") is None:
            return {**data, "error_kind": ErrorKind.UNDETERMINED}
        return data

    @model_validator(mode="after")
    def _kind_only_on_error(self) -> Outcome:
        _check_kind(self.status, self.error_kind)
        return self

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
        """The device was read, but what it showed does not settle the control."""
        return cls(
            status=Status.ERROR, reason=reason, expected=expected, evidence=evidence,
            error_kind=ErrorKind.UNDETERMINED,
        )  # fmt: skip

    @classmethod
    def unreadable(
        cls, reason: str, expected: str | None = None, evidence: str | None = None
    ) -> Outcome:
        """The device, or the part of it this control needs, could not be read."""
        return cls(
            status=Status.ERROR, reason=reason, expected=expected, evidence=evidence,
            error_kind=ErrorKind.UNREADABLE,
        )  # fmt: skip

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
    # Left out of the serialised waiver when None, so records hashed before they existed hold.
    approved_on: date | None = Field(default=None, exclude_if=lambda v: v is None)
    compensating_control: str | None = Field(default=None, exclude_if=lambda v: v is None)


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
    # error findings only. None on one stored before the kinds existed: read as unreadable.
    # Left out of the serialised finding when None, so records hashed before it are unchanged.
    error_kind: ErrorKind | None = Field(default=None, exclude_if=lambda v: v is None)

    @model_validator(mode="after")
    def _kind_only_on_error(self) -> Finding:
        _check_kind(self.status, self.error_kind)
        return self

    @property
    def unreadable(self) -> bool:
        """An error because the device could not be read (what makes a run exit 3)."""
        return self.status is Status.ERROR and self.error_kind is not ErrorKind.UNDETERMINED
