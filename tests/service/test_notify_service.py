"""The notifications as the service drives them: a run stored, its changes worked out from the
store, one message per client kept in the outbox, delivered to a real SMTP server and real
webhook receivers — first down, then up — with no secret anywhere it should not be."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from baluarte.masking import forget_secrets
from baluarte.run import RunKind, RunRecord
from baluarte.service.config import ServeConfig
from baluarte.service.db import ServiceDb
from baluarte.service.notify import Notifier, run_changes
from baluarte.service.notify.outbox import BACKOFF, recent
from baluarte.service.notify.webhook import verify
from baluarte.service.tables import notifications
from tests.service._notify_sample import (
    HOSTILE,
    NOW,
    SCOPE,
    F,
    P,
    finding,
    first_run,
    second_run,
    waivers,
)
from tests.service._notify_servers import (
    SMTP_USER,
    free_port,
    http_server,
    lab_ca,
    part,
    smtp_server,
)

SMTP_CANARY = "svc-smtp-canary-Pw-11aa"
HOOK_CANARY = "svc-hook-canary-S3-22bb"


@pytest.fixture
def secrets(monkeypatch, tmp_path):
    monkeypatch.setenv("SVC_SMTP_PASSWORD", SMTP_CANARY)
    hook_file = tmp_path / "hook.secret"
    hook_file.write_text(HOOK_CANARY + "\n")
    hook_file.chmod(0o600)
    yield hook_file
    forget_secrets()


def _store(db: ServiceDb, record: RunRecord) -> int:
    store = db.store
    run_id = store.start_run(
        kind=RunKind.CHECK, operator="svc@test", tool_version="0.1.0",
        inventory_sha256="1" * 64, files=[], scope={}, devices_total=4,
        started_at=record.info.started_at,
    )  # fmt: skip
    store.add_findings(run_id, record.findings)
    store.finish_run(run_id, record.info.started_at + timedelta(minutes=5))
    return run_id


def _config(tmp_path: Path, smtp_port: int, hook_port: int, slack_port: int, hook_file: Path):
    config = ServeConfig.model_validate(
        {
            "db": "baluarte.db",
            "inventory": ["inventory"],
            "base_url": "https://baluarte.example.es",
            "notifications": {
                "email": {
                    "smtp": f"smtp://127.0.0.1:{smtp_port}",
                    "from": "baluarte@provider.example",
                    "to": ["ops@provider.example"],
                    "username": SMTP_USER,
                    "password": "env:SVC_SMTP_PASSWORD",
                    "ca_file": "ca/ca.pem",  # relative: from the configuration file's folder
                },
                "webhooks": [
                    {"url": f"http://127.0.0.1:{hook_port}/in", "secret": f"file:{hook_file}"},
                    {"url": f"http://127.0.0.1:{slack_port}/services/T/B/tok",
                     "secret": f"file:{hook_file}", "shape": "slack"},
                ],
            },
        }
    )  # fmt: skip
    return config.model_copy(update={"source": tmp_path / "serve.yaml"})


def test_a_run_is_told_once_per_client_and_delivered_once_the_receivers_are_up(
    service_db, tmp_path, secrets, caplog
):
    caplog.set_level(logging.INFO, logger="baluarte.service.notify")
    # two clients in the store: acme (the sample) and beta, whose firewall drifts
    beta_before = finding("gw", "firewall.enabled", P, client="beta", site="main")
    beta_after = finding("gw", "firewall.enabled", F, client="beta", site="main")
    first = first_run().model_copy(update={"findings": (*first_run().findings, beta_before)})
    second = second_run().model_copy(update={"findings": (*second_run().findings, beta_after)})
    _store(service_db, first)
    run_id = _store(service_db, second)
    scope = dict(SCOPE) | {("beta", "main", "gw"): "linux"}
    changes = run_changes(
        service_db, service_db.store.get_run(run_id), waivers(NOW.date()), now=NOW,
        in_scope=scope,
    )  # fmt: skip
    assert [c.client for c in changes] == ["acme", "beta"]
    assert [d.device for d in changes[1].new_drift] == ["gw"]
    assert next((d.device, d.control) for d in changes[0].new_drift) == (
        HOSTILE, "firewall.no_any_any_accept"
    )  # fmt: skip

    lab_ca(tmp_path)  # the CA the configuration names (tmp_path/ca/ca.pem)
    smtp_port, hook_port, slack_port = free_port(), free_port(), free_port()
    config = _config(tmp_path, smtp_port, hook_port, slack_port, secrets)
    notifier = Notifier.from_config(service_db, config)
    assert notifier.settings.email is not None
    assert notifier.settings.email.ca_file == tmp_path / "ca" / "ca.pem"
    assert notifier.notify(changes, now=NOW) == 6  # 2 clients × 3 channels
    assert notifier.notify(changes, now=NOW) == 0  # the same run again: nothing more

    # nobody listening: every attempt fails, is counted and logged, and nothing raises
    assert notifier.deliver_due(NOW) == 0
    rows = recent(service_db)
    assert len(rows) == 6 and {r.attempts for r in rows} == {1}
    assert {r.next_attempt_at for r in rows} == {NOW + BACKOFF[0]}
    assert all(r.last_error for r in rows)
    assert "retried later" in caplog.text

    later = NOW + BACKOFF[0]
    with (
        smtp_server(tmp_path, password=SMTP_CANARY, port=smtp_port) as smtp,
        http_server(hook_port) as hook,
        http_server(slack_port) as slack,
    ):
        assert notifier.deliver_due(later) == 6
        assert notifier.deliver_due(later + timedelta(hours=1)) == 0
    assert {(r.state, r.attempts, r.last_error) for r in recent(service_db)} == {("sent", 2, None)}

    # one mail per client, each about its own client only
    mails = {m.message["X-Baluarte-Client"]: m for m in smtp.mailbox.messages}
    assert sorted(mails) == ["acme", "beta"] and len(smtp.mailbox.messages) == 2
    acme_text = part(mails["acme"].message, "plain")
    beta_text = part(mails["beta"].message, "plain")
    assert "Cliente acme" in acme_text and "gw" not in acme_text.split("Excepciones")[0]
    assert "Cliente beta" in beta_text and "srv" not in beta_text
    assert "&lt;script&gt;" in part(mails["acme"].message, "html")
    assert all(m.tls and m.login == SMTP_USER for m in smtp.mailbox.messages)

    # webhooks: ours signed and verifiable, Slack's shape on the other
    assert len(hook.requests) == 2 and len(slack.requests) == 2
    for req in hook.requests:
        ts, sig = req.headers["X-Baluarte-Timestamp"], req.headers["X-Baluarte-Signature"]
        assert verify(HOOK_CANARY, ts, req.body, sig)
    docs = sorted((json.loads(r.body) for r in hook.requests), key=lambda d: d["client"])
    assert [d["client"] for d in docs] == ["acme", "beta"]
    assert docs[0]["url"] == "https://baluarte.example.es/clients/acme"
    assert docs[0]["run_id"] == run_id
    assert all("blocks" in json.loads(r.body) for r in slack.requests)

    # no secret in the rows, the log, the mails or the requests
    with service_db.read() as conn:
        stored = json.dumps([list(r) for r in conn.execute(sa.select(notifications))], default=str)
    seen = [stored, caplog.text, *(m.raw.decode() for m in smtp.mailbox.messages)]
    seen += [r.body.decode() + json.dumps(r.headers) for r in (*hook.requests, *slack.requests)]
    for text in seen:
        assert SMTP_CANARY not in text and HOOK_CANARY not in text
    # nor the token in the Slack URL's path, in the errors kept or logged
    assert "/services/T/B/tok" not in caplog.text


def test_the_next_run_does_not_repeat_the_waivers_already_told(service_db, secrets, tmp_path):
    _store(service_db, first_run())
    second = service_db.store.get_run(_store(service_db, second_run()))
    ws = waivers(NOW.date())
    config = _config(tmp_path, free_port(), free_port(), free_port(), secrets)
    notifier = Notifier.from_config(service_db, config)
    (told,) = run_changes(service_db, second, ws, now=NOW, in_scope=SCOPE)
    assert len(told.expiring_waivers) == 3
    notifier.notify([told], now=NOW)
    # the next night: the same findings again, one day later — no new drift, pc still
    # unreachable (told already), and of the waivers only the one that entered the window
    info = second.info.model_copy(update={"started_at": NOW + timedelta(days=1)})
    third_id = _store(service_db, second_run().model_copy(update={"info": info}))
    tomorrow = NOW + timedelta(days=1, minutes=20)
    (again,) = run_changes(
        service_db, service_db.store.get_run(third_id), ws, now=tomorrow, in_scope=SCOPE
    )
    assert (again.new_drift, again.unreachable) == ((), ())
    assert [(w.control, w.days_left) for w in again.expiring_waivers] == [
        ("patching.reboot_required", 14)
    ]
