"""Remediation: what `baluarte apply` plans to change, and the record of what it did.

Data flows one way: a failing finding → a platform's remedy (``deploys/<platform>/``) → a
``PlannedChange`` shown to the technician → with ``--yes`` the same steps executed → one
``RemediationRecord`` per change, stored with the run beside the re-verified findings.

A plan is honest when every step it lists is what apply runs and apply runs nothing else:
``PlannedChange.steps`` carry the exact commands, and the record keeps what was run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from baluarte.findings import Finding, Status

if TYPE_CHECKING:  # the run store reads records without loading inventories or collectors
    from baluarte.collected import Collected
    from baluarte.controls import EvalContext
    from baluarte.inventory import Device

__all__ = [
    "Change",
    "ChangeKind",
    "Manual",
    "OpSpec",
    "PlannedChange",
    "Refused",
    "Registry",
    "RemediationRecord",
    "RemediationResult",
    "Remedy",
    "RemedyContext",
    "RemedyFunction",
    "RestWrite",
    "Step",
    "backup_of",
    "with_verification",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpSpec(_Model):
    """One pyinfra operation, by name, with JSON-able arguments (run in the SSH worker).

    ``module``/``function`` name ``pyinfra.operations.<module>.<function>`` (e.g. ``files``,
    ``put``). ``files.put`` also takes ``src_text``: the file's content, handed to pyinfra as
    a file object. ``name`` is what the plan and the record call the step.
    """

    name: str
    module: str
    function: str
    kwargs: dict[str, Any] = {}


class RestWrite(_Model):
    """One FortiOS cmdb update (PUT) a remedy makes, with the values it replaces.

    ``before`` holds the current values of exactly the fields in ``data``: the plan shows them
    and the undo writes them back if verification fails.
    """

    path: str  # cmdb path as in the URL: "system/global", "firewall/policy"
    mkey: str | int | None = None  # the row of a table; None for a singleton
    data: dict[str, Any]
    before: dict[str, Any] = {}
    global_scope: bool = False  # a global object (system/*) rather than the device's VDOM

    def describe(self) -> str:
        where = self.path if self.mkey is None else f"{self.path}/{self.mkey}"
        return f"PUT /api/v2/cmdb/{where} {json.dumps(self.data, sort_keys=True)}"


class Remedy(_Model):
    """A control's automatic remediation on one device, as its platform's deploy proposes it."""

    summary: str  # one line: "PasswordAuthentication yes → no"
    before: str  # the current state, as collected
    after: str  # the state the change leads to
    diff: str = ""  # unified diff of the files it writes, when there are files
    ops: tuple[OpSpec, ...] = ()  # Linux: pyinfra operations, in order
    script: str = ""  # Windows: the PowerShell remediation script (read-only checks excluded)
    parameters: dict[str, Any] = {}  # Windows: the script's parameters (PowerShell param())
    requests: tuple[RestWrite, ...] = ()  # FortiGate: cmdb updates, in order


class Manual(_Model):
    """No automatic remediation: what a technician has to do."""

    text: str


class Refused(_Model):
    """A remediation a lockout guard refuses: it would cut Baluarte's own way in."""

    reason: str
    summary: str = ""


@dataclass(frozen=True)
class RemedyContext:
    """What a remedy may know: the device, everything collected from it, the evaluation time."""

    device: Device
    collected: Collected
    ctx: EvalContext
    # every planned control's parameters on this device, by control id: lets a remedy keep
    # what a sibling control requires (e.g. the firewall's allowed services)
    params: Mapping[str, Any] = field(default_factory=dict)


# A control's remedy: (its domain's facts, its policy parameters, context) → what to do.
RemedyFunction = Callable[[Any, Any, RemedyContext], Remedy | Manual | Refused | None]


class ChangeKind(StrEnum):
    CHANGE = "change"  # apply will make it
    MANUAL = "manual"  # a technician has to
    REFUSED = "refused"  # a lockout guard said no, or the device changed since its saved plan


class Step(_Model):
    """One step of a change: what it does and the exact commands (or requests) it runs."""

    what: str
    commands: tuple[str, ...] = ()


class Change(_Model):
    """One control's planned change, wherever it is listed (a saved plan lists it per device)."""

    control: str
    policy: str | None = None
    kind: ChangeKind
    summary: str = ""
    before: str = ""
    after: str = ""
    diff: str = ""
    steps: tuple[Step, ...] = ()
    reason: str = ""  # manual: the remediation text; refused: why


class PlannedChange(Change):
    """A change and the device it is for."""

    client: str
    site: str
    device: str
    platform: str

    @property
    def device_key(self) -> str:
        return f"{self.client}/{self.site}/{self.device}"


class RemediationResult(StrEnum):
    APPLIED = "applied"  # every step ran and succeeded
    FAILED = "failed"  # a step failed (detail says which and how)
    REFUSED = "refused"  # a lockout guard, or a saved plan that no longer holds; nothing ran
    NOT_RUN = "not_run"  # an earlier failure on the device stopped it before it ran
    MANUAL = "manual"  # listed for a technician; nothing ran


class RemediationRecord(_Model):
    """What apply did about one control on one device, and what re-verification found."""

    client: str
    site: str
    device: str
    platform: str
    control: str
    policy: str | None = None
    result: RemediationResult
    before: str = ""
    action: str = ""  # the change as planned: summary and steps with their commands
    after: str = ""  # observed after apply (the verification finding's observed value)
    detail: str = ""  # commands actually run, output of a failure, refusal reason
    verification: Status | None = None  # the control's status when re-checked after apply
    # change control (``apply --ticket --approved-by``); left out of the serialised record when
    # None, so records hashed before these fields existed keep their hash
    ticket: str | None = Field(default=None, exclude_if=lambda v: v is None)
    approved_by: str | None = Field(default=None, exclude_if=lambda v: v is None)


# How a FortiGate change records its configuration backup in ``detail``
# (deploys/fortigate/executor.py): "backup sha256 HEX kept at PATH; revision …".
_BACKUP = re.compile(r"backup sha256 ([0-9a-f]{64}) kept at ([^;\n]+)")


def backup_of(record: RemediationRecord) -> tuple[str, str] | None:
    """The configuration backup taken before ``record``'s change, as (path, sha256), if any."""
    found = _BACKUP.search(record.detail)
    return (found.group(2).strip(), found.group(1)) if found else None


def with_verification(
    records: Sequence[RemediationRecord], findings: Sequence[Finding]
) -> tuple[RemediationRecord, ...]:
    """Each record completed from its run's re-check: the control's status and what it saw.

    Records are stored while apply runs (so an interrupted apply still says what it did); the
    re-check's findings, stored after them in the same run, are their verification.
    """
    after = {(f.client, f.site, f.device, f.control): f for f in findings}
    out: list[RemediationRecord] = []
    for record in records:
        seen = after.get((record.client, record.site, record.device, record.control))
        if record.verification is not None or seen is None:
            out.append(record)
            continue
        observed = seen.observed or seen.reason or ""
        out.append(
            record.model_copy(
                update={"verification": seen.status, "after": record.after or observed}
            )
        )
    return tuple(out)


# deploys/<platform>/__init__.py exposes REMEDIES (control id → RemedyFunction) and
# MANUAL (control id → text for controls without an automatic remediation).
Registry = Mapping[str, RemedyFunction]
