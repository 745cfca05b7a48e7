"""``/metrics``: each client's posture figures in Prometheus text, read back by
prometheus_client's own parser; label values escaped whatever a client is called."""

from __future__ import annotations

import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from baluarte.findings import Finding, Severity, Status
from baluarte.run import RunKind
from baluarte.service.app import create_app
from baluarte.service.checks import CheckRequest
from baluarte.service.config import load_config
from baluarte.service.context import Service
from baluarte.service.db import ServiceDb
from baluarte.service.metrics import Figures, render
from baluarte.service.snapshots import ClientSummary
from baluarte.store import Store
from tests.service._fixtures import write_config, write_inventory

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # Starlette's note about httpx's successor
    from starlette.testclient import TestClient

# as odd as an inventory name may be: dots, dashes, underscores, capitals, digits first
ODD = "0Acme.Int-01_b"
CLIENTS = {
    ODD: {"hq": [("srv-files", "linux"), ("srv-web", "linux")]},
    "beta": {"bilbao": [("srv-db", "linux")]},
}
SSH = "access.ssh_root_login"


def _f(client: str, site: str, device: str, status: Status) -> Finding:
    return Finding(
        client=client, site=site, device=device, platform="linux", control=SSH,
        status=status, severity=Severity.HIGH,
    )  # fmt: skip


def _run(store: Store, at: datetime, seconds: int, found: list[Finding], client: str) -> int:
    run_id = store.start_run(
        kind=RunKind.CHECK,
        operator="noc@host",
        tool_version="test",
        inventory_sha256="1" * 64,
        files=[],
        scope={"client": client},
        devices_total=len({f.device for f in found}),
        started_at=at,
    )
    store.add_findings(run_id, found)
    store.finish_run(run_id, ended_at=at + timedelta(seconds=seconds))
    return run_id


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            assert isinstance(s, Sample)
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _wait(service: Service, check_id: int) -> str:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        row = service.checks.get(check_id)
        assert row is not None
        if row.state not in ("queued", "running"):
            return row.state
        time.sleep(0.1)
    raise AssertionError(f"check {check_id} did not finish")


def test_metrics_give_each_clients_posture_and_the_services_checks(
    tmp_path: Path, service_db: ServiceDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    write_inventory(tmp_path, CLIENTS)
    config = load_config(
        write_config(tmp_path, service_db.url.render_as_string(hide_password=False))
    )
    service = Service(config, service_db, holder="test")
    store = service.db.store
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    _run(store, start - timedelta(days=1), 60, [
        _f(ODD, "hq", "srv-files", Status.PASS), _f(ODD, "hq", "srv-web", Status.PASS),
    ], ODD)  # fmt: skip
    # the newest run reads srv-web alone, and it drifted: the posture is 50 %, not 0 %
    _run(store, start, 185, [_f(ODD, "hq", "srv-web", Status.FAIL)], ODD)
    try:
        failed = service.checks.request(CheckRequest(origin="api", client="nobody"))
        assert _wait(service, failed) == "failed"
        with TestClient(create_app(service, secure_cookies=False)) as web:
            answer = web.get("/metrics")  # no token
    finally:
        service.checks.close(wait=True)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    got = _samples(answer.text)
    odd = (("client", ODD),)
    beta = (("client", "beta"),)
    assert got[("baluarte_compliance_percent", odd)] == 50.0
    assert got[("baluarte_devices_in_scope", odd)] == 2.0
    assert got[("baluarte_devices_verified", odd)] == 2.0
    assert got[("baluarte_devices_not_verified", odd)] == 0.0
    assert got[("baluarte_new_drift", odd)] == 1.0
    assert got[("baluarte_posture_findings", (("client", ODD), ("status", "fail")))] == 1.0
    assert got[("baluarte_posture_findings", (("client", ODD), ("status", "pass")))] == 1.0
    assert got[("baluarte_last_run_timestamp_seconds", odd)] == start.timestamp()
    assert got[("baluarte_last_run_duration_seconds", odd)] == 185.0
    # beta was never checked: no compliance figure at all (not 0, not 100), nothing verified
    assert ("baluarte_compliance_percent", beta) not in got
    assert got[("baluarte_devices_not_verified", beta)] == 1.0
    assert ("baluarte_last_run_timestamp_seconds", beta) not in got
    assert ("baluarte_last_run_duration_seconds", beta) not in got
    checks = {
        dict(labels)["state"]: value
        for (name, labels), value in got.items()
        if name == "baluarte_service_checks"
    }
    assert checks == {"queued": 0, "running": 0, "done": 0, "failed": 1, "interrupted": 0}


def _summary(client: str) -> ClientSummary:
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    return ClientSummary(
        client=client, legal_name="x", timezone="Europe/Madrid", compliance_percent=75.0,
        trend=(), devices_in_scope=4, devices_verified=3, devices_not_verified=1,
        counts={"pass": 3, "fail": 1}, new_drift=0, expiring_waivers=0, last_run_id=7,
        last_run_at=now, computed_at=now,
    )  # fmt: skip


def test_a_label_value_cannot_break_out_of_its_quotes() -> None:
    # not a name the inventory allows, but a store may hold runs of other inventories
    hostile = 'evil"} 1\nbaluarte_injected{client="x\\'
    text = render(Figures([_summary(hostile)], {7: 12.5}, {"running": 2})).decode()
    assert "\nbaluarte_injected" not in text
    assert 'client="evil\\"} 1\\nbaluarte_injected{client=\\"x\\\\"' in text
    got = _samples(text)
    assert got[("baluarte_compliance_percent", (("client", hostile),))] == 75.0
    assert got[("baluarte_last_run_duration_seconds", (("client", hostile),))] == 12.5
    assert got[("baluarte_service_checks", (("state", "running"),))] == 2.0
    assert {name for name, _ in got} <= {
        "baluarte_compliance_percent",
        "baluarte_devices_in_scope",
        "baluarte_devices_verified",
        "baluarte_devices_not_verified",
        "baluarte_new_drift",
        "baluarte_expiring_waivers",
        "baluarte_open_drift",
        "baluarte_overdue_drift",
        "baluarte_recurring_drift",
        "baluarte_posture_findings",
        "baluarte_last_run_timestamp_seconds",
        "baluarte_last_run_duration_seconds",
        "baluarte_posture_computed_timestamp_seconds",
        "baluarte_service_checks",
    }
