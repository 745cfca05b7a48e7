"""Two kinds of ``error`` (issue 12, class 9): a device that could not be read (exit 3) and a
device read whose facts do not settle the control (exit 1). Neither is ever a pass or waived."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from baluarte.collected import Collected, HostIdentity
from baluarte.engine import exit_status
from baluarte.errors import AuthFailed, BadAnswer, DeviceError, TimedOut, Unreachable
from baluarte.evaluate import evaluate_device
from baluarte.exitcodes import ExitCode
from baluarte.findings import ErrorKind, Finding, Outcome, Severity, Status
from baluarte.inventory import load_inventory
from baluarte.plan import plan
from baluarte.policy import load_policies
from baluarte.run import RunInfo, RunKind, RunRecord, RunState
from baluarte.waivers import load_waivers
from checks.evaluators import backup as backup_ev
from checks.facts.backup import BackupFacts, Repository
from checks.facts.patching import AutoUpdates, PatchFacts, RebootState
from checks.policy.backup import Encrypted

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
INVENTORY = """\
clients:
  - name: acme
    legal_name: ACME
    sites:
      - name: hq
        devices:
          - {name: srv1, platform: linux, address: 10.0.0.5}
"""
POLICY = """\
id: base
version: "1"
title: Base
applies_to: {platform: linux}
patching:
  reboot_required: {grace_days: 7}
  automatic_updates: {required: true}
backup:
  encrypted: {required: true}
"""
WAIVERS = """\
waivers:
  - {control: patching.reboot_required, client: acme, devices: [srv1], reason: r,
     approved_by: boss, expires: 2027-01-01}
"""


@pytest.fixture
def device_plan(tmp_path: Path):
    (tmp_path / "inv.yaml").write_text(INVENTORY)
    (tmp_path / "p.yaml").write_text(POLICY)
    (tmp_path / "w.yaml").write_text(WAIVERS)
    inventory = load_inventory([tmp_path / "inv.yaml"])
    (only,) = plan(inventory, load_policies(tmp_path / "p.yaml"))
    return only, load_waivers(tmp_path / "w.yaml")


def patch_facts(reboot: RebootState) -> PatchFacts:
    return PatchFacts(
        package_manager="apt", pending=(), last_update=NOW, automatic_updates=AutoUpdates(
            tool="unattended-upgrades", installed=True, enabled=True, security_origin=True),
        reboot=reboot, kernel_running="k", kernel_newest="k", packages={},
    )  # fmt: skip


def evaluate(device_plan, result):
    only, waivers = device_plan
    return {
        f.control: f
        for f in evaluate_device(
            only,
            result,
            collected_domains=("patching", "backup"),
            waivers=waivers,
            now=NOW,
        )
    }


def run_of(*findings: Finding) -> RunRecord:
    info = RunInfo(
        id=1, kind=RunKind.CHECK, state=RunState.COMPLETE, started_at=NOW, operator="t",
        tool_version="0", inventory_sha256="0" * 64,
    )  # fmt: skip
    return RunRecord(info=info, findings=findings)


@pytest.mark.parametrize(
    "error", [Unreachable("no route"), AuthFailed("refused"), TimedOut("60 s"), BadAnswer("junk")]
)
def test_a_device_that_could_not_be_read_is_unreadable_everywhere_and_exits_3(
    device_plan, error: DeviceError
):
    found = evaluate(device_plan, error)
    assert {f.status for f in found.values()} == {Status.ERROR}
    assert {f.error_kind for f in found.values()} == {ErrorKind.UNREADABLE}
    assert exit_status(run_of(*found.values())) == ExitCode.DEVICE_ERROR == 3


def test_a_domain_whose_collection_failed_is_unreadable(device_plan):
    result = Collected(
        identity=HostIdentity(),
        facts={"patching": patch_facts(RebootState(required=False))},
        problems={"backup": "backup section: unterminated JSON"},
    )
    found = evaluate(device_plan, result)
    assert found["backup.encrypted"].error_kind is ErrorKind.UNREADABLE
    assert found["patching.automatic_updates"].status is Status.PASS
    assert exit_status(run_of(*found.values())) == 3


def test_read_but_undetermined_is_never_pass_never_waived_and_exits_1(device_plan):
    # no reboot signal at all: "no reboot known" is not "no reboot pending" (issue 11)
    result = Collected(
        identity=HostIdentity(),
        facts={
            "patching": patch_facts(RebootState(required=False, unknown="no signal")),
            "backup": BackupFacts(tool="restic", repository=Repository(
                tool="restic", location="/srv/restic", state="ok", encryption="restic",
                encrypted=True)),
        },
    )  # fmt: skip
    found = evaluate(device_plan, result)
    reboot = found["patching.reboot_required"]
    assert (reboot.status, reboot.error_kind) == (Status.ERROR, ErrorKind.UNDETERMINED)
    assert reboot.waiver is None and "could not be established" in (reboot.reason or "")
    assert found["backup.encrypted"].status is Status.PASS
    assert exit_status(run_of(*found.values())) == ExitCode.DRIFT == 1


def test_backup_encrypted_on_a_device_with_no_backup_fails_rather_than_errs():
    nothing = BackupFacts(tool=None, detail="no restic, borg, systemd job or Veeam Agent found")
    out = backup_ev.encrypted(nothing, Encrypted(), _ctx())
    assert out.status is Status.FAIL and out.error_kind is None
    assert out.observed == "no restic, borg, systemd job or Veeam Agent found"
    assert "no encrypted backup" in (out.reason or "")
    missing = BackupFacts(
        tool="restic",
        repository=Repository(
            tool="restic", location="/srv/restic", state="missing", problem="no such directory"
        ),
    )
    assert backup_ev.encrypted(missing, Encrypted(), _ctx()).status is Status.FAIL


def test_an_unreadable_repository_is_an_unreadable_error_for_encrypted():
    unreadable = BackupFacts(
        tool="restic",
        repository=Repository(
            tool="restic", location="/srv/r", state="unreadable", problem="wrong password"
        ),
    )
    out = backup_ev.encrypted(unreadable, Encrypted(), _ctx())
    assert (out.status, out.error_kind) == (Status.ERROR, ErrorKind.UNREADABLE)


def _ctx():
    from baluarte.controls import EvalContext

    return EvalContext(now=NOW)


def finding(status: Status, kind: ErrorKind | None = None) -> Finding:
    return Finding(
        client="a", site="s", device="d", platform="linux", control="backup.encrypted",
        status=status, severity=Severity.HIGH, error_kind=kind,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        ([(Status.PASS, None), (Status.WAIVED, None), (Status.NOT_APPLICABLE, None)], 0),
        ([(Status.PASS, None), (Status.FAIL, None)], 1),
        ([(Status.PASS, None), (Status.ERROR, ErrorKind.UNDETERMINED)], 1),
        ([(Status.FAIL, None), (Status.ERROR, ErrorKind.UNREADABLE)], 3),
        ([(Status.ERROR, ErrorKind.UNDETERMINED), (Status.ERROR, ErrorKind.UNREADABLE)], 3),
        # stored before the kinds existed: read as it was then, could not be checked
        ([(Status.PASS, None), (Status.ERROR, None)], 3),
    ],
)
def test_exit_status_3_only_for_a_device_that_could_not_be_read(statuses, code):
    assert exit_status(run_of(*(finding(s, k) for s, k in statuses))) == code


def test_a_kind_belongs_to_errors_only_and_an_error_outcome_always_has_one():
    with pytest.raises(ValidationError, match="error findings only"):
        finding(Status.FAIL, ErrorKind.UNREADABLE)
    assert Outcome(status=Status.ERROR, reason="x").error_kind is ErrorKind.UNDETERMINED
    assert Outcome.error("x").error_kind is ErrorKind.UNDETERMINED
    assert Outcome.unreadable("x").error_kind is ErrorKind.UNREADABLE
    assert Outcome.failed("e", "o").error_kind is None


def test_a_finding_without_a_kind_serialises_as_before():
    # run records hashed before the kinds existed must hash the same (baluarte/chain.py)
    old = finding(Status.ERROR).model_dump(mode="json")
    assert "error_kind" not in old
    assert finding(Status.ERROR, ErrorKind.UNREADABLE).model_dump(mode="json")["error_kind"] == (
        "unreadable"
    )


def stored_kinds(db: str) -> list[ErrorKind | None]:
    from baluarte.store import Store

    with Store.open(db) as store:
        run_id = store.start_run(
            kind=RunKind.CHECK, operator="t", tool_version="0", inventory_sha256="1" * 64,
            files=[], scope={}, devices_total=1, started_at=NOW,
        )  # fmt: skip
        store.add_findings(
            run_id,
            [
                finding(Status.ERROR, ErrorKind.UNREADABLE),
                finding(Status.ERROR, ErrorKind.UNDETERMINED),
                finding(Status.FAIL),
            ],
        )
        store.finish_run(run_id)
        run = store.get_run(run_id)
    assert exit_status(run) == 3
    return [f.error_kind for f in run.findings]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_kind_is_stored_and_read_back(backend, tmp_path, request):
    db = str(tmp_path / "runs.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    assert stored_kinds(db) == [ErrorKind.UNREADABLE, ErrorKind.UNDETERMINED, None]


def test_a_fact_the_collection_could_not_read_is_unreadable_in_every_domain():
    from checks.evaluators import logging as logging_ev
    from checks.evaluators import patching as patching_ev
    from checks.facts.logging import LoggingFacts
    from checks.policy.logging import RemoteForwarding, TimeSync
    from checks.policy.patching import MaxCount, SecurityUpdates

    unread_logs = LoggingFacts(
        forward_targets=None,
        time_sync=None,
        problems={"forward_targets": "rsyslogd -N1 failed", "time_sync": "timedatectl failed"},
    )
    unread_patches = patch_facts(RebootState(required=False)).model_copy(
        update={"pending": None, "problems": ("apt-get -s upgrade failed",)}
    )
    outcomes = [
        logging_ev.remote_forwarding(unread_logs, RemoteForwarding(), _ctx()),
        logging_ev.time_sync(unread_logs, TimeSync(), _ctx()),
        patching_ev.updates_pending(unread_patches, MaxCount(), _ctx()),
        patching_ev.security_updates_pending(unread_patches, SecurityUpdates(), _ctx()),
    ]
    assert [(o.status, o.error_kind) for o in outcomes] == [
        (Status.ERROR, ErrorKind.UNREADABLE)
    ] * 4
