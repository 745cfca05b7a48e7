"""New drift dated by its response target in notifications, and the ``ticket`` webhook: one JSON
per client and run shaped for a service desk, sent only about new drift."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from baluarte.findings import Status
from baluarte.masking import forget_secrets
from baluarte.posture import posture_at
from baluarte.service.config import (
    NotificationSettings,
    ResponseTarget,
    SlaSettings,
    WebhookSettings,
    load_config,
)
from baluarte.service.notify import payloads
from baluarte.service.notify.changes import client_changes
from baluarte.service.notify.message import document, webhook_body
from baluarte.service.notify.webhook import verify
from baluarte.service.runtime import build_service, notifying
from baluarte.service.sla import ResponseTargets
from baluarte.timezones import zone
from tests.service._fixtures import finding, store_run, write_config
from tests.service._notify_sample import (
    NOW,
    SCOPE,
    first_run,
    sample_changes,
    second_run,
    waivers,
)
from tests.service._notify_servers import http_server

CANARY = "ticket-hook-canary-77cd"
MADRID = zone("Europe/Madrid")
TARGETS = ResponseTargets.from_settings(
    SlaSettings(
        targets=[
            ResponseTarget(platform="fortigate", hours=2, priority="critical"),
            ResponseTarget(hours=8, priority="normal"),
        ]
    ),
    "Europe/Madrid",
)


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("TICKET_HOOK_SECRET", CANARY)
    yield CANARY
    forget_secrets()


def changes_with_targets():
    runs = [first_run(), second_run()]
    before, after = posture_at(runs[:1], None, SCOPE), posture_at(runs, None, SCOPE)
    return client_changes(
        "acme", before, after, waivers(NOW.date()), now=NOW, run_id=2, targets=TARGETS
    )


def test_new_drift_is_dated_by_its_devices_target():
    changes = changes_with_targets()
    # the run started on Friday 27 November 2026 at 02:00 in Madrid; the office opens at 09:00
    dated = {(d.device, d.control): (d.priority, d.due_at) for d in changes.new_drift}
    fortigate = next(k for k in dated if k[0] != "srv")
    assert dated[fortigate] == ("critical", datetime(2026, 11, 27, 11, 0, tzinfo=MADRID))
    assert dated[("srv", "access.ssh_root_login")] == (
        "normal",
        datetime(2026, 11, 27, 17, 0, tzinfo=MADRID),
    )
    doc = document(changes)
    assert {(d["priority"], d["due_at"]) for d in doc["new_drift"]} == {
        ("critical", "2026-11-27T10:00:00+00:00"),
        ("normal", "2026-11-27T16:00:00+00:00"),
    }


def test_the_ticket_has_the_most_urgent_priority_and_the_earliest_due_time():
    changes = changes_with_targets()
    ticket = webhook_body(changes, "ticket", base_url="https://baluarte.example.es")
    assert {"title", "priority", "due_at", "client", "description", "items"} <= set(ticket)
    assert (ticket["client"], ticket["run_id"]) == ("acme", 2)
    assert (ticket["priority"], ticket["due_at"]) == ("critical", "2026-11-27T10:00:00+00:00")
    assert ticket["title"].startswith("[Baluarte] acme: 3 desviaciones nuevas")
    assert ticket["items"] == document(changes, base_url="https://baluarte.example.es")["new_drift"]
    text = ticket["description"]
    assert "Primer vencimiento: 27/11/2026 11:00 (+01:00)" in text
    assert "prioridad crítica · vence el 27/11/2026 11:00 (+01:00)" in text
    assert "prioridad normal · vence el 27/11/2026 17:00 (+01:00)" in text
    assert "Dispositivos que han dejado de ser accesibles" in text  # told in the same ticket
    assert text.endswith("https://baluarte.example.es/clients/acme")
    # the hostile device's name: inert, on its line
    assert "\x1b" not in text and "\u202e" not in text and "\\x1b[2J" in text
    assert all(line.count("•") <= 1 for line in text.splitlines())
    english = webhook_body(changes, "ticket", lang="en")
    assert "Earliest due time: 27/11/2026 11:00" in english["description"]
    assert "critical priority · due 27/11/2026 11:00" in english["description"]


def test_a_ticket_webhook_is_sent_only_about_new_drift():
    settings = NotificationSettings(
        webhooks=[
            WebhookSettings(url="https://desk.example/a", secret="env:X"),
            WebhookSettings(url="https://desk.example/b", secret="env:X", shape="ticket"),
        ]
    )
    changes = sample_changes()
    assert set(payloads(settings, changes)) == {"webhook:0", "webhook:1"}
    assert payloads(settings, changes)["webhook:1"]["priority"] == "normal"
    # a device unreachable, waivers expiring: told, but no ticket to open
    quiet = replace(changes, new_drift=())
    assert not quiet.empty
    assert set(payloads(settings, quiet)) == {"webhook:0"}


def _inventory(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "inventory.yaml").write_text(
        "clients:\n  - name: acme\n    legal_name: Acme S.L.\n    sites:\n"
        "      - name: madrid\n        devices:\n"
        "          - {name: srv-files, platform: linux, address: 127.0.0.1, tags: [server],"
        " ssh: {user: root, port: 1}}\n"
        "          - {name: pc-ana, platform: linux, address: 127.0.0.1, tags: [desktop],"
        " ssh: {user: root, port: 1}}\n"
    )


def test_the_service_opens_a_ticket_after_a_run_that_drifts(tmp_path: Path, secret: str):
    _inventory(tmp_path)
    with http_server() as desk:
        extra = (
            "sla:\n"
            "  calendar: {country: ES, subdivision: MD, hours: '08:00-18:00'}\n"
            "  targets:\n"
            "    - {tags: [server], hours: 4, priority: high}\n"
            "notifications:\n"
            "  webhooks:\n"
            f"    - url: http://127.0.0.1:{desk.server_port}/desk/tickets\n"
            "      secret: env:TICKET_HOOK_SECRET\n"
            "      shape: ticket\n"
        )
        config = load_config(write_config(tmp_path, str(tmp_path / "b.db"), extra))
        service, notifier = build_service(config, holder="test")
        try:
            store = service.db.store
            now = datetime.now(UTC)
            ssh = "access.ssh_root_login"
            store_run(
                store,
                now - timedelta(days=1),
                [
                    finding("acme", "madrid", "srv-files", ssh, Status.PASS),
                    finding("acme", "madrid", "pc-ana", ssh, Status.PASS),
                ],
                client="acme",
            )
            store_run(
                store,
                now - timedelta(minutes=1),
                [
                    finding("acme", "madrid", "srv-files", ssh, Status.FAIL),
                    finding("acme", "madrid", "pc-ana", ssh, Status.FAIL),
                ],
                client="acme",
            )
            run = service.db.store.client_findings("acme", start=now - timedelta(days=2))[-1]
            notifying(notifier)(service, run)
        finally:
            service.close()
    [request] = desk.requests
    assert request.path == "/desk/tickets"
    ts, sig = request.headers["X-Baluarte-Timestamp"], request.headers["X-Baluarte-Signature"]
    assert verify(secret, ts, request.body, sig)
    ticket = json.loads(request.body)
    by_device = {i["device"]: i for i in ticket["items"]}
    # the server by its tag: 4 hours, high; the desktop: the 8-hour default
    assert (by_device["srv-files"]["priority"], by_device["pc-ana"]["priority"]) == (
        "high",
        "normal",
    )
    assert ticket["priority"] == "high"
    calendar = ResponseTargets.from_settings(config.sla, config.timezone)
    observed = datetime.fromisoformat(by_device["srv-files"]["observed_at"])
    due = calendar.due_at(observed, calendar.target_for("linux", ["server"]))
    assert ticket["due_at"] == due.astimezone(UTC).isoformat()
    assert ticket["due_at"] == by_device["srv-files"]["due_at"] < by_device["pc-ana"]["due_at"]
    assert CANARY not in request.body.decode()
