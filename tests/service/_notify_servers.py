"""Real servers on 127.0.0.1 for the notification tests: SMTP (aiosmtpd: STARTTLS, implicit TLS,
AUTH over TLS only) and HTTP (http.server in a thread, recording each request)."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from baluarte.lab.tls import LabCA, load_or_create_ca, server_context

SMTP_USER = "baluarte"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    tls: bool
    login: str | None


@dataclass
class Mailbox:
    password: str | None = None
    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (login, accepted)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        login = session.auth_data.login.decode() if session.authenticated else None
        # STARTTLS sets session.ssl; a connection TLS from its start has an SSL transport
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), message, raw, tls, login)
        )  # fmt: skip
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.password is not None
            and auth_data.login == SMTP_USER.encode()
            and auth_data.password == self.password.encode()
        )
        self.logins.append((auth_data.login.decode() if auth_data else "", ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox
    ca: LabCA


def lab_ca(folder: Path) -> LabCA:
    return load_or_create_ca(folder / "ca")


@contextmanager
def smtp_server(
    folder: Path, *, mode: str = "starttls", password: str | None = None, port: int | None = None
) -> Iterator[SmtpServer]:
    """``mode``: starttls (offers STARTTLS, requires it, AUTH only over TLS), plain (no TLS at
    all), smtps (TLS from the first byte)."""
    ca = lab_ca(folder)
    context = server_context(ca, "127.0.0.1")
    mailbox = Mailbox(password=password)
    port = port or free_port()
    params: dict[str, Any] = {"authenticator": mailbox.authenticate, "auth_require_tls": True}
    if mode == "starttls":
        params |= {"tls_context": context, "require_starttls": True}
    elif mode == "smtps":
        # aiosmtpd counts only STARTTLS as TLS for AUTH; this connection is TLS from its start
        params |= {"ssl_context": context, "auth_require_tls": False}
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **params)
    controller.start()
    try:
        yield SmtpServer(port, mailbox, ca)
    finally:
        controller.stop()


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append(Request(self.path, dict(self.headers.items()), body))
        time.sleep(self.server.delay)
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        if status in (301, 302, 307, 308):
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up on a slow answer: expected here

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.requests: list[Request] = []
        self.statuses: list[int] = []  # the next answers (then 200)
        self.delay = 0.0


@contextmanager
def http_server(port: int | None = None) -> Iterator[_Server]:
    server = _Server(port or free_port())
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def part(message: EmailMessage, kind: str) -> str:
    """The text of a mail's ``plain`` or ``html`` alternative."""
    body = message.get_body((kind,))
    assert body is not None, f"no {kind} part"
    return str(body.get_content())
