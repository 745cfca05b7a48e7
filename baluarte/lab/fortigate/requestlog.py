"""The request log tests assert on: what was asked, with every secret masked.

Masked: the ``Authorization`` value after its scheme, every cookie value, ``X-CSRFTOKEN``,
``access_token`` in the query, secret fields of JSON and form bodies (``secretkey``,
``password``, ``session_key``…), and — wherever they appear — the values of every token,
password and session the emulator knows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from baluarte.lab.fortigate.schema import GLOBAL_SECRETS

__all__ = ["MASK", "LoggedRequest", "mask_body", "mask_headers", "mask_query"]

MASK = "***"
_SECRET_FIELDS = GLOBAL_SECRETS | {
    "access_token",
    "session_key",
    "new_password1",
    "new_password2",
    "old_password",
    "token_code",
    "key",
}


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str  # raw, as sent (percent-encoding kept), without the query string
    query: dict[str, str]  # last value of each parameter
    headers: dict[str, str]  # lower-case names
    body: str
    status: int  # 0 when the connection was dropped without an answer
    peer: str
    at: datetime


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text


def mask_headers(headers: Mapping[str, str], secrets: Iterable[str]) -> dict[str, str]:
    out = {}
    for name, value in headers.items():
        if name == "authorization":
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {MASK}".strip()
        elif name == "cookie":
            value = "; ".join(
                f"{part.split('=', 1)[0].strip()}={MASK}"
                for part in value.split(";")
                if part.strip()
            )
        elif name == "x-csrftoken":
            value = MASK
        out[name] = _scrub(value, secrets)
    return out


def mask_query(raw_query: str, secrets: Iterable[str]) -> dict[str, str]:
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    return {
        key: MASK if key.lower() in _SECRET_FIELDS else _scrub(value, secrets)
        for key, value in pairs
    }


def mask_body(body: bytes, secrets: Iterable[str]) -> str:
    text = body.decode("utf-8", "replace")
    if not text.strip():
        return ""
    try:
        text = json.dumps(_mask_json(json.loads(text)))
    except ValueError:
        pairs = parse_qsl(text, keep_blank_values=True)
        if pairs and "=" in text:
            text = urlencode(
                [(k, MASK if k.lower() in _SECRET_FIELDS else v) for k, v in pairs], safe="*"
            )
    return _scrub(text, secrets)


def _mask_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: MASK if k.lower() in _SECRET_FIELDS and v not in ("", None) else _mask_json(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_json(item) for item in value]
    return value
