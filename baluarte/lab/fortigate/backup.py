"""The configuration backup: the state rendered as FortiOS CLI text, and in-memory revisions.

The text is deterministic for a given state (same state, same bytes) and reads like a real
backup: a ``#config-version=FGT60F-7.04-FW-build2702-231011:opmode=0:vdom=0:user=api-ro``
header, then ``config``/``edit``/``set``/``next``/``end`` blocks. The date in the header stands
for the firmware's build date; the emulator derives a fixed one from the version (synthetic).
Secrets appear as ``ENC <base64>`` of their sealed form, never in clear.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from baluarte.lab.fortigate.schema import NodeSchema
from baluarte.lab.fortigate.state import LabState, seal

__all__ = ["Revision", "Revisions", "cli_path", "config_text", "header", "render_node", "set_lines"]

_BARE = re.compile(r"[0-9.:/\- ]+")
# firmware train -> the year its builds come from (for the header's synthetic build date)
_YEARS = {(6, 0): 18, (6, 2): 19, (6, 4): 20, (7, 0): 21, (7, 2): 22, (7, 4): 23, (7, 6): 24}
_INDENT = "    "
_OPTION_WORDS = frozenset(
    {"enable", "disable", "block", "monitor", "pass", "allow", "deny", "accept", "reset", "none",
     "flow", "proxy", "all", "utm", "high", "medium", "low", "inline", "standalone"}
)  # fmt: skip


def header(state: LabState, user: str) -> str:
    major, minor, patch = (int(part) for part in state.version.lstrip("v").split("."))
    year = _YEARS.get((major, minor), 25)
    date = f"{year:02d}{1 + patch % 12:02d}{1 + state.build % 28:02d}"
    multi = 1 if len(state.vdom_names) > 1 else 0
    return (
        f"#config-version={state.model_name}-{major}.{minor:02d}-FW-build{state.build:04d}-{date}"
        f":opmode=0:vdom={multi}:user={user}"
    )


def config_text(
    state: LabState, *, user: str, scope: Literal["global", "vdom"] = "global", vdom: str = "root"
) -> str:
    """The backup file: everything (``global``) or one VDOM's configuration (``vdom``)."""
    cmdb = state.cmdb
    multi = len(state.vdom_names) > 1
    lines = [
        header(state, user),
        f"#conf_file_ver={int(state.revision[:12], 16)}",
        f"#buildno={state.build:04d}",
        "#global_vdom=1",
    ]
    vdoms = state.vdom_names if scope == "global" else [vdom]
    if multi and scope == "global":
        lines += ["config vdom", *(f"edit {name}\nnext" for name in vdoms), "end"]
    if scope == "global":
        block = _nodes(state, cmdb.global_)
        lines += ["config global", *block, "end"] if multi else block
    for name in vdoms:
        block = _nodes(state, cmdb.vdoms.get(name, {}))
        lines += ["config vdom", f"edit {name}", *block, "next", "end"] if multi else block
    return "\n".join(lines) + "\n"


def _nodes(state: LabState, nodes: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for path, results in nodes.items():
        schema = state.cmdb.schema(path)
        if schema is not None:
            out += render_node(path, schema, results)
    return out


def cli_path(path: str) -> str:
    """``firewall.service/custom`` -> ``firewall service custom``."""
    return path.replace(".", " ").replace("/", " ")


def render_node(path: str, schema: NodeSchema, results: Any, depth: int = 0) -> list[str]:
    pad = _INDENT * depth
    out = [f"{pad}config {cli_path(path)}"]
    if isinstance(results, list):
        for row in results:
            out.append(f"{pad}{_INDENT}edit {_edit_key(row.get(schema.mkey or 'name'))}")
            for key, value in row.items():
                if key != schema.mkey:
                    out += set_lines(key, value, schema, depth + 2)
            out.append(f"{pad}{_INDENT}next")
    else:
        for key, value in results.items():
            out += set_lines(key, value, schema, depth + 1)
    out.append(f"{pad}end")
    return out


def set_lines(key: str, value: Any, schema: NodeSchema, depth: int) -> list[str]:
    """The CLI lines for one field (``set …``, or a nested ``config … end`` block)."""
    pad = _INDENT * depth
    if key == "q_origin_key" or value is None or value == "" or value == []:
        return []
    if schema.is_secret(key) or (isinstance(value, str) and value.startswith("ENC ")):
        return [f"{pad}set {key} {seal(value)}"]
    if isinstance(value, bool):
        return [f"{pad}set {key} {'enable' if value else 'disable'}"]
    if isinstance(value, int | float):
        return [f"{pad}set {key} {value}"]
    if isinstance(value, str):
        return [f"{pad}set {key} {value if _bare(key, value, schema) else _quote(value)}"]
    if isinstance(value, Mapping):
        out = [f"{pad}config {key}"]
        for sub, inner in value.items():
            out += set_lines(sub, inner, schema, depth + 1)
        return [*out, f"{pad}end"]
    if all(isinstance(item, Mapping) and _is_member(item) for item in value):
        names = [next(v for k, v in item.items() if k != "q_origin_key") for item in value]
        return [f"{pad}set {key} {' '.join(_quote(str(n)) for n in names)}"]
    if all(isinstance(item, Mapping) for item in value):
        out = [f"{pad}config {key}"]
        for index, item in enumerate(value, 1):
            ident = item.get("q_origin_key", item.get("id", item.get("name", index)))
            out.append(f"{pad}{_INDENT}edit {_edit_key(ident)}")
            for sub, inner in item.items():
                if sub not in ("q_origin_key", "id", "name") or inner != ident:
                    out += set_lines(sub, inner, schema, depth + 2)
            out.append(f"{pad}{_INDENT}next")
        return [*out, f"{pad}end"]
    return [f"{pad}set {key} {' '.join(_quote(str(item)) for item in value)}"]


def _bare(key: str, value: str, schema: NodeSchema) -> bool:
    """FortiOS prints option values, addresses and numbers bare, names and free text quoted."""
    if key in schema.refs:
        return False
    if key in schema.enums or key in schema.multi or _BARE.fullmatch(value):
        return True
    return value in _OPTION_WORDS  # options of nested objects the schema does not declare


def _is_member(item: Mapping[str, Any]) -> bool:
    keys = [key for key in item if key != "q_origin_key"]
    return len(keys) == 1 and not isinstance(item[keys[0]], Mapping | list)


def _edit_key(key: Any) -> str:
    return str(key) if isinstance(key, int) else _quote(str(key))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Revision:
    id: int
    time: int
    admin: str
    comments: str
    version: str
    text: str = field(repr=False)

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": self.time,
            "admin": self.admin,
            "comments": self.comments,
            "version": self.version,
        }


class Revisions:
    """``monitor/system/config-revision``: saved copies of the configuration text."""

    def __init__(self) -> None:
        self._saved: list[Revision] = []

    def save(self, state: LabState, admin: str, comments: str) -> Revision:
        revision = Revision(
            id=max((r.id for r in self._saved), default=0) + 1,
            time=int(time.time()),
            admin=admin,
            comments=comments,
            version=f"{state.version} build{state.build}",
            text=config_text(state, user=admin),
        )
        self._saved.append(revision)
        return revision

    def all(self) -> list[Revision]:
        return list(self._saved)

    def delete(self, ids: Iterable[int]) -> int:
        wanted = set(ids)
        before = len(self._saved)
        self._saved = [r for r in self._saved if r.id not in wanted]
        return before - len(self._saved)

    def get(self, config_id: int) -> Revision | None:
        return next((r for r in self._saved if r.id == config_id), None)
