"""Drift over a period: posture at its end against its start, not the last two runs."""

from __future__ import annotations

from datetime import timedelta

from baluarte.findings import Severity
from baluarte.history import drift
from baluarte.posture_drift import posture_drift
from tests.unit.test_posture import SCOPE, T0, E, F, P, f, full_check, one_device_apply, run

HALF_HOUR = timedelta(minutes=30)


def _keys(states: object) -> set[tuple[str, str]]:
    return {(s.device, s.control) for s in states}  # type: ignore[attr-defined]


def test_a_one_device_apply_after_a_full_check_keeps_every_device_in_the_drift():
    runs = [full_check(1, T0), one_device_apply(2, T0 + HALF_HOUR)]
    d = posture_drift(runs, SCOPE)
    assert d is not None and (d.from_run, d.to_run) == (1, 2)
    # the firewall's critical rule, found by the full check, is still failing: the apply
    # never looked at the firewall
    assert _keys(d.still_failing) == {
        ("fw", "firewall.no_any_any_accept"),
        ("pc", "access.admin_accounts"),
    }
    assert {s.failing_since for s in d.still_failing} == {T0}
    assert _keys(d.newly_passing) == {("pc", "firewall.enabled")}
    assert d.newly_passing[0].time_to_remediate == HALF_HOUR
    assert d.newly_failing == ()
    # the last-two-runs drift shrinks to the one device the apply touched
    last_two = drift(runs[:-1], runs[-1])
    assert {s.device for s in last_two.still_failing + last_two.newly_passing} == {"pc"}


def test_a_control_that_fails_later_is_newly_failing_since_that_run():
    later = T0 + timedelta(days=2)
    runs = [
        full_check(1, T0),
        run(2, later, [f("srv", "access.ssh_root_login", F)]),
        one_device_apply(3, later + HALF_HOUR),
    ]
    d = posture_drift(runs, SCOPE)
    assert d is not None
    assert [(s.device, s.previous, s.failing_since) for s in d.newly_failing] == [("srv", P, later)]


def test_time_to_remediate_runs_from_the_streak_start_to_the_run_that_found_it_fixed():
    day = timedelta(days=1)
    key = ("pc", "firewall.enabled")
    runs = [
        run(1, T0, [f(*key, F)]),
        run(2, T0 + day, [f(*key, E, reason="timed out")]),  # an error neither ends nor starts
        run(3, T0 + 2 * day, [f(*key, F)]),
        run(4, T0 + 3 * day, [f(*key, P)]),
        run(5, T0 + 5 * day, [f(*key, P)]),  # still fixed: the time is to the first pass
    ]
    d = posture_drift(runs, SCOPE)
    assert d is not None and _keys(d.newly_passing) == {key}
    assert d.newly_passing[0].failing_since == T0
    assert d.newly_passing[0].time_to_remediate == 3 * day


def test_controls_now_in_error_or_not_in_scope_are_in_no_list():
    runs = [
        run(1, T0, [f("srv", "a", F), f("gone", "a", F)]),
        run(2, T0 + HALF_HOUR, [f("srv", "a", E, reason="x", error_kind="undetermined")]),
    ]
    d = posture_drift(runs, SCOPE)
    assert d is not None
    assert d.newly_failing == d.newly_passing == d.still_failing == ()


def test_one_run_has_nothing_to_compare_and_none_has_no_drift():
    d = posture_drift([full_check(1, T0)], SCOPE)
    assert d is not None and d.from_run is None and d.to_run == 1 and d.still_failing == ()
    assert posture_drift([], SCOPE) is None


def test_a_device_first_observed_later_is_still_failing_since_it_was_first_observed():
    first_seen = T0 + timedelta(days=1)
    runs = [
        run(1, T0, [f("srv", "access.ssh_root_login", P)]),
        run(2, first_seen, [f("fw", "firewall.no_any_any_accept", F, severity=Severity.CRITICAL)]),
    ]
    d = posture_drift(runs, SCOPE)
    assert d is not None
    assert [(s.device, s.failing_since) for s in d.still_failing] == [("fw", first_seen)]
