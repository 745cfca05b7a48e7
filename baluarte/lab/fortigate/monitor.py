"""``/api/v2/monitor/…``: runtime state, configuration backup and revisions.

Served: every path of the state file's ``monitor`` section as-is (GET); ``system/status``
(model and hostname from the state; any caller may read it); ``system/time``;
``system/current-admins`` and ``system/interface-connected-admins-info`` (the caller's own
session and address); ``license/status`` and ``system/firmware`` only when the state has them;
``system/ntp/status`` (the state's answer; when that is empty and ``system/ntp`` has
``ntpsync enable``, one reachable, selected server, as a unit shows soon after NTP is turned on);
``system/config/backup`` (GET on 6.4, GET or POST on 7.4, POST on 7.6 — else 405);
``system/config-revision`` with ``/save`` (POST), ``/info``, ``/file``, ``/delete`` (POST);
``system/api-user/generate-key`` (POST, a new token bound to the api-user).
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from collections.abc import Callable
from typing import Any

from baluarte.lab.fortigate import access
from baluarte.lab.fortigate.auth import Auth, Principal
from baluarte.lab.fortigate.backup import Revisions, config_text
from baluarte.lab.fortigate.envelope import monitor_envelope, monitor_error
from baluarte.lab.fortigate.nodes import monitor_group
from baluarte.lab.fortigate.profiles import Profile
from baluarte.lab.fortigate.state import LabState
from baluarte.lab.fortigate.wire import Reply, Request, json_reply

__all__ = ["MonitorApi", "management_interface"]

Handler = Callable[[Request, Principal, str], Reply]


class MonitorApi:
    def __init__(
        self,
        state: LabState,
        profile: Profile,
        auth: Auth,
        revisions: Revisions,
        mgmt_interface: Callable[[], str | None],
    ) -> None:
        self.state = state
        self.profile = profile
        self.auth = auth
        self.revisions = revisions
        self.mgmt_interface = mgmt_interface
        self._routes: dict[tuple[str, str], Handler] = {
            ("GET", "system/status"): self._status,
            ("GET", "system/time"): self._time,
            ("GET", "system/current-admins"): self._current_admins,
            ("GET", "system/interface-connected-admins-info"): self._connected_admins,
            ("GET", "system/ntp/status"): self._ntp_status,
            ("GET", "system/config-revision"): self._revisions,
            ("GET", "system/config-revision/info"): self._revision_info,
            ("GET", "system/config-revision/file"): self._revision_file,
            ("POST", "system/config-revision/save"): self._revision_save,
            ("POST", "system/config-revision/delete"): self._revision_delete,
            ("POST", "system/api-user/generate-key"): self._generate_key,
            ("GET", "system/config/backup"): self._backup,
            ("POST", "system/config/backup"): self._backup,
        }

    def handle(self, req: Request, who: Principal, segs: list[str]) -> Reply:
        full = "/".join(segs)
        vdom = req.param("vdom") or self.state.management_vdom
        handler = self._routes.get((req.method, full))
        if full == "system/config/backup" and req.method not in self.profile.backup_verbs:
            return self._error(req, 405, full, vdom)
        known = handler is not None or full in self.state.monitor
        if not known:
            status = 405 if any(path == full for _, path in self._routes) else 404
            return self._error(req, status, full, vdom)
        profile = access.profile_row(self.state.cmdb, who.accprofile)
        group = monitor_group(full)
        allowed = access.can_read(profile, group)
        if req.method != "GET" and full != "system/config/backup":
            allowed = access.can_write(profile, group)
        if not allowed:
            return self._error(req, 403, full, vdom, error=-14)
        if handler is None:
            if req.method != "GET":
                return self._error(req, 405, full, vdom)
            return self._ok(req, full, vdom, self.state.monitor[full])
        return handler(req, who, vdom)

    # -- helpers --------------------------------------------------------------------------------

    def _ok(self, req: Request, full: str, vdom: str, results: Any) -> Reply:
        path, name, action = _split(full)
        body = monitor_envelope(
            self.state, req.method, path=path, name=name, action=action, vdom=vdom, results=results
        )
        return json_reply(body)

    def _error(
        self, req: Request, status: int, full: str, vdom: str, error: int | None = None
    ) -> Reply:
        path, name, action = _split(full)
        return monitor_error(
            self.state, req.method, status, path=path, name=name, action=action, vdom=vdom,
            error=error,
        )  # fmt: skip

    def _body(self, req: Request) -> dict[str, Any]:
        try:
            body = req.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    # -- system ---------------------------------------------------------------------------------

    def _status(self, req: Request, who: Principal, vdom: str) -> Reply:
        model = self.state.model_name
        results: dict[str, Any] = {
            "model_name": "FortiGate",
            "model_number": model[3:] if model.startswith("FGT") else model,
            "model": model,
            "hostname": self.state.hostname,
            "log_disk_status": "available",
        }
        stored = self.state.monitor.get("system/status")
        if isinstance(stored, dict):
            results = {**results, **stored, "hostname": self.state.hostname}
        return self._ok(req, "system/status", vdom, results)

    def _time(self, req: Request, who: Principal, vdom: str) -> Reply:
        stored = self.state.monitor.get("system/time")
        results = {**(stored if isinstance(stored, dict) else {}), "time": int(time.time())}
        return self._ok(req, "system/time", vdom, results)

    def _admins(self, who: Principal, peer: str) -> list[dict[str, Any]]:
        """Logged-in admins: every session, and the calling token if that is what it is."""
        entries = []
        for session in self.auth.sessions():
            entries.append(
                {"admin": session.user, "srcaddr": session.peer, "method": "https",
                 "login_time": int(session.started), "is_current": who.session is session}
            )  # fmt: skip
        if who.session is None:
            entries.append(
                {"admin": who.name, "srcaddr": peer, "method": "api", "type": "token",
                 "login_time": int(time.time()), "is_current": True}
            )  # fmt: skip
        for index, entry in enumerate(entries, 1):
            entry.update(id=index, profile=who.accprofile or "super_admin", vdom="root")
        return entries

    def _current_admins(self, req: Request, who: Principal, vdom: str) -> Reply:
        return self._ok(req, "system/current-admins", vdom, self._admins(who, req.peer))

    def _connected_admins(self, req: Request, who: Principal, vdom: str) -> Reply:
        interface = req.param("interface")
        if not interface:
            return self._error(req, 400, "system/interface-connected-admins-info", vdom)
        here = interface == self.mgmt_interface()
        admins = self._admins(who, req.peer) if here else []
        results = {
            "current_admin_connected": here,
            "num_admins_connected": len(admins),
            "admin_methods": sorted({a["method"] for a in admins}),
        }
        return self._ok(req, "system/interface-connected-admins-info", vdom, results)

    def _ntp_status(self, req: Request, who: Principal, vdom: str) -> Reply:
        stored = self.state.monitor.get("system/ntp/status")
        ntp = self.state.cmdb.global_.get("system/ntp")
        syncing = isinstance(ntp, dict) and ntp.get("ntpsync") == "enable"
        if stored or not syncing:
            if stored is None:
                return self._error(req, 404, "system/ntp/status", vdom)
            return self._ok(req, "system/ntp/status", vdom, stored)
        assert isinstance(ntp, dict)
        servers = [str(s.get("server")) for s in ntp.get("ntpserver") or [] if isinstance(s, dict)]
        name = servers[0] if ntp.get("type") == "custom" and servers else "ntp1.fortiguard.com"
        peer = {
            "server": name, "ip": "192.0.2.123", "reachable": True, "selected": True,
            "stratum": 2, "offset": 0.4, "delay": 11.2, "version": 4,
        }  # fmt: skip
        return self._ok(req, "system/ntp/status", vdom, [peer])

    def _generate_key(self, req: Request, who: Principal, vdom: str) -> Reply:
        user = str(self._body(req).get("api-user", ""))
        rows = self.state.cmdb.global_.get("system/api-user")
        if not any(row.get("name") == user for row in rows or [] if isinstance(row, dict)):
            return self._error(req, 404, "system/api-user/generate-key", vdom, error=-3)
        token = secrets.token_hex(15)
        self.auth.tokens[token] = user
        return self._ok(req, "system/api-user/generate-key", vdom, {"access_token": token})

    # -- backup and revisions -------------------------------------------------------------------

    def _backup(self, req: Request, who: Principal, vdom: str) -> Reply:
        options = self._body(req) if req.method == "POST" else {}
        scope = str(options.get("scope") or req.param("scope") or "global")
        if scope not in ("global", "vdom"):
            return self._error(req, 400, "system/config/backup", vdom)
        target = str(options.get("vdom") or vdom)
        if target not in self.state.vdom_names:
            return self._error(req, 404, "system/config/backup", vdom, error=-3)
        text = config_text(self.state, user=who.name, scope=scope, vdom=target)  # type: ignore[arg-type]
        stamp = time.strftime("%Y%m%d_%H%M", time.gmtime())
        filename = f"{self.state.model_name}_{stamp}.conf"
        reply = Reply(200, text.encode(), "application/octet-stream")
        reply.headers.append(("Content-Disposition", f'attachment; filename="{filename}"'))
        return reply

    def _revisions(self, req: Request, who: Principal, vdom: str) -> Reply:
        listing = [r.info() for r in self.revisions.all()]
        return self._ok(req, "system/config-revision", vdom, {"revisions": listing})

    def _revision_id(self, req: Request) -> int:
        raw = req.param("config_id") or self._body(req).get("config_id")
        try:
            return int(raw or 0)
        except (TypeError, ValueError):
            return 0

    def _revision_info(self, req: Request, who: Principal, vdom: str) -> Reply:
        revision = self.revisions.get(self._revision_id(req))
        if revision is None:
            return self._error(req, 404, "system/config-revision/info", vdom, error=-3)
        return self._ok(req, "system/config-revision/info", vdom, revision.info())

    def _revision_file(self, req: Request, who: Principal, vdom: str) -> Reply:
        revision = self.revisions.get(self._revision_id(req))
        if revision is None:
            return self._error(req, 404, "system/config-revision/file", vdom, error=-3)
        return Reply(200, revision.text.encode(), "application/octet-stream")

    def _revision_save(self, req: Request, who: Principal, vdom: str) -> Reply:
        comments = str(self._body(req).get("comments") or req.param("comments") or "")
        revision = self.revisions.save(self.state, who.name, comments)
        return self._ok(req, "system/config-revision/save", vdom, {"config_id": revision.id})

    def _revision_delete(self, req: Request, who: Principal, vdom: str) -> Reply:
        ids = self._body(req).get("config_ids") or []
        removed = self.revisions.delete(int(i) for i in ids if str(i).isdigit())
        return self._ok(req, "system/config-revision/delete", vdom, {"deleted": removed})


def management_interface(state: LabState, host: str) -> str | None:
    """The interface whose subnet holds the listening address; else the first offering https."""
    rows = state.cmdb.global_.get("system/interface")
    rows = [row for row in rows or [] if isinstance(row, dict)]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for row in rows:
        try:
            net = ipaddress.ip_interface(str(row.get("ip", "")).replace(" ", "/")).network
        except ValueError:
            continue
        inside = address is not None and address.version == net.version and address in net
        if inside and net.prefixlen > 0:
            return str(row.get("name"))
    for row in rows:
        if "https" in str(row.get("allowaccess", "")).split():
            return str(row.get("name"))
    return None


def _split(full: str) -> tuple[str, str, str]:
    """``system/config-revision/save`` -> ("system", "config-revision", "save")."""
    segs = full.split("/")
    return segs[0], segs[1] if len(segs) > 1 else "", "/".join(segs[2:])
