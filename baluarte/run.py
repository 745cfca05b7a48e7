"""Run: one ``check`` (later ``apply``) — who, when, with what inputs, and every finding.

These are the shapes the store returns and the reports render; reports never talk to devices.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from baluarte.findings import Finding, Status
from baluarte.operator import Operator
from baluarte.remediation import RemediationRecord

__all__ = [
    "InputFile",
    "LateOutcome",
    "LateResult",
    "RunInfo",
    "RunKind",
    "RunRecord",
    "RunState",
]


class RunKind(StrEnum):
    CHECK = "check"
    APPLY = "apply"


class RunState(StrEnum):
    RUNNING = "running"  # still going, or killed part-way: what was stored is kept
    COMPLETE = "complete"


class LateOutcome(StrEnum):
    """What a collector's late answer held."""

    FACTS = "facts"  # facts collected, as it would have sent them in time
    ERROR = "error"  # the collector reports it could not collect
    REFUSED = "refused"  # the collector refused the job


class InputFile(BaseModel):
    """A file the run read: its role, path as given, and SHA-256 of its bytes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str  # "inventory" | "policy" | "waivers"
    path: str
    sha256: str


class RunInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int
    kind: RunKind
    state: RunState
    started_at: datetime
    ended_at: datetime | None = None
    operator: str  # the account that ran it: user@host
    operator_identity: Operator | None = None  # the person responsible (baluarte/operator.py)
    tool_version: str
    inventory_sha256: str
    scope: dict[str, str] = {}  # the selectors given: client, site, device, tags, policy
    files: tuple[InputFile, ...] = ()
    devices_total: int = 0  # devices in scope when the run started

    @property
    def incomplete(self) -> bool:
        return self.state is not RunState.COMPLETE


class RunRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    info: RunInfo
    findings: tuple[Finding, ...]
    remediations: tuple[RemediationRecord, ...] = ()  # apply runs: what was done, per change

    def counts(self) -> dict[Status, int]:
        c = Counter(f.status for f in self.findings)
        return {s: c.get(s, 0) for s in Status}


class LateResult(BaseModel):
    """A site collector's answer that came after its run ended: recorded and shown, ignored.

    It never changes the run's findings and is no part of its sealed record. What the collector
    sent (``detail``, and ``collector`` as it names itself) is untrusted: stored as given,
    made inert (``baluarte.text.inert``) wherever it is shown."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: int
    device: str  # its client/site/device key
    collector: str
    sent_at: datetime | None  # when the collector says it sent it (None: it did not say)
    received_at: datetime
    outcome: LateOutcome
    detail: str  # one line: the error message, or "facts for 3 domains"
