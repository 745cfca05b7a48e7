"""History: how a client's compliance changed between runs (drift, trend) — read from the store.

Types here are the contract between the store-side computations (this module), the reports
(drift section, trend chart) and evidence packs. Functions are filled in by ``history``'s
implementation below them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from baluarte.findings import Finding, Status
from baluarte.posture import compliance_percent, counts
from baluarte.remediation import RemediationRecord
from baluarte.run import RunRecord

if TYPE_CHECKING:  # the store imports this module for ChainLink
    from baluarte.store import Store

__all__ = [
    "ChainLink",
    "ControlState",
    "Drift",
    "TrendPoint",
    "client_runs",
    "drift",
    "drifts",
    "earlier_runs",
    "trend",
]


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


# -- functions ------------------------------------------------------------------------------

Key = tuple[str, str, str, str]  # client, site, device, control
# How many earlier runs a report draws its trend from (the evidence guide asks for 6-12).
REPORT_HISTORY = 12


def client_runs(
    store: Store,
    client: str | None,
    *,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    control: str | None = None,
    device: str | None = None,
    newest: int | None = None,
) -> list[RunRecord]:
    """A client's COMPLETE runs (incomplete ones are left out), oldest first.

    ``client`` None: every run, every client. ``start``/``end`` bound when a run started, both
    inclusive (a date means that whole day, UTC). Each run holds only the findings and
    remediation records for ``client``, ``control`` and ``device`` (when given). ``newest``:
    only the last N (read from the store, not loaded and dropped).
    """
    before = None
    if isinstance(end, datetime):
        before = end + timedelta(microseconds=1)
    elif end is not None:
        before = datetime.combine(end + timedelta(days=1), time(), UTC)
    infos = store.complete_runs(client=client, start=_moment(start), before=before, newest=newest)

    def wanted(item: Finding | RemediationRecord) -> bool:
        return (
            (client is None or item.client == client)
            and (control is None or item.control == control)
            and (device is None or item.device == device)
        )

    out = []
    for info in infos:
        run = store.get_run(info.id)
        out.append(
            run.model_copy(
                update={
                    "findings": tuple(f for f in run.findings if wanted(f)),
                    "remediations": tuple(r for r in run.remediations if wanted(r)),
                }
            )
        )
    return out


def earlier_runs(store: Store, run: RunRecord, limit: int = REPORT_HISTORY) -> list[RunRecord]:
    """The complete runs of ``run``'s client scope started before it (at most ``limit``, the
    newest), oldest first: what a report's drift and trend are drawn from."""
    if limit <= 0:
        return []
    client = run.info.scope.get("client")
    # one more than needed: ``run`` itself may be among them (same start time)
    earlier = [
        r
        for r in client_runs(store, client, end=run.info.started_at, newest=limit + 1)
        if r.info.id != run.info.id and r.info.started_at <= run.info.started_at
    ]
    return earlier[-limit:]


def drift(earlier: Sequence[RunRecord], current: RunRecord) -> Drift:
    """What changed in ``current`` since ``earlier`` (oldest first), per device and control.

    Each control on each device is compared with its status in the latest earlier run that
    checked it. A fail streak is a run of ``fail`` results; ``error`` (nothing could be judged)
    neither starts nor breaks one, and a run that did not check the control is skipped.
    ``pass``, ``waived`` and ``not_applicable`` end it.

    - newly_failing: fails now and its streak starts with this run (a device or control seen
      for the first time counts, once there is an earlier run at all);
    - still_failing: fails now and failed before (errors in between);
    - newly_passing: passes now and its last judged status was fail, with the time since the
      streak began.

    Controls now in ``error`` are in none of the lists. Without earlier runs there is nothing
    to compare: every list is empty.
    """
    runs = sorted(
        (r for r in earlier if r.info.id != current.info.id),
        key=lambda r: (r.info.started_at, r.info.id),
    )
    if not runs:
        return Drift(None, current.info.id, (), (), ())
    history = [_statuses(r) for r in runs]
    newly_failing: list[ControlState] = []
    newly_passing: list[ControlState] = []
    still_failing: list[ControlState] = []
    for key, status in sorted(_statuses(current).items()):
        seen = [(r, h[key]) for r, h in zip(runs, history, strict=True) if key in h]
        previous = seen[-1][1] if seen else None
        since = _streak_start([(r.info.started_at, s) for r, s in seen])
        client, site, device, control = key
        state = ControlState(client, site, device, control, status, previous)
        if status is Status.FAIL:
            if since is None:
                newly_failing.append(replace(state, failing_since=current.info.started_at))
            else:
                still_failing.append(replace(state, failing_since=since))
        elif status is Status.PASS and since is not None:
            taken = current.info.started_at - since
            newly_passing.append(replace(state, failing_since=since, time_to_remediate=taken))
    return Drift(
        runs[-1].info.id,
        current.info.id,
        tuple(newly_failing),
        tuple(newly_passing),
        tuple(still_failing),
    )


def drifts(runs: Sequence[RunRecord]) -> list[Drift]:
    """``drift(runs[:i], runs[i])`` for each run, in one pass over ``runs`` (oldest first).

    Each control's last status and the start of its fail streak are carried from run to run
    instead of re-read from every earlier run: a quarter of nightly runs costs 90 runs' reading,
    not 4,000. Same result as ``drift``, which stays the definition (and is used as it is when
    ``runs`` is not in start order, where "earlier" would mean something else).
    """
    order = [(r.info.started_at, r.info.id) for r in runs]
    if order != sorted(order) or len({r.info.id for r in runs}) != len(runs):
        return [drift(runs[:i], r) for i, r in enumerate(runs)]
    last: dict[Key, Status] = {}  # each control's status in the latest run that checked it
    since: dict[Key, datetime] = {}  # when its fail streak began (errors neither start nor end it)
    out: list[Drift] = []
    for i, current in enumerate(runs):
        now = _statuses(current)
        started = current.info.started_at
        if i == 0:
            out.append(Drift(None, current.info.id, (), (), ()))
        else:
            newly_failing: list[ControlState] = []
            newly_passing: list[ControlState] = []
            still_failing: list[ControlState] = []
            for key, status in sorted(now.items()):
                began = since.get(key)
                state = ControlState(*key, status, last.get(key))
                if status is Status.FAIL:
                    if began is None:
                        newly_failing.append(replace(state, failing_since=started))
                    else:
                        still_failing.append(replace(state, failing_since=began))
                elif status is Status.PASS and began is not None:
                    taken = started - began
                    newly_passing.append(
                        replace(state, failing_since=began, time_to_remediate=taken)
                    )
            out.append(
                Drift(
                    runs[i - 1].info.id,
                    current.info.id,
                    tuple(newly_failing),
                    tuple(newly_passing),
                    tuple(still_failing),
                )
            )
        for key, status in now.items():
            last[key] = status
            if status is Status.FAIL:
                since.setdefault(key, started)
            elif status is not Status.ERROR:
                since.pop(key, None)
    return out


def trend(runs: Sequence[RunRecord]) -> list[TrendPoint]:
    """One point per run, in the order given: its compliance % and findings per status."""
    return [
        TrendPoint(
            run_id=r.info.id,
            started_at=r.info.started_at,
            compliance_percent=compliance_percent(r.findings),
            counts=counts(r.findings),
        )
        for r in runs
    ]


def _statuses(run: RunRecord) -> dict[Key, Status]:
    """Each control's status on each device in a run (the last finding for it, if several)."""
    return {(f.client, f.site, f.device, f.control): f.status for f in run.findings}


def _streak_start(seen: Sequence[tuple[datetime, Status]]) -> datetime | None:
    """When the fail streak ending the sequence began (errors skipped); None: no streak."""
    since = None
    for started, status in reversed(seen):
        if status is Status.ERROR:
            continue
        if status is not Status.FAIL:
            break
        since = started
    return since


def _moment(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), UTC)
