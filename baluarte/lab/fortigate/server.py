"""``FortigateLab``: one emulated FortiGate answering the FortiOS REST API over real HTTPS.

    with FortigateLab(load_state("fw.json"), tokens={"TOKEN": "baluarte-ro"}) as fgt:
        httpx.get(f"{fgt.url}/api/v2/monitor/system/status",
                  headers={"Authorization": "Bearer TOKEN"}, verify=ssl_context(fgt.ca_path))

It serves from a background thread (HTTP/1.1 keep-alive, ``Content-Length`` on every answer,
the TLS handshake done in each connection's own thread), logs every request with secrets masked
(``fgt.requests``) and applies the faults armed in ``fgt.faults``. ``stop()`` closes open
connections, joins their threads and releases the port; many instances may run in one process.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from baluarte.errors import LabError
from baluarte.lab.fortigate.app import Emulator
from baluarte.lab.fortigate.auth import Auth
from baluarte.lab.fortigate.backup import Revisions
from baluarte.lab.fortigate.cmdb import CmdbApi
from baluarte.lab.fortigate.faults import Fault, Faults
from baluarte.lab.fortigate.monitor import MonitorApi, management_interface
from baluarte.lab.fortigate.profiles import PROFILES
from baluarte.lab.fortigate.requestlog import LoggedRequest, mask_body, mask_headers, mask_query
from baluarte.lab.fortigate.state import LabState, load_state
from baluarte.lab.fortigate.transactions import Transactions
from baluarte.lab.fortigate.wire import Reply, Request, html_reply, json_reply
from baluarte.lab.tls import load_or_create_ca, server_context

__all__ = ["FortigateLab"]

_MAX_BODY = 16 * 1024 * 1024
_IDLE_SECONDS = 30.0  # a keep-alive connection idle this long is closed


class FortigateLab:
    """One emulated FortiGate; see the module docstring. Start it with ``with`` or ``start()``."""

    def __init__(
        self,
        state: LabState | Mapping[str, Any] | str | Path,
        tokens: Mapping[str, str | None] | None = None,
        admins: Mapping[str, str] | None = None,
        profile: str = "7.4",
        host: str = "127.0.0.1",
        port: int = 0,
        cert_dir: str | Path | None = None,
        session_ttl: float = 300.0,
        login_lockout: int = 5,
        *,
        lockout_seconds: float | None = None,
        mgmt_interface: str | None = None,
    ) -> None:
        if profile not in PROFILES:
            raise LabError(f"unknown FortiOS profile {profile!r} (allowed: {', '.join(PROFILES)})")
        self.state = load_state(state)
        self.profile = PROFILES[profile]
        self.host = host
        self.port = port
        self.faults = Faults()
        self.requests: list[LoggedRequest] = []
        self._cert_dir = Path(cert_dir) if cert_dir is not None else None
        self._own_cert_dir: Path | None = None
        self._ca_path: Path | None = None
        self._mgmt_interface = mgmt_interface
        self._check_tokens(tokens or {})
        self.auth = Auth(
            self.state,
            self.profile,
            tokens=tokens or {},
            admins=admins or {},
            session_ttl=session_ttl,
            login_lockout=login_lockout,
            lockout_seconds=lockout_seconds if lockout_seconds is not None else self._duration(),
        )
        self.transactions = Transactions(self.state)
        self.revisions = Revisions()
        self.emulator = Emulator(
            self.state,
            self.auth,
            CmdbApi(self.state, self.profile, self.transactions),
            MonitorApi(self.state, self.profile, self.auth, self.revisions, self.mgmt_interface),
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._lock = threading.Lock()

    # -- public surface -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def ca_path(self) -> Path:
        if self._ca_path is None:
            raise LabError("the FortiGate lab is not started")
        return self._ca_path

    def mgmt_interface(self) -> str | None:
        """The interface requests are taken to arrive on (for the management-path monitors)."""
        return self._mgmt_interface or management_interface(self.state, self.host)

    def start(self) -> FortigateLab:
        if self._server is not None:
            return self
        cert_dir = self._cert_dir
        if cert_dir is None:
            cert_dir = self._own_cert_dir = Path(tempfile.mkdtemp(prefix="baluarte-fgt-"))
        ca = load_or_create_ca(cert_dir)
        context = server_context(ca, self.host)
        server_class = _Server6 if ":" in self.host else _Server
        try:
            server = server_class((self.host, self.port), _Handler, self, context)
        except OSError as exc:
            self._cleanup_cert_dir()
            raise LabError(f"cannot listen on {self.host}:{self.port} ({exc.strerror})") from None
        self._server, self._ca_path = server, ca.path
        self.port = server.server_address[1]
        self.auth.port = self.port
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"fortigate-lab-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            connections = dict(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in connections.values():
            thread.join(timeout=2.0)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._cleanup_cert_dir()

    def __enter__(self) -> FortigateLab:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"FortigateLab({self.state.serial}, profile={self.profile.name}, url={self.url})"

    # -- serving --------------------------------------------------------------------------------

    def dispatch(self, req: Request) -> Reply:
        """Faults, then the emulator; every request is logged (secrets masked)."""
        delay, fault = self.faults.take(req.method, req.raw_path)
        if delay:
            time.sleep(delay)
        reply = self.emulator.handle(req) if fault is None else _faulty(fault, self.state)
        secrets = self.auth.secrets()
        self.requests.append(
            LoggedRequest(
                method=req.method,
                path=req.raw_path,
                query=mask_query(req.raw_query, secrets),
                headers=mask_headers(req.headers, secrets),
                body=mask_body(req.body, secrets),
                status=0 if reply.drop else reply.status,
                peer=req.peer,
                at=datetime.now(UTC),
            )
        )
        return reply

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections[conn] = threading.current_thread()
            else:
                self._connections.pop(conn, None)

    # -- set-up helpers -------------------------------------------------------------------------

    def _check_tokens(self, tokens: Mapping[str, str | None]) -> None:
        rows = self.state.cmdb.global_.get("system/api-user")
        names = {row.get("name") for row in rows if isinstance(row, dict)} if rows else set()
        for user in tokens.values():
            if user is not None and user not in names:
                raise LabError(
                    f"a token is bound to api-user {user!r}, which the state's "
                    "system/api-user does not have"
                )

    def _duration(self) -> float:
        settings = self.state.cmdb.global_.get("system/global")
        value = settings.get("admin-lockout-duration") if isinstance(settings, dict) else None
        return float(value) if isinstance(value, int) and value > 0 else 60.0

    def _cleanup_cert_dir(self) -> None:
        if self._own_cert_dir is not None:
            shutil.rmtree(self._own_cert_dir, ignore_errors=True)
            self._own_cert_dir = None


def _faulty(fault: Fault, state: LabState) -> Reply:
    if fault.kind == "drop":
        return Reply(0, drop=True)
    if fault.kind == "html":
        return html_reply(fault.status, "The server encountered an internal error.")
    if fault.kind == "malformed":
        return Reply(
            200, b'{"http_method":"GET","results":[{"name":"x", "status": ', "application/json"
        )
    body = {
        "http_method": "GET",
        "status": "error",
        "http_status": fault.status,
        "serial": state.serial,
        "version": state.version,
        "build": state.build,
    }
    return json_reply(body, fault.status)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        lab: FortigateLab,
        context: ssl.SSLContext,
    ) -> None:
        self.lab = lab
        self.context = context
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The handshake happens here, in the connection's own thread, so a slow or non-TLS
        # client cannot stall the accept loop.
        request.settimeout(10.0)
        # headers and body go out as two writes: without this, Nagle + delayed ACK add ~40 ms
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            conn = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            with contextlib.suppress(OSError):
                request.close()
            return
        conn.settimeout(_IDLE_SECONDS)
        self.lab._track(conn, True)
        try:
            self.RequestHandlerClass(conn, client_address, self)  # type: ignore[arg-type]
        except (OSError, ssl.SSLError):
            pass
        finally:
            self.lab._track(conn, False)
            with contextlib.suppress(OSError):
                conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # client disconnects are normal; handlers log their own failures


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def version_string(self) -> str:
        return "xxxxxxxx-xxxxx"  # what FortiOS answers in its Server header

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        raw_path, _, raw_query = self.path.partition("?")
        req = Request(
            method=self.command,
            raw_path=raw_path,
            raw_query=raw_query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            peer=str(self.client_address[0]),
        )
        reply = self.server.lab.dispatch(req)
        if reply.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status, reply.reason)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > _MAX_BODY:
            self.send_error(413 if length > 0 else 400)
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                self.send_error(400)
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > _MAX_BODY:
                self.send_error(413)
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)
