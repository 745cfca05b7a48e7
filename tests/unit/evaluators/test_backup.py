"""The backup evaluators: facts + parameters -> verdict, no I/O; and what settings() asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from baluarte.controls import EvalContext, catalogue
from baluarte.errors import InputError
from baluarte.findings import Status
from baluarte.plan import PlannedControl
from checks.evaluators import backup as ev
from checks.facts.backup import (
    BackupFacts,
    Repository,
    RestoreTest,
    Snapshot,
    SystemdJob,
    VeeamJob,
    VeeamSession,
    VeeamState,
)
from checks.linux.backup import settings
from checks.linux.bundle import collection_script
from checks.policy.backup import Configured, Encrypted, LastSuccessAge, RestoreTested

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CTX = EvalContext(now=NOW)
HOURS = timedelta(hours=1)


def repo(**kw) -> Repository:
    base = dict(
        tool="restic",
        location="/srv/backup",
        state="ok",
        latest=Snapshot(id="bb5e7473", time=NOW - 2 * HOURS, paths=("/etc", "/srv/data")),
        encryption="restic (every repository is encrypted, AES-256)",
        encrypted=True,
    )
    return Repository(**{**base, **kw})


def facts(**kw) -> BackupFacts:
    return BackupFacts(**{"tool": "restic", "repository": repo(), **kw})


def sd_job(**kw) -> SystemdJob:
    base = dict(
        service="restic-backup.service",
        service_loaded=True,
        timer="restic-backup.timer",
        timer_loaded=True,
        timer_enabled=True,
        timer_active=True,
        next_run=NOW + 14 * HOURS,
        active_state="inactive",
        result="success",
        exit_status=0,
        last_exit=NOW - 10 * HOURS,
        booted=NOW - 100 * HOURS,
        command=("/usr/bin/restic", "backup", "/etc", "/srv"),
    )
    return SystemdJob(**{**base, **kw})


def status(outcome) -> str:
    return str(outcome.status)


# -- configured ------------------------------------------------------------------------------


def test_newest_snapshot_covering_every_path_passes_parent_paths_count():
    out = ev.configured(facts(), Configured(paths=("/etc", "/srv/data/invoices")), CTX)
    assert out.status is Status.PASS and "bb5e7473" in out.observed
    assert out.evidence == "/etc\n/srv/data"


def test_path_missing_from_the_newest_snapshot_fails_naming_it():
    out = ev.configured(facts(), Configured(paths=("/etc", "/home", "/srv/database")), CTX)
    assert out.status is Status.FAIL
    assert "does not include /home, /srv/database" in out.observed


def test_sibling_with_a_common_prefix_is_not_covered():
    out = ev.configured(facts(), Configured(paths=("/srv/data2",)), CTX)
    assert out.status is Status.FAIL


def test_missing_repository_fails_unreadable_is_error():
    missing = facts(
        repository=repo(state="missing", problem="the path does not exist", latest=None)
    )
    assert status(ev.configured(missing, Configured(), CTX)) == "fail"
    wrong = facts(
        repository=repo(state="unreadable", problem="wrong repository password", latest=None)
    )
    out = ev.configured(wrong, Configured(paths=("/etc",)), CTX)
    assert out.status is Status.ERROR and "wrong repository password" in out.reason


def test_no_snapshot_of_this_host_fails_and_names_the_hosts_seen():
    out = ev.configured(
        facts(repository=repo(latest=None, other_hosts=("nas",))), Configured(), CTX
    )
    assert out.status is Status.FAIL and "snapshots from: nas" in out.observed


def test_nothing_to_inspect_fails_but_a_problem_is_an_error():
    nothing = BackupFacts(tool=None, detail="no backup named in the policy")
    assert status(ev.configured(nothing, Configured(), CTX)) == "fail"
    broken = BackupFacts(tool=None, problems=("cannot tell restic from borg",))
    assert status(ev.configured(broken, Configured(), CTX)) == "error"


def test_another_tool_than_the_policy_expects_is_an_error():
    out = ev.configured(facts(), Configured(tool="borg"), CTX)
    assert out.status is Status.ERROR and "expects borg" in out.reason


def test_borg_archive_with_relative_paths_cannot_prove_coverage():
    borg = repo(tool="borg", latest=Snapshot(id="x", time=NOW, paths=None), encryption="repokey")
    assert (
        status(ev.configured(facts(tool="borg", repository=borg), Configured(paths=("/etc",)), CTX))
        == "error"
    )
    assert status(ev.configured(facts(tool="borg", repository=borg), Configured(), CTX)) == "pass"


@pytest.mark.parametrize(
    ("job", "paths", "expected"),
    [
        (sd_job(), ("/srv/www",), "pass"),
        (sd_job(), ("/home",), "fail"),
        (sd_job(timer_enabled=False), (), "fail"),
        (sd_job(timer_active=False), (), "fail"),
        (sd_job(service_loaded=False), (), "fail"),
        (sd_job(timer_loaded=False), (), "fail"),
    ],
)
def test_systemd_job_configured(job, paths, expected):
    out = ev.configured(BackupFacts(tool="systemd", systemd=job), Configured(paths=paths), CTX)
    assert status(out) == expected


def test_systemd_tool_without_a_unit_is_an_error():
    assert status(ev.configured(BackupFacts(tool="systemd"), Configured(), CTX)) == "error"


VEEAM_JOB = VeeamJob(name="SRV Daily", id="{1}", type="Backup", repository="NAS")


def test_veeam_job_present_named_or_missing():
    veeam = BackupFacts(tool="veeam", veeam=VeeamState(jobs=(VEEAM_JOB,), sessions=()))
    assert status(ev.configured(veeam, Configured(), CTX)) == "pass"
    assert status(ev.configured(veeam, Configured(job="SRV Daily"), CTX)) == "pass"
    assert status(ev.configured(veeam, Configured(job="Other"), CTX)) == "fail"
    # the job list does not show paths: coverage cannot be proven
    assert status(ev.configured(veeam, Configured(paths=("/etc",)), CTX)) == "error"
    empty = BackupFacts(tool="veeam", veeam=VeeamState(jobs=(), sessions=()))
    assert status(ev.configured(empty, Configured(), CTX)) == "fail"
    broken = BackupFacts(tool="veeam", veeam=VeeamState(jobs=None, sessions=None, problem="x"))
    assert status(ev.configured(broken, Configured(), CTX)) == "error"


# -- last_success_age ------------------------------------------------------------------------


def test_snapshot_age_against_max_hours():
    assert status(ev.last_success_age(facts(), LastSuccessAge(max_hours=26), CTX)) == "pass"
    old = facts(repository=repo(latest=Snapshot(id="a", time=NOW - 27 * HOURS, paths=("/",))))
    out = ev.last_success_age(old, LastSuccessAge(max_hours=26), CTX)
    assert out.status is Status.FAIL and "27.0 hours ago" in out.observed


def test_systemd_success_age_failed_run_and_runs_forgotten_at_boot():
    params = LastSuccessAge(max_hours=26)
    ok = ev.last_success_age(BackupFacts(tool="systemd", systemd=sd_job()), params, CTX)
    assert ok.status is Status.PASS and "Result=success" in ok.evidence
    failed = sd_job(result="exit-code", exit_status=2, active_state="failed")
    out = ev.last_success_age(BackupFacts(tool="systemd", systemd=failed), params, CTX)
    assert out.status is Status.FAIL and "Result=exit-code, exit status 2" in out.observed
    # killed by a signal: systemd gives no exit status, said in words, not as Python's None
    killed = sd_job(result="signal", exit_status=None, active_state="failed")
    out = ev.last_success_age(BackupFacts(tool="systemd", systemd=killed), params, CTX)
    observed = out.observed or ""
    assert out.status is Status.FAIL and "Result=signal, exit status unknown)" in observed
    assert "None" not in observed
    # not run since systemd started 100 h ago: certainly no success in the last 26 h
    never = BackupFacts(tool="systemd", systemd=sd_job(last_exit=None))
    assert status(ev.last_success_age(never, params, CTX)) == "fail"
    # started 3 h ago: a success 10 h ago would have been forgotten, so nobody can tell
    fresh = BackupFacts(tool="systemd", systemd=sd_job(last_exit=None, booted=NOW - 3 * HOURS))
    assert status(ev.last_success_age(fresh, params, CTX)) == "error"


def session(state: str, hours_ago: float) -> VeeamSession:
    return VeeamSession(
        job="SRV Daily",
        type="Backup",
        id="{s}",
        state=state,
        started=NOW - (hours_ago + 0.1) * HOURS,
        finished=NOW - hours_ago * HOURS,
    )


def test_veeam_newest_successful_session_counts_and_later_failures_are_named():
    params = LastSuccessAge(max_hours=26)
    healthy = VeeamState(
        jobs=(VEEAM_JOB,), sessions=(session("Success", 30), session("Warning", 6))
    )
    assert (
        status(ev.last_success_age(BackupFacts(tool="veeam", veeam=healthy), params, CTX)) == "pass"
    )
    failing = VeeamState(
        jobs=(VEEAM_JOB,),
        sessions=(session("Success", 54), session("Failed", 30), session("Failed", 6)),
    )
    out = ev.last_success_age(BackupFacts(tool="veeam", veeam=failing), params, CTX)
    assert out.status is Status.FAIL and "2 failed sessions since" in out.observed
    none = VeeamState(jobs=(VEEAM_JOB,), sessions=(session("Failed", 6),))
    assert status(ev.last_success_age(BackupFacts(tool="veeam", veeam=none), params, CTX)) == "fail"
    unreadable = VeeamState(jobs=(VEEAM_JOB,), sessions=None, problem="no header")
    assert (
        status(ev.last_success_age(BackupFacts(tool="veeam", veeam=unreadable), params, CTX))
        == "error"
    )


# -- encrypted -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("repository", "expected"),
    [
        (repo(), "pass"),
        (repo(tool="borg", encryption="repokey-blake2", encrypted=True), "pass"),
        (repo(tool="borg", encryption="none", encrypted=False), "fail"),
        (repo(tool="borg", encryption="authenticated", encrypted=False), "fail"),
        (repo(tool="borg", encryption=None, encrypted=None), "error"),
        # no backup there, so certainly no encrypted one: the policy is not met (never error)
        (repo(state="missing", latest=None, problem="the path does not exist"), "fail"),
        (repo(state="unreadable", latest=None, problem="wrong password"), "error"),
    ],
)
def test_encryption(repository, expected):
    out = ev.encrypted(facts(tool=repository.tool, repository=repository), Encrypted(), CTX)
    assert status(out) == expected


def test_encryption_not_required_is_not_applicable_and_unknowable_sources_are_errors():
    # a pass would count a check that verified nothing towards compliance
    plain = facts(tool="borg", repository=repo(tool="borg", encryption="none", encrypted=False))
    off = ev.encrypted(plain, Encrypted(required=False), EvalContext(now=NOW, policy="srv"))
    assert status(off) == "not_applicable"
    assert off.reason == "backup encryption not required by policy srv (required: false)"
    job = BackupFacts(tool="systemd", systemd=sd_job())
    assert status(ev.encrypted(job, Encrypted(), CTX)) == "error"
    veeam = BackupFacts(tool="veeam", veeam=VeeamState(jobs=(VEEAM_JOB,), sessions=()))
    assert status(ev.encrypted(veeam, Encrypted(), CTX)) == "error"


# -- restore_tested --------------------------------------------------------------------------


def restore(**kw) -> RestoreTest:
    base = dict(
        at=NOW - timedelta(days=3),
        tool="restic",
        result="pass",
        file="/srv/data/a.txt",
        snapshot="7ca5711ac2874d43aa93a4b09b618658dc6ea349cd2105268fb18ea4e44b43a3",
        source_sha256="5f43" * 16,
        restored_sha256="5f43" * 16,
        backup_time=NOW - timedelta(days=3, hours=5),
        source_modified=NOW - timedelta(days=30),
    )
    return RestoreTest(**{**base, **kw})


def test_restore_test_made_now_decides_and_its_hashes_are_the_evidence():
    now = facts(restore_now=restore(at=NOW))
    out = ev.restore_tested(now, RestoreTested(), CTX)
    assert out.status is Status.PASS and "7ca5711a" in out.observed
    assert out.evidence.count("5f43" * 16) == 2 and "/srv/data/a.txt" in out.evidence
    changed = restore(
        at=NOW, result="fail", restored_sha256="92e7" * 16, detail="hashes differ",
        source_modified=NOW - HOURS,
    )  # fmt: skip
    out = ev.restore_tested(facts(restore_now=changed), RestoreTested(), CTX)
    assert out.status is Status.FAIL and "after the backup" in out.observed
    errored = restore(at=NOW, result="error", file=None, detail="no backup to restore from")
    assert status(ev.restore_tested(facts(restore_now=errored), RestoreTested(), CTX)) == "error"


def test_restore_test_of_a_missing_repository_fails():
    missing = repo(state="missing", latest=None, problem="no restic repository at this location")
    errored = restore(at=NOW, result="error", file=None, detail="no backup to restore from")
    out = ev.restore_tested(facts(repository=missing, restore_now=errored), RestoreTested(), CTX)
    assert out.status is Status.FAIL and "nothing to restore" in out.observed


@pytest.mark.parametrize(
    ("record", "expected", "words"),
    [
        (restore(), "pass", "3.0 days ago"),
        (restore(at=NOW - timedelta(days=91)), "fail", "--restore-test"),
        (restore(same_repository=False), "fail", "another repository"),
        (restore(result="fail", detail="hashes differ"), "fail", "hashes differ"),
        (None, "fail", "no restore test on record"),
    ],
)
def test_restore_record(record, expected, words):
    out = ev.restore_tested(facts(restore_record=record), RestoreTested(max_days=90), CTX)
    assert status(out) == expected and words in out.observed


def test_unreadable_restore_record_is_an_error():
    out = ev.restore_tested(facts(restore_record_read=False), RestoreTested(), CTX)
    assert out.status is Status.ERROR


# -- settings: what the fragment is told, and how ---------------------------------------------


def planned(name: str, params) -> PlannedControl:
    return PlannedControl(catalogue()[f"backup.{name}"], params, "p")


def test_settings_send_the_password_as_a_secret_never_in_the_script(monkeypatch):
    monkeypatch.setenv("BK_UNIT_TEST_PW", "pw-canary-31337")
    controls = [
        planned("configured", Configured(repository="/srv/b", password="env:BK_UNIT_TEST_PW")),
        planned("last_success_age", LastSuccessAge(tool="restic")),
        planned("restore_tested", RestoreTested()),
    ]
    got = settings(controls, restore_test=False)
    assert got.env == {"BK_TOOL": "restic", "BK_REPO": "/srv/b"}
    assert got.secrets == {"BK_PASSWORD": "pw-canary-31337"}
    script, stdin = collection_script(("backup",), got)
    assert "pw-canary-31337" not in script and stdin == ("pw-canary-31337",)
    assert settings(controls, restore_test=True).env["BK_RESTORE"] == "1"


def test_restore_test_runs_only_for_a_planned_restore_control():
    assert "BK_RESTORE" not in settings([planned("configured", Configured())], True).env
    switch = [planned("restore_tested", RestoreTested(run=True))]
    assert settings(switch, False).env["BK_RESTORE"] == "1"


def test_systemd_unit_gets_its_timer():
    got = settings([planned("configured", Configured(tool="systemd", unit="borg-backup"))], False)
    assert got.env["BK_UNIT"] == "borg-backup.service"
    assert got.env["BK_TIMER"] == "borg-backup.timer"


def test_unreadable_password_reference_is_an_input_error(monkeypatch):
    monkeypatch.delenv("BK_UNIT_TEST_MISSING", raising=False)
    controls = [planned("configured", Configured(password="env:BK_UNIT_TEST_MISSING"))]
    with pytest.raises(InputError):
        settings(controls, False)


# -- FortiGate: the configuration backup Baluarte takes ---------------------------------------


def _taken(age: timedelta):
    from checks.facts.backup import ConfigBackupTaken

    return BackupFacts(
        tool=None,
        config_backup=ConfigBackupTaken(
            sha256="a" * 64, size=48213, taken_at=NOW - age, path="artifacts/fw.conf",
            header="#config-version=FGT60F-7.04-FW-build2702-241008:opmode=0:vdom=0:user=ro",
        ),
    )  # fmt: skip


def test_config_saved_passes_with_hash_size_and_path_and_fails_when_old():
    from checks.policy.backup import ConfigSaved

    out = ev.config_saved(_taken(timedelta(seconds=3)), ConfigSaved(max_days=7), CTX)
    assert out.status is Status.PASS
    assert "sha256 " + "a" * 64 in out.observed and "48213 bytes" in out.observed
    assert "#config-version=FGT60F" in out.evidence
    old = ev.config_saved(_taken(timedelta(days=8)), ConfigSaved(max_days=7), CTX)
    assert old.status is Status.FAIL and "(8.0 days ago)" in old.observed


def test_config_saved_without_a_backup_is_an_error():
    from checks.policy.backup import ConfigSaved

    failed = BackupFacts(tool=None, problems=("401: token refused",))
    out = ev.config_saved(failed, ConfigSaved(), CTX)
    assert out.status is Status.ERROR and "the configuration backup failed: 401" in out.reason
    none = ev.config_saved(BackupFacts(tool=None), ConfigSaved(), CTX)
    assert none.status is Status.ERROR and "no configuration backup" in none.reason


def test_config_saved_refused_by_the_unit_is_a_failure_with_the_fix():
    from checks.policy.backup import ConfigSaved

    refused = BackupFacts(
        tool=None,
        problems=("the unit refused the configuration backup: 403 Forbidden",),
        config_backup_refused=True,
    )
    out = ev.config_saved(refused, ConfigSaved(), CTX)
    assert out.status == Status.FAIL
    assert "refused the configuration backup" in out.observed
