"""Webhooks: the notification POSTed as JSON, signed so the receiver knows it came from us.

How a receiver verifies a request::

    timestamp = request.headers["X-Baluarte-Timestamp"]   # unix seconds, as decimal digits
    signature = request.headers["X-Baluarte-Signature"]   # "sha256=" + 64 hex digits
    signed = timestamp.encode() + b"." + raw_body           # the body's bytes, exactly as received
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, signature) and abs(time.time() - int(timestamp)) <= 300

The secret is the one ``secret:`` references (``env:``, ``file:`` or ``keyring:``), read when a
request is sent. Signing the timestamp with the body lets a receiver refuse a request replayed
later (``verify`` below does exactly this). The body is UTF-8 JSON in ASCII, with ``<``, ``>``
and ``&`` written as ``\\u003c``, ``\\u003e``, ``\\u0026``: the same data to any JSON parser, and
inert should a receiver paste it into a page. A redirect is not followed and any answer but 2xx
is a failure, which the outbox retries. Errors name the receiver by scheme, host and port only:
webhook URLs often carry a token in their path (Slack's, Teams').
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from baluarte import __version__
from baluarte.secrets import resolve
from baluarte.service.config import WebhookSettings

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WEBHOOK_TIMEOUT",
    "WebhookFailed",
    "encode_body",
    "send_webhook",
    "sign",
    "verify",
]

TIMESTAMP_HEADER = "X-Baluarte-Timestamp"
SIGNATURE_HEADER = "X-Baluarte-Signature"
WEBHOOK_TIMEOUT = 10.0  # seconds to connect, and between bytes of the answer
TOLERANCE_SECONDS = 300


class WebhookFailed(Exception):
    """The receiver did not take the notification (a non-2xx answer)."""


def encode_body(payload: Mapping[str, Any]) -> bytes:
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    # only inside strings can these occur in JSON text: escaping them changes no value
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.encode("ascii")


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "{timestamp}.{body}" keyed with secret>``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """A receiver's check: the signature matches and the timestamp is recent."""
    if not timestamp.isdigit():
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _where(url: str) -> str:
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def send_webhook(
    settings: WebhookSettings,
    payload: Mapping[str, Any],
    *,
    timeout: float = WEBHOOK_TIMEOUT,
    verify_tls: ssl.SSLContext | bool = True,
) -> None:
    """POST ``payload`` to ``settings.url``, signed; raises on a failure or a non-2xx answer.

    ``verify_tls``: True (the system's CAs), or a context trusting a private CA."""
    body = encode_body(payload)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"Baluarte/{__version__}",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(resolve(settings.secret), timestamp, body),
    }
    try:
        answer = httpx.post(
            settings.url,
            content=body,
            headers=headers,
            timeout=timeout,
            follow_redirects=False,
            verify=verify_tls,
        )
    except httpx.HTTPError as exc:
        # httpx names the request's URL in some errors: say only where it went
        why = str(exc).replace(settings.url, _where(settings.url))
        raise WebhookFailed(f"{_where(settings.url)}: {type(exc).__name__}: {why}") from None
    if not 200 <= answer.status_code < 300:
        raise WebhookFailed(
            f"{_where(settings.url)} answered {answer.status_code} {answer.reason_phrase}"
        )
