"""The dashboard's read model: figures from posture, kept per client, rebuilt when stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from baluarte.findings import Status
from baluarte.service import snapshots
from baluarte.service.db import ServiceDb
from tests.service._fixtures import finding, make_service, store_run

P, F, E = Status.PASS, Status.FAIL, Status.ERROR


def test_overview_figures_come_from_posture_not_the_last_run(tmp_path: Path, service_db: ServiceDb):
    service = make_service(tmp_path, service_db)
    store = service.db.store
    now = datetime.now(UTC)
    # a full check of acme: both devices, both pass
    store_run(
        store,
        now - timedelta(days=2),
        [
            finding("acme", "madrid", "srv-files", "access.ssh_root_login", P),
            finding("acme", "madrid", "srv-web", "access.ssh_root_login", P),
        ],
        client="acme",
    )
    # then a one-device run: srv-web drifts; srv-files stays as last observed
    store_run(
        store,
        now - timedelta(days=1),
        [finding("acme", "madrid", "srv-web", "access.ssh_root_login", F, observed="yes")],
        client="acme",
    )
    rows = {s.client: s for s in snapshots.client_summaries(service)}
    acme = rows["acme"]
    assert acme.compliance_percent == 50.0  # the last run alone would say 0 %
    assert acme.devices_in_scope == 2 and acme.devices_not_verified == 0
    assert acme.new_drift == 1
    assert acme.trend[-1] == 50.0 and acme.trend[-2] == 50.0 and acme.trend[-3] == 100.0
    # beta was never checked: nothing judged, its device not verified — never a pass
    beta = rows["beta"]
    assert beta.compliance_percent is None
    assert beta.devices_not_verified == 1 and beta.last_run_id is None

    detail = snapshots.client_detail(service, "acme")
    assert detail is not None
    [failing] = detail.failing
    assert (failing.device, failing.control, failing.status) == (
        "srv-web",
        "access.ssh_root_login",
        "fail",
    )
    assert failing.failing_since is not None and failing.observed == "yes"
    web = next(d for d in detail.devices if d.device == "srv-web")
    assert web.cells["access"].worst == "fail"


def test_an_unreadable_last_attempt_is_not_verified_and_a_new_run_makes_the_row_stale(
    tmp_path: Path, service_db: ServiceDb
):
    service = make_service(tmp_path, service_db)
    store = service.db.store
    now = datetime.now(UTC)
    store_run(
        store,
        now - timedelta(hours=5),
        [finding("beta", "bilbao", "srv-db", "access.ssh_root_login", P)],
        client="beta",
    )
    [_, beta] = snapshots.client_summaries(service)
    assert beta.compliance_percent == 100.0 and not beta.stale
    # a run the CLI stored meanwhile: the device could not be read
    store_run(
        store,
        now - timedelta(hours=1),
        [finding("beta", "bilbao", "srv-db", "access.ssh_root_login", E)],
        client="beta",
    )
    [acme, beta] = snapshots.client_summaries(service)
    assert beta.stale and not acme.stale
    [_, beta] = snapshots.client_summaries(service, rebuild=True)
    assert not beta.stale
    assert beta.devices_not_verified == 1
    assert beta.compliance_percent == 0.0  # an error counts against, never for


def test_observations_older_than_the_window_are_not_current_posture(
    tmp_path: Path, sqlite_db: ServiceDb
):
    service = make_service(tmp_path, sqlite_db)
    store_run(
        service.db.store,
        datetime.now(UTC) - timedelta(days=snapshots.POSTURE_DAYS + 1),
        [finding("beta", "bilbao", "srv-db", "access.ssh_root_login", P)],
        client="beta",
    )
    beta = snapshots.client_summaries(service)[1]
    assert beta.compliance_percent is None and beta.devices_not_verified == 1


def test_a_control_failing_in_the_only_run_fails_since_that_run(tmp_path: Path, sqlite_db):
    service = make_service(tmp_path, sqlite_db)
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    store_run(
        service.db.store,
        at,
        [finding("beta", "bilbao", "srv-db", "access.ssh_root_login", F, observed="yes")],
        client="beta",
    )
    detail = snapshots.client_detail(service, "beta")
    assert detail is not None
    [failing] = detail.failing
    assert failing.failing_since == at
