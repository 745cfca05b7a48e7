"""The service's pieces together: a due time fires a check through the engine, the run is
stored, the client's posture is rebuilt and one signed message per client goes out."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from baluarte.findings import Status
from baluarte.service import snapshots
from baluarte.service.config import load_config
from baluarte.service.notify.webhook import verify
from baluarte.service.runtime import build_service, scheduled_check
from baluarte.service.scheduler import ComplianceScheduler
from tests.service._fixtures import finding, store_run, write_config
from tests.service._notify_servers import http_server

SECRET = "webhook-canary-7f3a9c"


def test_a_due_time_checks_stores_rebuilds_posture_and_tells_once_per_client(tmp_path: Path):
    secret = tmp_path / "hook.secret"
    secret.write_text(SECRET + "\n")
    secret.chmod(0o600)
    with http_server() as hook:
        config = load_config(
            write_config(
                tmp_path,
                str(tmp_path / "runs.db"),
                "schedules:\n"
                "  - {name: nightly, cron: '0 2 * * *', client: acme}\n"
                "notifications:\n"
                "  webhooks:\n"
                f"    - {{url: 'http://127.0.0.1:{hook.server_address[1]}/hook',"
                f" secret: 'file:{secret}'}}\n",
            )
        )
        service, notifier = build_service(config, holder="test:1")
        try:
            # last night acme's servers answered and passed
            yesterday = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
            store_run(
                service.db.store,
                yesterday,
                [
                    finding("acme", "madrid", d, "access.ssh_root_login", Status.PASS)
                    for d in ("srv-files", "srv-web")
                ],
                client="acme",
            )
            now = [datetime(2026, 12, 7, 0, 59, 50, tzinfo=UTC)]  # 01:59:50 in Madrid
            scheduler = ComplianceScheduler(
                service.db,
                config.schedules,
                config.timezone,
                scheduled_check(service),
                holder="test:1",
                clock=lambda: now[0],
            )
            scheduler.tick()
            assert service.checks.recent() == []  # not due yet
            now[0] += timedelta(seconds=15)
            scheduler.tick()
            scheduler.tick()  # the same due time again: never a second check
            [check] = service.checks.recent()
            assert (check.origin, check.client) == ("schedule", "acme")
            deadline = time.monotonic() + 60
            while service.checks.get(check.id).state in ("queued", "running"):
                assert time.monotonic() < deadline
                time.sleep(0.1)
            done = service.checks.get(check.id)
            assert done.state == "done" and done.run_id is not None
            run = service.db.store.get_run(done.run_id)
            assert run.findings and all(f.status is Status.ERROR for f in run.findings)
            # posture rebuilt: both servers now unreadable, none counted as a pass
            acme = snapshots.client_summaries(service)[0]
            assert acme.last_run_id == done.run_id and not acme.stale
            assert acme.devices_not_verified == 2 and acme.compliance_percent == 0.0
            # one message for acme, signed; it names both servers
            deadline = time.monotonic() + 10
            while not hook.requests:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            notifier.deliver_due()  # nothing more is due: still one message
            [sent] = hook.requests
            body = json.loads(sent.body)
            assert body["client"] == "acme" and body["run_id"] == done.run_id
            assert sorted(d["device"] for d in body["unreachable"]) == ["srv-files", "srv-web"]
            signature = sent.headers["X-Baluarte-Signature"]
            assert verify(SECRET, sent.headers["X-Baluarte-Timestamp"], sent.body, signature)
            assert SECRET.encode() not in sent.body
        finally:
            service.close()
    # the webhook's secret was never written to the store
    assert SECRET.encode() not in (tmp_path / "runs.db").read_bytes()
