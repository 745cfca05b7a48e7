"""History: how a client's compliance changed between runs (drift, trend) — read from the store.

Types here are the contract between the store-side computations (this module), the reports
(drift section, trend chart) and evidence packs. Functions are filled in by ``history``'s
implementation below them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from baluarte.findings import Status

__all__ = ["ChainLink", "ControlState", "Drift", "TrendPoint"]


@dataclass(frozen=True)
class ControlState:
    """One control on one device, as of a run, with its failing streak."""

    client: str
    site: str
    device: str
    control: str
    status: Status
    previous: Status | None  # its status in the earlier run (None: not checked there)
    failing_since: datetime | None = None  # start of the run that began the current fail streak
    time_to_remediate: timedelta | None = None  # newly passing: from failing_since to this run


@dataclass(frozen=True)
class Drift:
    """What changed from one run to a later one (same client/devices)."""

    from_run: int | None  # None: no earlier run to compare with
    to_run: int
    newly_failing: tuple[ControlState, ...]
    newly_passing: tuple[ControlState, ...]
    still_failing: tuple[ControlState, ...]


@dataclass(frozen=True)
class TrendPoint:
    """One run on the compliance-over-time chart."""

    run_id: int
    started_at: datetime
    compliance_percent: float | None  # pass / (pass + fail + error); None: nothing judged
    counts: dict[str, int]  # findings per status


@dataclass(frozen=True)
class ChainLink:
    """A finished run in the store's hash chain."""

    run_id: int
    started_at: datetime
    ended_at: datetime | None
    previous_sha256: str | None  # record_sha256 of the run finished before it (None: first)
    record_sha256: str  # SHA-256 of the run's canonical record, previous_sha256 included
