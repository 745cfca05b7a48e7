"""One request and one reply, as the emulator's handlers see them (no sockets here)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, unquote

__all__ = ["Reply", "Request", "html_reply", "json_reply", "text_reply"]

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    424: "Failed Dependency",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


@dataclass
class Request:
    """``raw_path`` is the path exactly as sent (``%2F`` kept), without the query string."""

    method: str
    raw_path: str
    raw_query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    peer: str

    @property
    def segments(self) -> list[str]:
        """The path split on ``/`` first, then each segment percent-decoded (``+`` stays)."""
        return [unquote(part) for part in self.raw_path.split("/") if part]

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.raw_query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def cookies(self) -> dict[str, str]:
        raw = self.header("cookie")
        if not raw:
            return {}
        jar = SimpleCookie()
        try:
            jar.load(raw)
        except CookieError:
            return {}
        return {name: morsel.value.strip('"') for name, morsel in jar.items()}

    def json(self) -> Any:
        """The body as JSON (clients send it with or without a Content-Type); None if empty."""
        if not self.body.strip():
            return None
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        fields = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[-1] for key, values in fields.items()}


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False  # close the connection without answering

    @property
    def reason(self) -> str:
        return _REASONS.get(self.status, "OK" if self.status < 400 else "Error")


def json_reply(obj: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Reply:
    body = json.dumps(obj, indent=2).encode()
    return Reply(status, body, "application/json", list(headers or []))


def text_reply(
    text: str, status: int = 200, content_type: str = "text/html; charset=utf-8"
) -> Reply:
    return Reply(status, text.encode(), content_type)


def html_reply(
    status: int, message: str = "", headers: list[tuple[str, str]] | None = None
) -> Reply:
    reason = _REASONS.get(status, "Error")
    page = (
        f"<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>"
        f"<body><h1>{status} {reason}</h1><p>{message}</p></body></html>\n"
    )
    return Reply(status, page.encode(), "text/html; charset=utf-8", list(headers or []))
