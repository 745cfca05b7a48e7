"""The emulated unit's request router: login pages, ``/api/v2/cmdb``, ``/api/v2/monitor``.

No sockets here: ``Emulator.handle`` turns one ``Request`` into one ``Reply``, so the whole
behaviour can also be driven in-process. Unknown routes answer 404 — JSON under ``/api/v2``,
HTML elsewhere.
"""

from __future__ import annotations

import logging

from baluarte.lab.fortigate.auth import Auth
from baluarte.lab.fortigate.cmdb import CmdbApi
from baluarte.lab.fortigate.monitor import MonitorApi
from baluarte.lab.fortigate.state import LabState
from baluarte.lab.fortigate.wire import Reply, Request, html_reply, json_reply, text_reply

__all__ = ["Emulator"]

log = logging.getLogger(__name__)

_LOGIN_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>FortiGate</title></head><body>"
    '<form action="/logincheck" method="post"><input name="username"/>'
    '<input name="secretkey" type="password"/></form></body></html>\n'
)


class Emulator:
    def __init__(self, state: LabState, auth: Auth, cmdb: CmdbApi, monitor: MonitorApi) -> None:
        self.state = state
        self.auth = auth
        self.cmdb = cmdb
        self.monitor = monitor

    def handle(self, req: Request) -> Reply:
        try:
            return self._route(req)
        except Exception:  # a bug in the emulator must not kill its connection thread
            log.exception("FortiGate emulator failed on %s %s", req.method, req.raw_path)
            return html_reply(500, "Internal Server Error")

    def _route(self, req: Request) -> Reply:
        segs = req.segments
        if segs[:2] == ["api", "v2"]:
            return self._api(req, segs[2:])
        if req.raw_path == "/logincheck":
            return self.auth.logincheck(req)
        if req.raw_path == "/logout" and req.method in ("GET", "POST"):
            return self.auth.logout(req)
        if req.raw_path == "/logindisclaimer" and req.method == "POST":
            return self.auth.logindisclaimer(req)
        if req.raw_path in ("/", "/login") and req.method == "GET":
            return text_reply(_LOGIN_PAGE)
        return html_reply(404, "The requested URL was not found on this server.")

    def _api(self, req: Request, segs: list[str]) -> Reply:
        if segs == ["authentication"]:
            return self.auth.authentication(req)
        who = self.auth.authenticate(req)
        if isinstance(who, Reply):
            return who
        refused = self.auth.check_csrf(req, who)
        if refused is not None:
            return refused
        with self.state.lock:
            if segs[:1] == ["cmdb"]:
                return self.cmdb.handle(req, who, segs[1:])
            if segs[:1] == ["monitor"] and len(segs) > 1:
                return self.monitor.handle(req, who, segs[1:])
        body = {
            "http_method": req.method,
            "status": "error",
            "http_status": 404,
            "serial": self.state.serial,
            "version": self.state.version,
            "build": self.state.build,
        }
        return json_reply(body, 404)
