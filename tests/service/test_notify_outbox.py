"""The outbox on SQLite and PostgreSQL: one row per client, run and channel, kept until sent,
retried with backoff, given up with its error kept — masked — and never raising."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from baluarte.masking import forget_secrets
from baluarte.secrets import SecretRef, resolve
from baluarte.service.config import NotificationSettings
from baluarte.service.db import ServiceDb
from baluarte.service.notify import notify_run
from baluarte.service.notify.outbox import (
    BACKOFF,
    CLAIM,
    deliver_due,
    enqueue,
    last_notified,
    recent,
)
from baluarte.service.tables import notifications
from tests.service._notify_sample import NOW, sample_changes

CANARY = "canary-Secret-7f3a9c1e"


@pytest.fixture
def canary(monkeypatch):
    monkeypatch.setenv("NOTIFY_TEST_SECRET", CANARY)
    yield resolve(SecretRef.parse("env:NOTIFY_TEST_SECRET"))
    forget_secrets()


def _rows(db: ServiceDb) -> list[dict[str, Any]]:
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(notifications).order_by("id"))]


class Recorder:
    """A sender that fails while ``fail`` is set (with ``why``), recording what it was given."""

    def __init__(self, fail: bool = False, why: str = "connection refused") -> None:
        self.fail, self.why = fail, why
        self.got: list[dict[str, Any]] = []

    def __call__(self, payload: dict[str, Any]) -> None:
        if self.fail:
            raise ConnectionRefusedError(self.why)
        self.got.append(payload)


def test_one_row_per_client_run_and_channel_and_a_second_enqueue_is_a_no_op(service_db):
    changes = sample_changes()
    payloads = {"email": {"subject": "s"}, "webhook:0": {"client": "acme"}}
    assert enqueue(service_db, changes, payloads, now=NOW) == 2
    assert enqueue(service_db, changes, payloads, now=NOW + timedelta(minutes=1)) == 0
    rows = _rows(service_db)
    assert [(r["client"], r["run_id"], r["channel"], r["attempts"]) for r in rows] == [
        ("acme", 2, "email", 0),
        ("acme", 2, "webhook:0", 0),
    ]
    assert rows[0]["next_attempt_at"] == NOW and rows[0]["sent_at"] is None
    # another run of the same client is another message
    assert enqueue(service_db, replace(changes, run_id=3), payloads, now=NOW) == 2
    # nothing to tell: nothing kept
    empty = replace(changes, new_drift=(), unreachable=(), expiring_waivers=())
    assert enqueue(service_db, empty, payloads, now=NOW) == 0
    assert len(_rows(service_db)) == 4
    assert last_notified(service_db, "acme") == NOW
    assert last_notified(service_db, "nobody") is None


def test_a_failure_is_retried_with_backoff_then_delivered(service_db, caplog):
    enqueue(service_db, sample_changes(), {"webhook:0": {"n": 1}}, now=NOW)
    sender = Recorder(fail=True)
    caplog.set_level(logging.INFO, logger="baluarte.service.notify")
    assert deliver_due(service_db, {"webhook:0": sender}, NOW) == 0
    (row,) = _rows(service_db)
    assert row["attempts"] == 1 and row["sent_at"] is None
    assert row["last_error"] == "ConnectionRefusedError: connection refused"
    assert row["next_attempt_at"] == NOW + BACKOFF[0]
    assert "failed (attempt 1), retried later" in caplog.text
    # not due yet: nothing sent, nothing counted
    sender.fail = False
    assert deliver_due(service_db, {"webhook:0": sender}, NOW + BACKOFF[0] / 2) == 0
    assert _rows(service_db)[0]["attempts"] == 1 and sender.got == []
    # due: sent once, and never again
    later = NOW + BACKOFF[0]
    assert deliver_due(service_db, {"webhook:0": sender}, later) == 1
    (row,) = _rows(service_db)
    assert (row["attempts"], row["sent_at"], row["next_attempt_at"], row["last_error"]) == (
        2, later, None, None,
    )  # fmt: skip
    assert sender.got == [{"n": 1}]
    assert deliver_due(service_db, {"webhook:0": sender}, later + timedelta(days=9)) == 0
    assert sender.got == [{"n": 1}]
    assert [n.state for n in recent(service_db)] == ["sent"]


def test_given_up_after_the_last_attempt_with_the_error_kept(service_db, caplog):
    enqueue(service_db, sample_changes(), {"email": {}}, now=NOW)
    sender = Recorder(fail=True, why="554 rejected")
    at = NOW
    waits = []
    for _ in range(4):
        assert deliver_due(service_db, {"email": sender}, at, max_attempts=4) == 0
        (row,) = _rows(service_db)
        if row["next_attempt_at"] is None:
            break
        waits.append(row["next_attempt_at"] - at)
        at = row["next_attempt_at"]
    assert waits == list(BACKOFF[:3])  # 1, 5, 15 minutes
    assert (row["attempts"], row["next_attempt_at"], row["sent_at"]) == (4, None, None)
    assert row["last_error"] == "ConnectionRefusedError: 554 rejected"
    assert "given up after 4 attempts" in caplog.text
    assert recent(service_db)[0].state == "given_up"
    assert deliver_due(service_db, {"email": sender}, at + timedelta(days=30)) == 0


def test_a_channel_no_longer_configured_is_a_failure_not_a_crash(service_db):
    enqueue(service_db, sample_changes(), {"webhook:5": {}}, now=NOW)
    assert deliver_due(service_db, {}, NOW) == 0
    assert _rows(service_db)[0]["last_error"] == (
        "LookupError: no webhook:5 channel is configured now"
    )


def test_a_row_being_sent_is_not_sent_again_by_another_delivery(service_db):
    # while the first delivery is sending, a second one (another process, or the next tick)
    # finds the row claimed
    enqueue(service_db, sample_changes(), {"email": {}}, now=NOW)
    inner: list[int] = []
    sent: list[dict[str, Any]] = []

    def slow_sender(payload: dict[str, Any]) -> None:
        inner.append(deliver_due(service_db, {"email": sent.append}, NOW))
        inner.append(deliver_due(service_db, {"email": sent.append}, NOW + CLAIM / 2))

    assert deliver_due(service_db, {"email": slow_sender}, NOW) == 1
    assert inner == [0, 0] and sent == []
    (row,) = _rows(service_db)
    assert row["attempts"] == 1 and row["sent_at"] == NOW


def test_a_delivery_cut_short_is_due_again_after_the_claim(service_db):
    enqueue(service_db, sample_changes(), {"email": {}}, now=NOW)

    def dies(payload: dict[str, Any]) -> None:
        raise KeyboardInterrupt  # the process stops while sending

    with pytest.raises(KeyboardInterrupt):
        deliver_due(service_db, {"email": dies}, NOW)
    sent: list[dict[str, Any]] = []
    assert deliver_due(service_db, {"email": sent.append}, NOW + CLAIM / 2) == 0
    assert deliver_due(service_db, {"email": sent.append}, NOW + CLAIM) == 1
    assert sent == [{}]


def test_secrets_never_reach_the_row_nor_the_log(service_db, canary, caplog):
    enqueue(service_db, sample_changes(), {"webhook:0": {}}, now=NOW)
    leaky = Recorder(fail=True, why=f"401 for https://u:{canary}@hooks.example/x?key={canary}")
    assert deliver_due(service_db, {"webhook:0": leaky}, NOW) == 0
    (row,) = _rows(service_db)
    assert CANARY not in repr(row) and "***" in row["last_error"]
    assert CANARY not in caplog.text and "***" in caplog.text


def test_nothing_raises_when_the_store_fails(service_db, caplog):
    with service_db.write() as conn:
        conn.execute(sa.text("DROP TABLE service_notifications"))
    settings = NotificationSettings.model_validate(
        {"webhooks": [{"url": "http://127.0.0.1:9/", "secret": "env:X"}]}
    )
    assert notify_run(service_db, settings, [sample_changes()], now=NOW) == 0
    assert deliver_due(service_db, {}, NOW) == 0
    assert "notification about client acme (run 2) not kept" in caplog.text
    assert "cannot read the notifications due" in caplog.text


def test_two_deliverers_at_once_send_each_message_once(service_db):
    # two service processes' loops on one store, started together over the same due rows
    import threading

    other = ServiceDb.open(service_db.url.render_as_string(hide_password=False))
    try:
        for run_id in range(1, 31):
            enqueue(service_db, replace(sample_changes(), run_id=run_id), {"email": {"r": run_id}},
                    now=NOW)  # fmt: skip
        sent: list[int] = []
        lock = threading.Lock()
        start = threading.Barrier(2)

        def sender(payload: dict[str, Any]) -> None:
            with lock:
                sent.append(payload["r"])
            time.sleep(0.01)

        def loop(db: ServiceDb) -> None:
            start.wait()
            deliver_due(db, {"email": sender}, NOW)

        threads = [threading.Thread(target=loop, args=(db,)) for db in (service_db, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(sent) == list(range(1, 31))
        assert {(r.state, r.attempts) for r in recent(service_db)} == {("sent", 1)}
    finally:
        other.close()
