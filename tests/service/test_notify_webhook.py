"""Webhooks to a real HTTP server on 127.0.0.1: the signature a receiver can check, the Teams and
Slack shapes, and every non-2xx answer a failure."""

from __future__ import annotations

import json
import time

import pytest

from baluarte.masking import forget_secrets
from baluarte.service.config import WebhookSettings
from baluarte.service.notify.message import webhook_body
from baluarte.service.notify.outbox import error_text
from baluarte.service.notify.webhook import WebhookFailed, send_webhook, sign, verify
from tests.service._notify_sample import sample_changes
from tests.service._notify_servers import free_port, http_server

CANARY = "hook-canary-S3cret-90ab"


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("NOTIFY_HOOK_SECRET", CANARY)
    yield CANARY
    forget_secrets()


def hook(port: int, shape: str = "baluarte", path: str = "/hooks/T00/B00/tok3n") -> WebhookSettings:
    return WebhookSettings.model_validate(
        {
            "url": f"http://127.0.0.1:{port}{path}",
            "secret": "env:NOTIFY_HOOK_SECRET",
            "shape": shape,
        }
    )


def test_the_body_is_signed_with_the_timestamp(secret):
    body = webhook_body(sample_changes(), base_url="https://baluarte.example.es")
    with http_server() as server:
        before = int(time.time())
        send_webhook(hook(server.server_port), body)
    (req,) = server.requests
    assert req.path == "/hooks/T00/B00/tok3n"
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["User-Agent"].startswith("Baluarte/")
    ts, sig = req.headers["X-Baluarte-Timestamp"], req.headers["X-Baluarte-Signature"]
    assert before <= int(ts) <= int(time.time())
    # the documented scheme, computed here from scratch
    import hashlib
    import hmac

    expected = hmac.new(secret.encode(), f"{ts}.".encode() + req.body, hashlib.sha256).hexdigest()
    assert sig == f"sha256={expected}"
    assert verify(secret, ts, req.body, sig)
    assert not verify("another secret", ts, req.body, sig)
    assert not verify(secret, ts, req.body + b" ", sig)  # a changed body
    assert not verify(secret, str(int(ts) - 1), req.body, sig)  # a changed timestamp
    assert not verify(secret, ts, req.body, sig, now=int(ts) + 301)  # replayed later
    assert json.loads(req.body) == body
    assert CANARY.encode() not in req.body and CANARY not in json.dumps(req.headers)
    assert sign(secret, 1, b"{}") == sign(secret, "1", b"{}")


def test_hostile_device_text_is_inert_in_the_json(secret):
    body = webhook_body(sample_changes(), base_url=None)
    with http_server() as server:
        send_webhook(hook(server.server_port), body)
    raw = server.requests[0].body
    assert raw.isascii() and b"<script>" not in raw and b"\x1b" not in raw
    doc = json.loads(raw)
    device = doc["new_drift"][0]["device"]
    assert device == "<script>alert(1)</script>\\x1b[2J\\u202efw\nX"  # data, escapes visible
    assert "\x1b" not in device and "\u202e" not in device


@pytest.mark.parametrize("shape", ["teams", "slack"])
def test_teams_and_slack_shapes_are_posted(secret, shape):
    body = webhook_body(sample_changes(), shape, base_url="https://baluarte.example.es")
    with http_server() as server:
        send_webhook(hook(server.server_port, shape), body)
    doc = json.loads(server.requests[0].body)
    if shape == "teams":
        assert doc["attachments"][0]["content"]["type"] == "AdaptiveCard"
    else:
        assert doc["text"].startswith("[Baluarte] acme: 3 desviaciones nuevas")
        assert doc["blocks"][0] == {
            "type": "header", "text": {"type": "plain_text", "text": "Cliente acme", "emoji": False}
        }  # fmt: skip


@pytest.mark.parametrize("status", [400, 404, 500, 503, 302])
def test_an_answer_other_than_2xx_is_a_failure(secret, status):
    with http_server() as server:
        server.statuses = [status]
        with pytest.raises(WebhookFailed, match=f"answered {status}") as exc:
            send_webhook(hook(server.server_port), {"x": 1})
    assert len(server.requests) == 1  # a redirect is not followed
    # where it went, by host and port: the path's token is not repeated
    assert "tok3n" not in str(exc.value) and f"127.0.0.1:{server.server_port}" in str(exc.value)


def test_a_receiver_that_is_down_or_too_slow_is_a_failure(secret):
    port = free_port()
    with pytest.raises(WebhookFailed, match="ConnectError") as exc:
        send_webhook(hook(port), {"x": 1})
    assert "tok3n" not in str(exc.value)
    with http_server() as server:
        server.delay = 2.0
        started = time.monotonic()
        with pytest.raises(WebhookFailed, match="ReadTimeout"):
            send_webhook(hook(server.server_port), {"x": 1}, timeout=0.5)
        assert time.monotonic() - started < 1.9


def test_a_secret_that_cannot_be_read_fails_naming_the_reference_only(monkeypatch):
    monkeypatch.delenv("NOTIFY_HOOK_SECRET", raising=False)
    with http_server() as server, pytest.raises(Exception) as exc:
        send_webhook(hook(server.server_port), {"x": 1})
    assert server.requests == []  # nothing unsigned is ever sent
    assert "env:NOTIFY_HOOK_SECRET" in error_text(exc.value)
