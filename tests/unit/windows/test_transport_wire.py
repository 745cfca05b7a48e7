"""The WinRM transport's edges against a plain HTTP(S) server on loopback (no PSRP needed).

The server answers every POST the same scripted way and counts connections and requests, so
each test shows what pypsrp put on the wire and what our transport made of it.
"""

from __future__ import annotations

import base64
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import SecretStr

from baluarte.errors import AuthFailed, DeviceError, InputError, TimedOut, Unreachable
from baluarte.lab.tls import load_or_create_ca, server_context
from baluarte.transports.winrm import RUNSPACE_LOCALE, WinrmClient, WinrmTarget

CANARY = "canary-Zq8v1XkP-do-not-leak"


class Stub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, status: int, headers: dict[str, str], body: bytes, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status, self.headers, self.body, self.delay = status, headers, body, delay
        self.requests: list[dict[str, str]] = []
        self.bodies: list[bytes] = []
        self.connections = 0

    def get_request(self) -> tuple[socket.socket, object]:
        conn, addr = super().get_request()
        self.connections += 1
        return conn, addr

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up or spoke TLS to plain HTTP: expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Stub

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.bodies.append(self.rfile.read(length))
        self.server.requests.append(dict(self.headers))
        if self.server.delay:
            time.sleep(self.server.delay)
        self.send_response(self.server.status)
        for key, value in self.server.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


Serve = Callable[..., Stub]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    started: list[Stub] = []

    def start(
        status: int = 500,
        headers: dict[str, str] | None = None,
        body: bytes = b"no WinRM here",
        *,
        tls: bool = False,
        delay: float = 0.0,
    ) -> Stub:
        stub = Stub(status, headers or {"Content-Type": "text/plain"}, body, delay)
        if tls:
            ca = load_or_create_ca(tmp_path / "ca")
            ctx = server_context(ca, "127.0.0.1")
            stub.socket = ctx.wrap_socket(stub.socket, server_side=True)
        threading.Thread(target=stub.serve_forever, args=(0.05,), daemon=True).start()
        started.append(stub)
        return stub

    yield start
    for stub in started:
        stub.shutdown()
        stub.server_close()


def target(port: int, **kw: object) -> WinrmTarget:
    base: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "https": False,
        "auth": "ntlm",
        "user": "baluarte",
        "password": SecretStr(CANARY),
        "deadline": 10.0,
    }
    return WinrmTarget.model_validate({**base, **kw})


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_secret_is_not_in_reprs() -> None:
    t = target(5985)
    client = WinrmClient(t)
    assert CANARY not in repr(t) + str(t) + repr(client) + t.model_dump_json()
    assert "127.0.0.1:5985" in repr(client)


@pytest.mark.parametrize("auth", ["basic", "certificate"])
def test_clear_text_auth_over_http_is_refused_before_any_request(serve: Serve, auth: str) -> None:
    stub = serve()
    extra = {"certificate": "/nonexistent.pem", "certificate_key": "/nonexistent.key"}
    with pytest.raises(InputError, match="https: true"):
        WinrmClient(target(stub.server_port, auth=auth, **extra)).run_script("Get-Date")
    assert stub.connections == 0


def test_refused_port_is_unreachable() -> None:
    client = WinrmClient(target(closed_port()))
    with pytest.raises(Unreachable, match=r"cannot connect to http://127.0.0.1:.*refused") as err:
        client.run_script("Get-Date")
    assert type(err.value) is Unreachable and client.request_count == 1


def test_http_error_without_a_fault_is_a_device_error(serve: Serve) -> None:
    stub = serve(503, body=b"Service Unavailable")
    client = WinrmClient(target(stub.server_port))
    with pytest.raises(DeviceError, match=r"HTTP 503 from the WinRM service .*Service Unavailable"):
        client.run_script("Get-Date")
    # the empty POST that starts NTLM is the only request, and it was counted
    assert len(stub.requests) == client.request_count == 1


def test_server_offering_another_auth_is_named(serve: Serve) -> None:
    stub = serve(401, {"WWW-Authenticate": 'Basic realm="WSMAN"'})
    with pytest.raises(AuthFailed, match=r"does not offer NTLM authentication \(it offers: Basic"):
        WinrmClient(target(stub.server_port)).run_script("Get-Date")


def test_silent_server_times_out_at_the_deadline(serve: Serve) -> None:
    stub = serve(delay=30.0)
    client = WinrmClient(target(stub.server_port, deadline=1.0, read_timeout=30.0))
    started = time.monotonic()
    with pytest.raises(TimedOut, match="within 1 s"):
        client.run_script("Get-Date")
    assert time.monotonic() - started < 3.0


def test_unknown_ca_fails_tls_whatever_the_environment_says(
    serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = serve(tls=True)
    ca = tmp_path / "ca" / "ca.pem"
    # the lab CA is trusted by the environment only: it must not count
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.setenv(var, str(ca))
    https = {"https": True, "auth": "basic"}
    with pytest.raises(
        Unreachable, match=r"TLS certificate verification failed .*winrm\.ca_bundle"
    ):
        WinrmClient(target(stub.server_port, **https)).run_script("Get-Date")
    assert stub.requests == []
    # the inventory's bundle is what counts: TLS passes, the stub's 500 comes back
    with pytest.raises(DeviceError, match="HTTP 500"):
        WinrmClient(target(stub.server_port, ca_bundle=ca, **https)).run_script("Get-Date")
    assert len(stub.requests) == 1


def test_verify_false_is_honoured_and_said(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    stub = serve(tls=True)
    t = target(stub.server_port, https=True, auth="basic", verify=False)
    assert t.tls == "unverified"
    with caplog.at_level(logging.WARNING), pytest.raises(DeviceError, match="HTTP 500"):
        WinrmClient(t).run_script("Get-Date")
    assert "NOT verified" in caplog.text


def test_canary_never_in_errors_or_logs(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    encoded = base64.b64encode(f"baluarte:{CANARY}".encode()).decode()
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for stub in (serve(401, {"WWW-Authenticate": "Basic"}, tls=True), serve(503)):
            for auth, https in (("basic", True), ("ntlm", False)):
                t = target(stub.server_port, auth=auth, https=https, verify=False)
                try:
                    WinrmClient(t).run_script("Get-Date")
                except (DeviceError, InputError) as exc:
                    texts += [str(exc), repr(exc), str(exc.__cause__), str(exc.__context__)]
    texts.append(caplog.text)
    assert len(texts) > 4
    assert not [t for t in texts if CANARY in t or encoded in t]


def test_tls_check_is_not_skipped_for_https(serve: Serve) -> None:
    # a server speaking plain HTTP on the HTTPS port: a handshake failure, not a silent pass
    stub = serve()
    with pytest.raises(Unreachable, match=r"TLS handshake"):
        WinrmClient(target(stub.server_port, https=True, auth="basic")).run_script("Get-Date")


def test_the_runspace_culture_is_the_one_chosen_not_pypsrp_s_default(serve: Serve) -> None:
    """WS-Man Locale (UI culture) and DataLocale (culture) set the remote runspace's cultures:
    both are Baluarte's choice, en-US, whatever pypsrp's default becomes."""
    # Basic over HTTPS: the first request already carries the Create envelope
    stub = serve(tls=True)
    t = target(stub.server_port, https=True, auth="basic", verify=False)
    with pytest.raises(DeviceError, match="HTTP 500"):
        WinrmClient(t).run_script("Get-Date")
    assert RUNSPACE_LOCALE == "en-US"
    found = re.findall(
        r"<(\w+:(?:Data)?Locale) [^>]*xml:lang=\"([^\"]*)\"", stub.bodies[0].decode()
    )
    assert sorted(found) == [("wsman:Locale", "en-US"), ("wsmv:DataLocale", "en-US")]
