"""The FortiOS JSON envelope around every cmdb and monitor answer (reference §1.4)."""

from __future__ import annotations

from typing import Any

from baluarte.lab.fortigate.state import LabState
from baluarte.lab.fortigate.wire import Reply, json_reply

__all__ = ["UNSET", "cmdb_envelope", "cmdb_error", "monitor_envelope", "monitor_error"]

UNSET: Any = object()


def cmdb_envelope(
    state: LabState,
    method: str,
    *,
    path: str,
    name: str,
    vdom: str,
    results: Any = UNSET,
    status: int = 200,
    error: int | None = None,
    mkey: Any = UNSET,
    changed: bool | None = None,
    old_revision: str | None = None,
    counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"http_method": method, "revision": state.revision}
    if changed is not None:
        out["revision_changed"] = changed
        if old_revision is not None:
            out["old_revision"] = old_revision
    if results is not UNSET:
        out["results"] = results
    out.update(counts or {})
    out.update({"vdom": vdom, "path": path, "name": name})
    if mkey is not UNSET:
        out["mkey"] = mkey
    out["status"] = "success" if status < 400 else "error"
    out["http_status"] = status
    if error is not None:
        out["error"] = error
    out.update(_device(state))
    return out


def cmdb_error(
    state: LabState, method: str, status: int, error: int | None, *, path: str, name: str, vdom: str
) -> Reply:
    body = cmdb_envelope(state, method, path=path, name=name, vdom=vdom, status=status, error=error)
    return json_reply(body, status)


def monitor_envelope(
    state: LabState,
    method: str,
    *,
    path: str,
    name: str,
    action: str,
    vdom: str,
    results: Any = UNSET,
) -> dict[str, Any]:
    # success answers of monitor calls carry no http_status, like the samples in reference §3
    out: dict[str, Any] = {"http_method": method}
    if results is not UNSET:
        out["results"] = results
    out.update({"vdom": vdom, "path": path, "name": name, "action": action})
    out["status"] = "success"
    out.update(_device(state))
    return out


def monitor_error(
    state: LabState,
    method: str,
    status: int,
    *,
    path: str,
    name: str,
    action: str,
    vdom: str,
    error: int | None = None,
) -> Reply:
    out: dict[str, Any] = {"http_method": method, "vdom": vdom, "path": path, "name": name}
    out.update({"action": action, "status": "error", "http_status": status})
    if error is not None:
        out["error"] = error
    out.update(_device(state))
    return json_reply(out, status)


def _device(state: LabState) -> dict[str, Any]:
    return {"serial": state.serial, "version": state.version, "build": state.build}
