"""Drift over a period: the client's posture at the period's end against its start.

``baluarte.history.drift`` compares one run with the runs before it, which says nothing about
the devices a one-device run did not touch. Here every in-scope device and control is taken as
last observed in the period (``posture_at``) and compared with how the period first found it,
whichever runs observed them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from baluarte.findings import Status
from baluarte.history import ControlState, Drift
from baluarte.posture import DeviceKey, Posture, posture_at
from baluarte.run import RunRecord

__all__ = ["posture_drift"]

Key = tuple[str, str, str, str]  # client, site, device, control
Seen = tuple[datetime, Status]  # a judged observation: its run's start, its status


def posture_drift(
    runs: Iterable[RunRecord],
    in_scope: Mapping[DeviceKey, str] | None = None,
    final: Posture | None = None,
) -> Drift | None:
    """What changed over the period of ``runs``, per in-scope device and control.

    Each control on each device is compared as first observed in the period with as last
    observed (posture at the period's end). Errors are not observations of a status: they
    neither start nor end a fail streak; ``pass``, ``waived`` and ``not_applicable`` end one.

    - newly_failing: fails now, and its fail streak began after the period first observed it
      (``previous``: its status before the streak);
    - still_failing: fails now and has failed since the period first observed it
      (``failing_since``: that observation);
    - newly_passing: passes now and failed earlier in the period (``failing_since``: the start
      of its last fail streak; ``time_to_remediate``: from then to the run that found it fixed).

    Controls now in error, waived or not applicable are in none of the lists. ``from_run`` and
    ``to_run`` are the period's first and last runs; one run alone: nothing to compare
    (``from_run`` None, every list empty). No runs: None. ``final``: ``posture_at(runs, None,
    in_scope)`` when the caller has it already (a pack's quarter of runs, folded once).
    """
    ordered = sorted(runs, key=lambda r: (r.info.started_at, r.info.id))
    if not ordered:
        return None
    last = ordered[-1].info.id
    if len(ordered) == 1:
        return Drift(None, last, (), (), ())
    judged: dict[Key, list[Seen]] = {}
    for run in ordered:
        for f in run.findings:
            if f.status is not Status.ERROR:
                key = (f.client, f.site, f.device, f.control)
                judged.setdefault(key, []).append((run.info.started_at, f.status))
    newly_failing: list[ControlState] = []
    newly_passing: list[ControlState] = []
    still_failing: list[ControlState] = []
    done = final if final is not None else posture_at(ordered, None, in_scope)
    for obs in done.observations:
        f = obs.finding
        seen = judged.get((f.client, f.site, f.device, f.control), [])
        state = ControlState(f.client, f.site, f.device, f.control, f.status, None)
        if f.status is Status.FAIL and seen:
            start = _streak_start(seen, len(seen) - 1)
            if start == 0:
                still_failing.append(replace(state, previous=Status.FAIL, failing_since=seen[0][0]))
            else:
                before, since = seen[start - 1][1], seen[start][0]
                newly_failing.append(replace(state, previous=before, failing_since=since))
        elif f.status is Status.PASS:
            fails = [i for i, (_, s) in enumerate(seen) if s is Status.FAIL]
            if fails:
                since = seen[_streak_start(seen, fails[-1])][0]
                fixed = seen[fails[-1] + 1][0]
                newly_passing.append(
                    replace(
                        state,
                        previous=Status.FAIL,
                        failing_since=since,
                        time_to_remediate=fixed - since,
                    )
                )
    return Drift(
        ordered[0].info.id,
        last,
        tuple(newly_failing),
        tuple(newly_passing),
        tuple(still_failing),
    )


def _streak_start(seen: Sequence[Seen], end: int) -> int:
    """The index where the fail streak ending at ``seen[end]`` (a fail) began."""
    i = end
    while i > 0 and seen[i - 1][1] is Status.FAIL:
        i -= 1
    return i
