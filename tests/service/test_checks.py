"""Checks the service starts: queued, run by the engine as the CLI runs them, recorded."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa

from baluarte.findings import Status
from baluarte.service import snapshots
from baluarte.service.checks import CheckRequest
from baluarte.service.db import ServiceDb
from baluarte.service.runtime import refresh_after_run
from baluarte.service.tables import service_checks
from tests.service._fixtures import make_service


def _wait(service, check_id: int, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        row = service.checks.get(check_id)
        if row.state not in ("queued", "running"):
            return row
        time.sleep(0.1)
    raise AssertionError(f"check {check_id} still {row.state}")


def test_a_check_of_unreachable_devices_is_stored_in_error_never_pass(
    tmp_path: Path, service_db: ServiceDb
):
    service = make_service(tmp_path, service_db)
    service.after_run_hooks.append(refresh_after_run)
    try:
        check_id = service.checks.request(
            CheckRequest(origin="dashboard", client="acme", requested_by="ana")
        )
        row = _wait(service, check_id)
        assert row.state == "done" and row.run_id is not None
        run = service.db.store.get_run(row.run_id)
        assert run.info.scope == {"client": "acme"}
        assert run.info.operator_identity is not None
        assert run.info.operator_identity.name == "ana"
        assert {f.device for f in run.findings} == {"srv-files", "srv-web"}
        assert run.findings and all(f.status is Status.ERROR for f in run.findings)
        # the hook rebuilt acme's posture: nothing verified, nothing counted as a pass
        acme = snapshots.client_summaries(service)[0]
        assert acme.last_run_id == row.run_id and not acme.stale
        assert acme.devices_not_verified == 2 and acme.compliance_percent == 0.0
    finally:
        service.checks.close(wait=True)


def test_bad_selectors_fail_the_check_with_the_reason(tmp_path: Path, sqlite_db: ServiceDb):
    service = make_service(tmp_path, sqlite_db)
    try:
        check_id = service.checks.request(CheckRequest(origin="api", client="nobody"))
        row = _wait(service, check_id)
        assert row.state == "failed" and row.run_id is None
        assert "nobody" in (row.error or "")
    finally:
        service.checks.close(wait=True)


def test_checks_left_running_by_a_stopped_process_are_marked_interrupted(
    tmp_path: Path, sqlite_db: ServiceDb
):
    service = make_service(tmp_path, sqlite_db)
    with sqlite_db.write() as conn:
        conn.execute(
            service_checks.insert().values(
                origin="schedule",
                requested_at=sa.func.now(),
                state="running",
                holder="test",
                client="acme",
            )
        )
        conn.execute(
            service_checks.insert().values(
                origin="schedule",
                requested_at=sa.func.now(),
                state="running",
                holder="another-host:8080",
            )
        )
    assert service.checks.recover() == 1
    # the other process's check is its own to settle
    assert sorted(c.state for c in service.checks.recent()) == ["interrupted", "running"]
    service.checks.close()
