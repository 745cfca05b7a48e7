"""``WindowsLab``: one emulated Windows host answering WinRM (WS-Management + PSRP) over HTTP(S).

    with WindowsLab(load_state("pc.json"), users={"baluarte": pw}, auth="ntlm") as win:
        wsman = WSMan(win.host, port=win.port, ssl=False, auth="ntlm",
                      username="baluarte", password=pw, no_proxy=True)

It serves from a background thread: stdlib ThreadingHTTPServer, HTTP/1.1 keep-alive,
TCP_NODELAY, one auth context per TCP connection (NTLM authenticates the connection), the TLS
handshake in each connection's own thread. Over HTTP with NTLM/Negotiate every message must be
MS-WSMV encrypted: plaintext is answered 401, as Windows does with AllowUnencrypted=false
(the 401 is what hashicorp/packer#6205 traced); Basic is refused over HTTP the same way unless
``allow_unencrypted=True``. Every request is logged (``win.requests``) without secrets.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from baluarte.errors import LabError
from baluarte.lab.httpserver import CertDir, LabHandler, LabServer, Listener, ServedLab, url_host
from baluarte.lab.tls import server_context
from baluarte.lab.windows import encryption, firewall
from baluarte.lab.windows.auth import AuthMode, ConnectionAuth, Credentials
from baluarte.lab.windows.engine import (
    DEFAULT_HANDLERS,
    Handler,
    ScriptCall,
    ScriptResult,
    apply_faults,
    run_script,
)
from baluarte.lab.windows.faults import Fault, Faults
from baluarte.lab.windows.remediations import FIX_HANDLERS
from baluarte.lab.windows.requestlog import LoggedRequest, mask_authorization
from baluarte.lab.windows.service import WsmanService
from baluarte.lab.windows.soap import SoapError, WsmanFault, fault_envelope, parse_request
from baluarte.lab.windows.state import WindowsState, load_state

__all__ = ["WindowsLab"]

_AUTH_MODES = ("basic", "ntlm", "negotiate")
_SOAP = "application/soap+xml;charset=UTF-8"


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False
    soap_bytes: int = 0  # the SOAP envelope's size before encryption


@dataclass
class _Conn:
    """What one TCP connection carries across its requests."""

    peer: str
    auth: ConnectionAuth | None


class WindowsLab(ServedLab):
    """One emulated Windows host; see the module docstring. Start with ``with`` or ``start()``."""

    def __init__(
        self,
        state: WindowsState | Mapping[str, Any] | str | Path,
        users: Mapping[str, str] | None = None,
        auth: AuthMode = "negotiate",
        https: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        cert_dir: str | Path | None = None,
        freeze_time: bool = False,
        *,
        allow_unencrypted: bool = False,
        handlers: Mapping[str, Handler] | None = None,
        network_profile: str | None = None,
    ) -> None:
        if auth not in _AUTH_MODES:
            raise LabError(f"unknown auth {auth!r} (allowed: {', '.join(_AUTH_MODES)})")
        self.state = load_state(state)
        self.auth: AuthMode = auth
        self.https = https
        self.host = host
        self.port = port
        self.freeze_time = freeze_time
        self.allow_unencrypted = allow_unencrypted
        self.faults = Faults()
        self.requests: list[LoggedRequest] = []
        self.scripts: list[str] = []
        self.parameters: list[dict[str, Any]] = []  # each pipeline's PSRP parameters, as sent
        self.internal_errors: list[str] = []  # lab bugs, answered 500 (tests assert it stays [])
        # The firewall profile (Domain, Private, Public) of the network Baluarte reaches the host
        # on: new connections then pass the state's firewall as Windows would judge them (peer,
        # the lab's port). None: not emulated — recorded states were reached on other addresses.
        self.network_profile = network_profile
        self.refused_connections: list[str] = []  # why each refused connection was cut
        self.handlers: dict[str, Handler] = dict(
            {**DEFAULT_HANDLERS, **FIX_HANDLERS} if handlers is None else handlers
        )
        self._state_lock = threading.Lock()  # a fix replaces the state: one script at a time
        self.credentials = Credentials(users or {}, self.state.hostname)
        self._cert_dir = CertDir(cert_dir, prefix="baluarte-win-")
        self._ca_path: Path | None = None
        self._cbt: bytes | None = None
        self._listener: Listener[WindowsLab] | None = None
        ps_version = str(self.state.output.get("host", {}).get("PSVersion") or "5.1")
        self.service = WsmanService(self.state.hostname, ps_version, self._run, self.url)

    # -- public surface -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{'https' if self.https else 'http'}://{url_host(self.host)}:{self.port}/wsman"

    @property
    def ca_path(self) -> Path:
        if not self.https:
            raise LabError("this Windows lab serves plain HTTP: there is no CA")
        if self._ca_path is None:
            raise LabError("the Windows lab is not started")
        return self._ca_path

    def start(self) -> WindowsLab:
        if self._listener is not None:
            return self
        context = None
        if self.https:
            ca = self._cert_dir.ca()
            context = server_context(ca, self.host)
            self._ca_path = ca.path
            self._cbt = b"tls-server-end-point:" + _certificate_hash(_leaf_der(context))
        self.credentials.open_store()
        try:
            listener = Listener(self, _Handler, self.host, self.port, context, name="windows-lab")
        except LabError:
            self._cleanup()
            raise
        self._listener = listener
        self.port = listener.port
        self.service.endpoint = self.url
        listener.start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.stop()
        self._cleanup()

    def __repr__(self) -> str:
        return f"WindowsLab({self.state.hostname}, auth={self.auth}, url={self.url})"

    # -- serving --------------------------------------------------------------------------------

    def serve(self, conn: _Conn, method: str, headers: Mapping[str, str], body: bytes) -> _Reply:
        """One HTTP request on ``conn``: auth, decryption, faults, the WS-Man service; logged."""
        info: dict[str, Any] = {"action": None, "shell_id": None, "command_id": None}
        encrypted = encryption.is_encrypted(headers.get("content-type", ""))
        try:
            reply = self._serve(conn, method, headers, body, info, encrypted)
        except Exception as exc:  # a lab bug must still answer, not hang the client
            self.internal_errors.append(f"{type(exc).__name__}: {exc}")
            reply = _Reply(500, b"internal error in the Windows lab")
        self.requests.append(
            LoggedRequest(
                action=info["action"],
                shell_id=info["shell_id"],
                command_id=info["command_id"],
                status=0 if reply.drop else reply.status,
                authorization=mask_authorization(headers.get("authorization")),
                encrypted=encrypted,
                reply_bytes=reply.soap_bytes,
                peer=conn.peer,
                at=datetime.now(UTC),
            )
        )
        return reply

    def _serve(
        self,
        conn: _Conn,
        method: str,
        headers: Mapping[str, str],
        body: bytes,
        info: dict[str, Any],
        encrypted: bool,
    ) -> _Reply:
        if method != "POST":
            return _Reply(405, b"Method not allowed", headers=[("Allow", "POST")])
        refused, final = self._authenticate(conn, headers, body)
        if refused is not None:
            return refused
        extra = [("WWW-Authenticate", final)] if final else []
        if not body:
            return _Reply(200, headers=extra)
        sealer = conn.auth.context if conn.auth is not None else None
        if encrypted:
            if sealer is None:
                return _Reply(400, b"message encryption needs NTLM or Negotiate auth")
            try:
                body = encryption.unwrap(body, sealer)
            except encryption.EncryptionError as exc:
                return _Reply(400, str(exc).encode())
        elif not self.https and self.auth != "basic" and not self.allow_unencrypted:
            return self._challenge()  # AllowUnencrypted=false
        try:
            req = parse_request(body)
        except SoapError as exc:
            return _Reply(400, f"bad WS-Management request: {exc}".encode())
        info.update(action=req.action, shell_id=req.shell_id, command_id=_command_id(req))
        delay, fault = self.faults.take_request(req.action)
        if delay:
            time.sleep(delay)
        if fault is not None and fault.kind != "wsman_fault":
            return _faulty(fault)
        try:
            if fault is not None:
                raise WsmanFault(fault.code, fault.reason, subcode="w:AccessDenied")
            status, soap = 200, self.service.handle(req, conn.peer)
        except WsmanFault as exc:
            status, soap = 500, fault_envelope(req.message_id, exc, self.state.hostname)
        if encrypted and sealer is not None:
            body = encryption.wrap(soap, sealer)
            return _Reply(status, body, encryption.content_type(), extra, soap_bytes=len(soap))
        return _Reply(status, soap, _SOAP, extra, soap_bytes=len(soap))

    def _authenticate(
        self, conn: _Conn, headers: Mapping[str, str], body: bytes
    ) -> tuple[_Reply | None, str | None]:
        """(the refusal to answer, or None when allowed; a final token header to send)."""
        header = headers.get("authorization", "")
        if self.auth == "basic":
            if not self.https and not self.allow_unencrypted:
                return self._challenge(), None  # Basic over HTTP: AllowUnencrypted=false
            if self.credentials.check_basic(header):
                return None, None
            return self._challenge(), None
        assert conn.auth is not None
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("negotiate", "ntlm"):
            try:
                token = base64.b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                return self._challenge(), None
            ok, out = conn.auth.step(token)
            if not ok:
                return self._challenge(), None
            out_header = f"Negotiate {base64.b64encode(out).decode()}" if out else None
            if not conn.auth.complete:
                return _Reply(401, headers=[("WWW-Authenticate", out_header or "Negotiate")]), None
            # SPNEGO's final token (mechListMIC) must reach the client or it desyncs (BadMIC)
            return None, out_header
        if header or not conn.auth.complete:
            return self._challenge(), None
        return None, None

    def _challenge(self) -> _Reply:
        offer = 'Basic realm="WSMAN"' if self.auth == "basic" else "Negotiate"
        return _Reply(401, headers=[("WWW-Authenticate", offer)])

    def _run(
        self, script: str, pipeline_input: tuple[Any, ...], parameters: dict[str, Any]
    ) -> tuple[ScriptResult, int]:
        self.scripts.append(script)
        self.parameters.append(parameters)
        with self._state_lock:
            call = ScriptCall(
                script=script,
                state=self.state,
                now=datetime.now(UTC),
                freeze_time=self.freeze_time,
                input=pipeline_input,
                parameters=parameters,
            )
            result, polls = apply_faults(
                run_script(call, self.handlers), self.faults.take_script(script)
            )
            if result.state is not None:  # a terminating fault drops it: the fix changed nothing
                self.state = result.state
        return result, polls

    def connection_refusal(self, peer: str) -> str | None:
        """Why the host's firewall cuts a new connection from ``peer``; None: it lets it in."""
        if self.network_profile is None:
            return None
        state = self.state  # replaced whole by a fix: one consistent document
        return firewall.connection_refusal(state.output, self.network_profile, self.port, peer)

    def new_connection(self, peer: str) -> _Conn:
        auth = None
        if self.auth != "basic":
            auth = ConnectionAuth(self.credentials, self.auth, self._cbt)
        return _Conn(peer=peer, auth=auth)

    def _cleanup(self) -> None:
        self.credentials.close()
        self._cert_dir.cleanup()


def _command_id(req: Any) -> str | None:
    body = req.body
    if body is None:
        return None
    for el in (body, *list(body)):
        value = el.get("CommandId")
        if value:
            return str(value).upper()
    return None


def _faulty(fault: Fault) -> _Reply:
    if fault.kind == "drop":
        if fault.seconds:
            time.sleep(fault.seconds)
        return _Reply(0, drop=True)
    return _Reply(fault.status, f"HTTP Error {fault.status}. Injected by the lab.".encode())


def _leaf_der(context: ssl.SSLContext) -> bytes:
    """The server certificate ``context`` presents (for channel binding), by a local handshake."""
    ours, theirs = socket.socketpair()
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    with ours, theirs:
        server_side = context.wrap_socket(ours, server_side=True, do_handshake_on_connect=False)
        client_side = client.wrap_socket(theirs, do_handshake_on_connect=False)
        errors: list[BaseException] = []

        def handshake() -> None:
            try:
                server_side.do_handshake()
            except (OSError, ssl.SSLError) as exc:
                errors.append(exc)

        thread = threading.Thread(target=handshake, daemon=True)
        thread.start()
        client_side.do_handshake()
        thread.join(timeout=5.0)
        der = client_side.getpeercert(binary_form=True)
    if errors or not der:
        raise LabError("cannot read the lab's own TLS certificate for channel binding")
    return der


def _certificate_hash(der: bytes) -> bytes:
    """RFC 5929 tls-server-end-point: the certificate's signature hash, SHA-256 for MD5/SHA-1."""
    cert = x509.load_der_x509_certificate(der)
    algorithm = cert.signature_hash_algorithm
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(der)
    return digest.finalize()


class _Handler(LabHandler):
    server: LabServer[WindowsLab]

    def setup(self) -> None:
        super().setup()
        self.conn_state = self.server.lab.new_connection(str(self.client_address[0]))

    def handle(self) -> None:
        refusal = self.server.lab.connection_refusal(str(self.client_address[0]))
        if refusal is None:
            super().handle()
            return
        self.server.lab.refused_connections.append(refusal)
        # a reset, before any byte is read: what the client sees of a firewalled port
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def version_string(self) -> str:
        return "Microsoft-HTTPAPI/2.0"  # what WinRM's http.sys answers in its Server header

    def do_POST(self) -> None:
        self._serve()

    do_GET = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_POST

    def _serve(self) -> None:
        if self.path.split("?", 1)[0].rstrip("/").lower() != "/wsman":
            self.send_reply(_Reply(404, b"Not found"))
            return
        body = self.read_body()
        if body is None:
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.lab.serve(self.conn_state, self.command, headers, body)
        if reply.drop:
            self.drop()
            return
        self.send_reply(reply)
