"""Drift and trend between runs: streaks, errors that neither start nor end them, new devices."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from baluarte.findings import Finding, Severity, Status
from baluarte.history import drift, drifts, trend
from baluarte.run import RunInfo, RunKind, RunRecord, RunState

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
CTL = "access.ssh_root_login"


def run(run_id: int, day: int, statuses: dict[str, Status], control: str = CTL) -> RunRecord:
    info = RunInfo(
        id=run_id, kind=RunKind.CHECK, state=RunState.COMPLETE,
        started_at=T0 + timedelta(days=day), operator="ana", tool_version="0.1.0",
        inventory_sha256="1" * 64,
    )  # fmt: skip
    findings = tuple(
        Finding(
            client="acme",
            site="hq",
            device=device,
            platform="linux",
            control=control,
            status=status,
            severity=Severity.HIGH,
        )
        for device, status in statuses.items()
    )
    return RunRecord(info=info, findings=findings)


P, F, E, W = Status.PASS, Status.FAIL, Status.ERROR, Status.WAIVED


def test_fail_streak_starts_at_its_first_failing_run():
    earlier = [run(1, 0, {"a": P}), run(2, 1, {"a": F}), run(3, 2, {"a": F})]
    d = drift(earlier, run(4, 3, {"a": F}))
    assert d.from_run == 3 and d.to_run == 4
    assert d.newly_failing == () and d.newly_passing == ()
    (state,) = d.still_failing
    assert state.failing_since == T0 + timedelta(days=1) and state.previous is F


def test_errors_neither_start_nor_break_a_streak():
    earlier = [run(1, 0, {"a": F, "b": P}), run(2, 1, {"a": E, "b": E})]
    d = drift(earlier, run(3, 2, {"a": F, "b": F}))
    (still,) = d.still_failing
    assert (still.device, still.failing_since, still.previous) == ("a", T0, E)
    (new,) = d.newly_failing
    assert (new.device, new.failing_since) == ("b", T0 + timedelta(days=2))


def test_a_waived_run_ends_a_streak():
    earlier = [run(1, 0, {"a": F}), run(2, 1, {"a": W})]
    d = drift(earlier, run(3, 2, {"a": F}))
    assert [s.device for s in d.newly_failing] == ["a"] and d.still_failing == ()


def test_newly_passing_carries_the_time_to_remediate():
    earlier = [run(1, 0, {"a": P}), run(2, 2, {"a": F}), run(3, 3, {"a": E})]
    d = drift(earlier, run(4, 5, {"a": P}))
    (fixed,) = d.newly_passing
    assert fixed.failing_since == T0 + timedelta(days=2)
    assert fixed.time_to_remediate == timedelta(days=3)
    # passing again after passing is no change
    assert drift([run(1, 0, {"a": P})], run(2, 1, {"a": P})).newly_passing == ()


def test_new_devices_fail_newly_and_runs_that_skipped_a_device_are_passed_over():
    earlier = [run(1, 0, {"a": F}), run(2, 1, {"b": P})]  # run 2 checked only b
    d = drift(earlier, run(3, 2, {"a": F, "c": F}))
    assert [(s.device, s.previous) for s in d.newly_failing] == [("c", None)]
    assert [(s.device, s.failing_since) for s in d.still_failing] == [("a", T0)]


def test_an_error_now_is_in_no_list_and_no_earlier_run_means_no_drift():
    d = drift([run(1, 0, {"a": F})], run(2, 1, {"a": E}))
    assert d.newly_failing == d.newly_passing == d.still_failing == ()
    alone = drift([], run(1, 0, {"a": F}))
    assert alone.from_run is None and alone.newly_failing == ()


def test_earlier_runs_are_ordered_by_start_and_the_current_run_is_ignored_among_them():
    current = run(3, 2, {"a": P})
    d = drift([run(2, 1, {"a": F}), current, run(1, 0, {"a": P})], current)
    assert d.from_run == 2
    assert [s.time_to_remediate for s in d.newly_passing] == [timedelta(days=1)]


def test_trend_is_one_point_per_run_with_the_reports_percent():
    points = trend([run(1, 0, {"a": P, "b": F, "c": W}), run(2, 1, {"a": W})])
    assert [(p.run_id, p.compliance_percent) for p in points] == [(1, 50.0), (2, None)]
    assert points[0].counts == {
        "pass": 1, "fail": 1, "error": 0, "not_applicable": 0, "waived": 1,
    }  # fmt: skip


def _history(seed: int, nights: int = 12) -> list[RunRecord]:
    """Runs over four devices and two controls with every status, devices skipped now and
    then, two runs started at the same moment and one run that found a control twice."""
    rng = random.Random(seed)
    statuses = [P, F, F, E, W, Status.NOT_APPLICABLE]
    out = []
    for night in range(nights):
        day = night if night != 5 else 4  # runs 5 and 6 start at the same moment
        found = []
        for control in (CTL, "patching.security_updates"):
            checked = {d: rng.choice(statuses) for d in "abcd" if rng.random() < 0.8}
            found += run(night + 1, day, checked, control).findings
        if night == 7:  # found twice: the last one counts
            found += run(night + 1, day, {"a": P}).findings
        findings = tuple(found)
        out.append(run(night + 1, day, {}).model_copy(update={"findings": findings}))
    return out


def test_drifts_in_one_pass_equal_each_runs_drift_against_its_earlier_runs():
    for seed in range(20):
        runs = _history(seed)
        assert drifts(runs) == [drift(runs[:i], r) for i, r in enumerate(runs)], seed
    assert drifts([]) == []


def test_drifts_of_runs_out_of_start_order_still_equal_drift():
    runs = _history(3)
    shuffled = [runs[4], runs[0], runs[2], runs[1], runs[3]]
    assert drifts(shuffled) == [drift(shuffled[:i], r) for i, r in enumerate(shuffled)]
