"""The emulated unit's state: a state file loaded, checked, kept live, and written back.

A state file is the device image the emulator serves::

    {"version": "v7.4.5", "build": 2702, "serial": "FGT60F…", "hostname": "fw-hq",
     "model": "FGT60F",                                   # optional
     "global": {"system/global": {...}, "system/admin": [...]},
     "vdoms": {"root": {"firewall/policy": [...]}},
     "monitor": {"license/status": {...}}}

Each cmdb value is exactly the ``results`` member of that GET's answer. ``LabState.to_dict()``
gives the same format back (secrets written through the API are stored sealed, never in clear).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from baluarte.errors import LabError
from baluarte.lab.fortigate.nodes import infer, lookup
from baluarte.lab.fortigate.schema import NodeSchema

__all__ = ["Cmdb", "LabState", "load_state", "present_secret", "seal"]

_KEYS = ("version", "build", "serial", "hostname", "model", "global", "vdoms", "monitor")
_VERSION = re.compile(r"^v\d+\.\d+\.\d+$")


def seal(value: Any) -> str:
    """How a secret written through the API is stored: ``ENC`` + a digest, never the value."""
    text = str(value)
    if text.startswith("ENC "):
        return text
    digest = hashlib.sha256(b"baluarte-lab:" + text.encode()).digest()
    return "ENC " + base64.b64encode(digest).decode()


def present_secret() -> str:
    """What a read shows for a secret: a fresh ``ENC <base64>`` on every read, like FortiOS."""
    return "ENC " + base64.b64encode(secrets.token_bytes(48)).decode()


class Cmdb:
    """The configuration tree: global nodes and one dict of nodes per VDOM (path -> results)."""

    def __init__(self, global_: dict[str, Any], vdoms: dict[str, dict[str, Any]]) -> None:
        self.global_ = global_
        self.vdoms = vdoms
        self._inferred: dict[str, NodeSchema] = {}

    def copy(self) -> Cmdb:
        twin = Cmdb(copy.deepcopy(self.global_), copy.deepcopy(self.vdoms))
        twin._inferred = self._inferred
        return twin

    def schema(self, path: str) -> NodeSchema | None:
        """The curated schema, or one inferred from where the state holds the path."""
        known = lookup(path)
        if known is not None:
            return known
        if path in self._inferred:
            return self._inferred[path]
        if path in self.global_:
            found = infer(path, self.global_[path], "global")
        else:
            holders = [nodes for nodes in self.vdoms.values() if path in nodes]
            if not holders:
                return None
            found = infer(path, holders[0][path], "vdom")
        self._inferred[path] = found
        return found

    def container(self, path: str, vdom: str, schema: NodeSchema) -> dict[str, Any]:
        """The dict that holds (or will hold) ``path`` for ``vdom``."""
        nodes = self.vdoms[vdom]
        if path in nodes:
            return nodes
        if path in self.global_ or schema.scope == "global":
            return self.global_
        return nodes

    def results(self, path: str, vdom: str, schema: NodeSchema) -> Any:
        """The stored results (a list of rows or an object); empty when the state has none."""
        stored = self.container(path, vdom, schema).get(path)
        if stored is None:
            return [] if schema.table else {}
        return stored

    def names(self, target: str, vdom: str) -> set[str] | None:
        """The mkeys of ``target`` (``path`` or ``path#child``); None when the state lacks it."""
        path, _, child = target.partition("#")
        schema = self.schema(path)
        if schema is None:
            return None
        holder = self.container(path, vdom, schema)
        if path not in holder:
            return None
        stored = holder[path]
        if child:
            rows = stored.get(child, []) if isinstance(stored, dict) else []
            return {str(row.get("name")) for row in rows if isinstance(row, dict)}
        if not isinstance(stored, list) or schema.mkey is None:
            return None
        return {str(row.get(schema.mkey)) for row in stored if isinstance(row, dict)}


class LabState:
    """The live state of one emulated unit, guarded by ``lock``."""

    def __init__(
        self,
        *,
        version: str,
        build: int,
        serial: str,
        hostname: str | None,
        model: str | None,
        cmdb: Cmdb,
        monitor: dict[str, Any],
    ) -> None:
        self.version = version
        self.build = build
        self.serial = serial
        self.model = model
        self._hostname = hostname
        self.cmdb = cmdb
        self.monitor = monitor
        self.lock = threading.RLock()
        self._counter = 0

    @property
    def revision(self) -> str:
        """The configuration checksum: 32 hex digits, changing on every write that changes."""
        seed = f"{self.serial}:{self._counter}".encode()
        return hashlib.md5(seed, usedforsecurity=False).hexdigest()

    def bump(self) -> None:
        self._counter += 1

    @property
    def hostname(self) -> str:
        live = self.cmdb.global_.get("system/global")
        if isinstance(live, dict) and isinstance(live.get("hostname"), str):
            return str(live["hostname"])
        return self._hostname or self.serial

    @property
    def model_name(self) -> str:
        """``FGT60F``: the state's model, else guessed from the serial's first six characters."""
        return self.model or self.serial[:6]

    @property
    def vdom_names(self) -> list[str]:
        return list(self.cmdb.vdoms)

    @property
    def management_vdom(self) -> str:
        settings = self.cmdb.global_.get("system/global")
        wanted = settings.get("management-vdom") if isinstance(settings, dict) else None
        if isinstance(wanted, str) and wanted in self.cmdb.vdoms:
            return wanted
        return "root" if "root" in self.cmdb.vdoms else self.vdom_names[0]

    def to_dict(self) -> dict[str, Any]:
        """The state-file format (``load_state(s.to_dict())`` gives an equal state)."""
        with self.lock:
            out: dict[str, Any] = {
                "version": self.version,
                "build": self.build,
                "serial": self.serial,
                "hostname": self.hostname,
            }
            if self.model is not None:
                out["model"] = self.model
            out["global"] = copy.deepcopy(self.cmdb.global_)
            out["vdoms"] = copy.deepcopy(self.cmdb.vdoms)
            out["monitor"] = copy.deepcopy(self.monitor)
            return out


def load_state(source: str | Path | Mapping[str, Any] | LabState) -> LabState:
    """A fresh ``LabState`` from a state file (path) or dict; ``LabError`` says what is wrong."""
    if isinstance(source, LabState):
        return load_state(source.to_dict())
    where = "state"
    if isinstance(source, str | Path):
        where = str(source)
        data = _read_json(Path(source))
    else:
        data = source
    return _build(data, where)


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LabError(f"{path}: state file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LabError(f"{path}: cannot read the state file ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None


def _build(data: Any, where: str) -> LabState:
    if not isinstance(data, Mapping):
        raise LabError(f"{where}: a state must be a JSON object, not {_kind(data)}")
    unknown = [key for key in data if key not in _KEYS]
    if unknown:
        raise LabError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(_KEYS)})")
    for key in ("version", "build", "serial"):
        if key not in data:
            raise LabError(f"{where}: missing key {key!r}")
    version, build, serial = data["version"], data["build"], data["serial"]
    if not isinstance(version, str) or not _VERSION.match(version):
        raise LabError(f"{where}: version must look like 'v7.4.5', not {version!r}")
    if not isinstance(build, int) or isinstance(build, bool) or build < 0:
        raise LabError(f"{where}: build must be a non-negative integer, not {build!r}")
    if not isinstance(serial, str) or not serial:
        raise LabError(f"{where}: serial must be a non-empty string")
    for key in ("hostname", "model"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise LabError(f"{where}: {key} must be a string, not {_kind(data[key])}")
    global_ = _nodes(data.get("global", {}), f"{where}: global")
    vdoms_in = data.get("vdoms", {"root": {}})
    if not isinstance(vdoms_in, Mapping) or not vdoms_in:
        raise LabError(f"{where}: vdoms must be an object with at least one VDOM (e.g. 'root')")
    vdoms = {str(name): _nodes(nodes, f"{where}: vdoms.{name}") for name, nodes in vdoms_in.items()}
    monitor = data.get("monitor", {})
    if not isinstance(monitor, Mapping):
        raise LabError(f"{where}: monitor must be an object (path -> results)")
    return LabState(
        version=version,
        build=build,
        serial=serial,
        hostname=data.get("hostname"),
        model=data.get("model"),
        cmdb=Cmdb(global_, vdoms),
        monitor=copy.deepcopy(dict(monitor)),
    )


def _nodes(nodes: Any, where: str) -> dict[str, Any]:
    if not isinstance(nodes, Mapping):
        raise LabError(f"{where} must be an object (cmdb path -> results), not {_kind(nodes)}")
    out: dict[str, Any] = {}
    for path, results in nodes.items():
        if not isinstance(path, str) or "/" not in path or path.startswith("/"):
            raise LabError(f"{where}: {path!r} is not a cmdb path like 'firewall/policy'")
        if isinstance(results, list):
            if not all(isinstance(row, Mapping) for row in results):
                raise LabError(f"{where}[{path!r}]: every row of a table must be an object")
        elif not isinstance(results, Mapping):
            raise LabError(
                f"{where}[{path!r}]: results must be a list of rows or an object, "
                f"not {_kind(results)}"
            )
        out[path] = copy.deepcopy(results)
    return out


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else type(value).__name__
