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

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
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
from baluarte.lab.httpserver import CertDir, LabHandler, LabServer, Listener, ServedLab, url_host
from baluarte.lab.tls import server_context

__all__ = ["FortigateLab"]


class FortigateLab(ServedLab):
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
        self._cert_dir = CertDir(cert_dir, prefix="baluarte-fgt-")
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
        self._listener: Listener[FortigateLab] | None = None

    # -- public surface -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://{url_host(self.host)}:{self.port}"

    @property
    def ca_path(self) -> Path:
        if self._ca_path is None:
            raise LabError("the FortiGate lab is not started")
        return self._ca_path

    def mgmt_interface(self) -> str | None:
        """The interface requests are taken to arrive on (for the management-path monitors)."""
        return self._mgmt_interface or management_interface(self.state, self.host)

    def start(self) -> FortigateLab:
        if self._listener is not None:
            return self
        ca = self._cert_dir.ca()
        context = server_context(ca, self.host)
        try:
            listener = Listener(self, _Handler, self.host, self.port, context, name="fortigate-lab")
        except LabError:
            self._cert_dir.cleanup()
            raise
        self._listener, self._ca_path = listener, ca.path
        self.port = listener.port
        self.auth.port = self.port
        listener.start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.stop()
        self._cert_dir.cleanup()

    def __repr__(self) -> str:
        return f"FortigateLab({self.state.serial}, profile={self.profile.name}, url={self.url})"

    # -- serving --------------------------------------------------------------------------------

    def dispatch(self, req: Request) -> Reply:
        """Faults, then the emulator; every request is logged (secrets masked)."""
        delay, fault = self.faults.take(req.method, req.raw_path)
        if delay:
            time.sleep(delay)
        reply = self.emulator.handle(req) if fault is None else _faulty(fault, self.state, req)
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


def _faulty(fault: Fault, state: LabState, req: Request) -> Reply:
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
        "status": req.headers.get("authorization", "") if fault.kind == "echo" else "error",
        "http_status": fault.status,
        "serial": state.serial,
        "version": state.version,
        "build": state.build,
    }
    return json_reply(body, fault.status)


class _Handler(LabHandler):
    server: LabServer[FortigateLab]
    accept_chunked = True

    def version_string(self) -> str:
        return "xxxxxxxx-xxxxx"  # what FortiOS answers in its Server header

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _serve(self) -> None:
        body = self.read_body()
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
            self.drop()
            return
        self.send_reply(reply, reply.reason)
