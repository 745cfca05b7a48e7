"""Posture: each in-scope device and control as last observed in the period, from any run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from baluarte.findings import ErrorKind, Finding, Severity, Status
from baluarte.posture import posture_at, posture_trend, trend_instants
from baluarte.run import RunInfo, RunKind, RunRecord, RunState

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
SCOPE = {
    ("acme", "hq", d): p for d, p in (("srv", "linux"), ("fw", "fortigate"), ("pc", "windows"))
}
P, F, E = Status.PASS, Status.FAIL, Status.ERROR


def f(device: str, control: str, status: Status, **kw: object) -> Finding:
    fields: dict[str, object] = {"severity": Severity.HIGH, "platform": "linux"}
    fields.update(kw)
    return Finding.model_validate(
        {"client": "acme", "site": "hq", "device": device, "control": control, "status": status}
        | fields
    )


def run(
    run_id: int, at: datetime, findings: list[Finding], kind: RunKind = RunKind.CHECK
) -> RunRecord:
    info = RunInfo(
        id=run_id, kind=kind, state=RunState.COMPLETE, started_at=at, operator="ana",
        tool_version="0.1.0", inventory_sha256="1" * 64,
    )  # fmt: skip
    return RunRecord(info=info, findings=tuple(findings))


def full_check(run_id: int, at: datetime) -> RunRecord:
    return run(
        run_id,
        at,
        [
            f("srv", "access.ssh_root_login", P),
            f("fw", "firewall.no_any_any_accept", F, severity=Severity.CRITICAL),
            f("fw", "backup.config_saved", P),
            f("pc", "access.admin_accounts", F, platform="windows"),
            f("pc", "firewall.enabled", F, platform="windows"),
        ],
    )


def one_device_apply(run_id: int, at: datetime) -> RunRecord:
    # apply --device pc: its findings are pc's re-check after the change
    found = [f("pc", "access.admin_accounts", F), f("pc", "firewall.enabled", P)]
    return run(run_id, at, found, RunKind.APPLY)


def test_a_one_device_apply_keeps_the_other_devices_as_last_observed():
    runs = [full_check(1, T0), one_device_apply(2, T0 + timedelta(minutes=30))]
    p = posture_at(runs, None, SCOPE)
    assert (p.in_scope, p.verified) == (3, 3)
    assert [d.state for d in p.devices] == ["verified"] * 3
    by_key = {(o.finding.device, o.finding.control): o for o in p.observations}
    risk = by_key[("fw", "firewall.no_any_any_accept")]
    assert (risk.finding.status, risk.run_id, risk.observed_at) == (F, 1, T0)
    fixed = by_key[("pc", "firewall.enabled")]
    assert (fixed.finding.status, fixed.run_id) == (P, 2)
    # 3 pass (srv, fw backup, pc firewall) of 5 judged; the apply alone would say 50 %
    assert p.counts["pass"] == 3 and p.compliance_percent == 60.0


def test_posture_at_an_instant_ignores_later_runs():
    runs = [full_check(1, T0), one_device_apply(2, T0 + timedelta(hours=2))]
    p = posture_at(runs, T0 + timedelta(hours=1), SCOPE)
    assert {o.run_id for o in p.observations} == {1}
    assert p.compliance_percent == 40.0


def test_a_device_never_checked_is_not_verified_with_that_reason():
    runs = [run(1, T0, [f("srv", "access.ssh_root_login", P)])]
    p = posture_at(runs, None, SCOPE)
    states = {d.device: (d.state, d.reason) for d in p.devices}
    assert states == {
        "srv": ("verified", None),
        "fw": ("not_verified", "never_checked"),
        "pc": ("not_verified", "never_checked"),
    }
    assert (p.in_scope, p.verified) == (3, 1)


def test_an_unreadable_last_attempt_makes_the_device_not_verified_whatever_came_before():
    timeout = "unreachable: connection timed out"
    runs = [
        run(1, T0, [f("srv", "access.ssh_root_login", F)]),
        run(
            2,
            T0 + timedelta(days=1),
            [f("srv", "access.ssh_root_login", E, reason=timeout, error_kind=ErrorKind.UNREADABLE)],
        ),
    ]
    for earlier in (F, P):  # an old pass must not stand as current: it would be stale
        runs[0] = run(1, T0, [f("srv", "access.ssh_root_login", earlier)])
        p = posture_at(runs, None, SCOPE)
        (obs,) = p.observations
        assert (obs.finding.status, obs.run_id) == (E, 2)
        srv = next(d for d in p.devices if d.device == "srv")
        assert (srv.state, srv.reason) == ("not_verified", "unreadable")
        assert srv.failed_run == 2 and srv.errors == (timeout,)
        assert (srv.observed_at, srv.runs) == (T0, (1,))  # when it was last read
        assert p.counts["error"] == 1 and p.compliance_percent == 0.0


def test_a_device_only_ever_unreadable_is_not_verified_with_the_error():
    refused = "unreachable: connection refused"
    runs = [run(1, T0, [f("pc", "access.admin_accounts", E, reason=refused)])]  # no kind: old
    p = posture_at(runs, None, SCOPE)
    pc = next(d for d in p.devices if d.device == "pc")
    assert (pc.state, pc.reason, pc.errors) == ("not_verified", "unreadable", (refused,))
    # the error stays in the counts: a control never read is never compliant
    assert p.counts["error"] == 1 and p.compliance_percent == 0.0


def test_an_undetermined_error_is_an_observation():
    stale = "package lists are 40 days old"
    runs = [
        run(1, T0, [f("srv", "patching.security_updates_pending", P)]),
        run(
            2,
            T0 + timedelta(days=1),
            [
                f(
                    "srv",
                    "patching.security_updates_pending",
                    E,
                    reason=stale,
                    error_kind=ErrorKind.UNDETERMINED,
                )
            ],
        ),
    ]
    (obs,) = posture_at(runs, None, SCOPE).observations
    assert (obs.finding.status, obs.run_id) == (E, 2)


def test_a_device_no_longer_in_scope_is_listed_apart_and_not_counted():
    runs = [
        run(1, T0, [f("old", "access.ssh_root_login", F), f("srv", "access.ssh_root_login", P)])
    ]
    p = posture_at(runs, None, SCOPE)
    assert p.counts["fail"] == 0 and p.compliance_percent == 100.0
    assert [(d.device, d.in_scope) for d in p.devices][-1] == ("old", False)


def test_without_a_scope_every_observed_device_is_in_it():
    p = posture_at([full_check(1, T0)])
    assert (p.in_scope, p.verified) == (3, 3)


def test_trend_is_posture_per_day_not_per_run():
    runs = [
        full_check(1, T0),
        one_device_apply(2, T0 + timedelta(minutes=30)),
        run(3, T0 + timedelta(days=2), [f("fw", "firewall.no_any_any_accept", P)]),
    ]
    points = posture_trend(runs, date(2026, 11, 1), date(2026, 11, 5), SCOPE)
    assert [p.day.day for p in points] == [1, 2, 3, 4, 5]
    # nothing observed on the 1st; the 2nd closes on both runs; the 4th fixes the firewall
    assert [p.compliance_percent for p in points] == [None, 60.0, 60.0, 80.0, 80.0]
    assert [p.runs for p in points] == [(), (1, 2), (), (3,), ()]
    assert [p.verified for p in points] == [0, 3, 3, 3, 3]


def test_a_long_period_is_drawn_per_iso_week():
    assert len(trend_instants(date(2026, 1, 1), date(2026, 3, 1))) == 60  # 60 days: daily
    weeks = trend_instants(date(2026, 1, 1), date(2026, 3, 31))
    assert all(weekly for _, weekly in weeks)
    assert [d for d, _ in weeks][:2] == [date(2026, 1, 4), date(2026, 1, 11)]  # Sundays
    assert weeks[-1][0] == date(2026, 3, 31) and len(weeks) == 14  # 13 Sundays, the last day
