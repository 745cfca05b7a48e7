"""cmdb writes on a configuration tree: create, update, delete, move, clone (reference §1.7).

Each write is a ``WriteOp`` applied by ``apply`` to a ``Cmdb`` — the live one, or a transaction's
shadow copy (which is why a write is data: a transaction replays its writes at commit).
Failures raise ``WriteFailure`` with the HTTP status and FortiOS error code to answer:

=====================================================  ======  =======
failure                                                HTTP    error
=====================================================  ======  =======
no such row (PUT, DELETE, move, clone source)          404     -3
duplicate mkey (POST, clone, rename)                   500     -5
unknown field, bad enum, out of range, bad type        500     -651
missing name on POST                                   500     -20
a reference to a missing object (POST, PUT)            424     -3
move without exactly one of before/after; bad target   500     -651 / -3
DELETE of a referenced object                          500     -23
=====================================================  ======  =======
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from baluarte.lab.fortigate.schema import BUILTIN_NAMES, NodeSchema
from baluarte.lab.fortigate.state import Cmdb, seal

__all__ = ["WriteFailure", "WriteOp", "WriteResult", "apply", "find_row", "references_to"]

Kind = Literal["create", "update", "delete", "move", "clone"]


class WriteFailure(Exception):
    def __init__(self, status: int, error: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error


@dataclass(frozen=True)
class WriteOp:
    kind: Kind
    path: str
    vdom: str
    mkey: str | None = None  # raw (decoded) URL segment; None on a table root or a singleton
    data: Mapping[str, Any] = field(default_factory=dict)
    before: str | None = None
    after: str | None = None
    nkey: str | None = None


@dataclass(frozen=True)
class WriteResult:
    mkey: Any
    changed: bool


def apply(cmdb: Cmdb, op: WriteOp) -> WriteResult:
    schema = cmdb.schema(op.path)
    if schema is None:
        raise WriteFailure(404, -3, f"unknown path {op.path}")
    handler = {
        "create": _create,
        "update": _update,
        "delete": _delete,
        "move": _move,
        "clone": _clone,
    }[op.kind]
    return handler(cmdb, schema, op)


def find_row(rows: list[dict[str, Any]], schema: NodeSchema, mkey: str) -> int | None:
    for index, row in enumerate(rows):
        key = row.get(schema.mkey or "name", row.get("q_origin_key"))
        if str(key) == mkey:
            return index
    return None


def references_to(cmdb: Cmdb, path: str, vdom: str, name: str) -> list[str]:
    """Which rows name ``path``'s object ``name`` ("firewall/policy 7", "firewall/addrgrp lan")."""
    found: list[str] = []
    for holder_path, schema, results in _nodes_around(cmdb, path, vdom):
        rows = results if isinstance(results, list) else [results]
        for row in rows:
            if not isinstance(row, dict) or not _refers(schema, row, path, name):
                continue
            label = f"{holder_path} {row.get(schema.mkey)}" if schema.table else holder_path
            found.append(label)
    return found


# -- the five writes ----------------------------------------------------------------------------


def _table(cmdb: Cmdb, schema: NodeSchema, op: WriteOp) -> list[dict[str, Any]]:
    holder = cmdb.container(op.path, op.vdom, schema)
    rows = holder.setdefault(op.path, [])
    if not isinstance(rows, list):
        raise WriteFailure(405, -1, f"{op.path} is not a table")
    return rows


def _create(cmdb: Cmdb, schema: NodeSchema, op: WriteOp) -> WriteResult:
    if not schema.table or op.mkey is not None:
        raise WriteFailure(405, -1, "POST creates rows of a table")
    rows = _table(cmdb, schema, op)
    mkey_name = schema.mkey or "name"
    data = _validated(cmdb, schema, op, rows)
    key = data.get(mkey_name)
    if schema.mkey_type == "integer" and not key:
        key = max((int(row.get(mkey_name) or 0) for row in rows), default=0) + 1
    elif schema.mkey_type == "string" and (key is None or key == ""):
        raise WriteFailure(500, -20, f"{mkey_name} is required")
    if find_row(rows, schema, str(key)) is not None:
        raise WriteFailure(500, -5, f"{key} already exists")
    row: dict[str, Any] = {mkey_name: key, "q_origin_key": key}
    row.update(copy.deepcopy(dict(schema.defaults)) if schema.known else {})
    if "uuid" in schema.fields and "uuid" not in data:
        row["uuid"] = str(uuid.uuid4())
    row.update(data)
    row[mkey_name] = row["q_origin_key"] = key
    rows.append(row)
    return WriteResult(key, True)


def _update(cmdb: Cmdb, schema: NodeSchema, op: WriteOp) -> WriteResult:
    if not schema.table:
        if op.mkey is not None:
            raise WriteFailure(404, -3, f"{op.path} has no rows")
        holder = cmdb.container(op.path, op.vdom, schema)
        current = holder.setdefault(op.path, {})
        before = copy.deepcopy(current)
        current.update(_validated(cmdb, schema, op, [current]))
        return WriteResult(None, current != before)
    if op.mkey is None:
        raise WriteFailure(405, -1, "PUT needs the row's mkey in the URL")
    rows = _table(cmdb, schema, op)
    index = find_row(rows, schema, op.mkey)
    if index is None:
        raise WriteFailure(404, -3, f"{op.mkey} not found")
    row = rows[index]
    before = copy.deepcopy(row)
    data = _validated(cmdb, schema, op, rows)
    mkey_name = schema.mkey or "name"
    new_key = data.pop(mkey_name, row.get(mkey_name))
    if str(new_key) != str(row.get(mkey_name)):
        if find_row(rows, schema, str(new_key)) is not None:
            raise WriteFailure(500, -5, f"{new_key} already exists")
        row[mkey_name] = row["q_origin_key"] = new_key
    row.update(data)
    return WriteResult(row.get(mkey_name), row != before)


def _delete(cmdb: Cmdb, schema: NodeSchema, op: WriteOp) -> WriteResult:
    if not schema.table or op.mkey is None:
        raise WriteFailure(405, -1, "DELETE needs a row of a table")
    rows = _table(cmdb, schema, op)
    index = find_row(rows, schema, op.mkey)
    if index is None:
        raise WriteFailure(404, -3, f"{op.mkey} not found")
    key = rows[index].get(schema.mkey or "name")
    users = references_to(cmdb, op.path, op.vdom, str(key))
    if users:
        raise WriteFailure(500, -23, f"{key} is used by {', '.join(users)}")
    del rows[index]
    return WriteResult(key, True)


def _move(cmdb: Cmdb, schema: NodeSchema, op: WriteOp) -> WriteResult:
    if not schema.table or op.mkey is None:
        raise WriteFailure(405, -1, "move needs a row of a table")
    rows = _table(cmdb, schema, op)
    index = find_row(rows, schema, op.mkey)
    if index is None:
        raise WriteFailure(404, -3, f"{op.mkey} not found")
    if (op.before is None) == (op.after is None):
        raise WriteFailure(500, -651, "move takes exactly one of before= and after=")
    target = op.before if op.before is not None else op.after
    if find_row(rows, schema, str(target)) is None:
        raise WriteFailure(500, -3, f"{target} not found")
    order = [id(row) for row in rows]
    row = rows.pop(index)
    at = find_row(rows, schema, str(target))
    assert at is not None  # the target is not the row moved: it was found before the pop
    rows.insert(at if op.before is not None else at + 1, row)
    return WriteResult(row.get(schema.mkey or "name"), [id(r) for r in rows] != order)


def _clone(cmdb: Cmdb, schema: NodeSchema, op: WriteOp) -> WriteResult:
    if not schema.table or op.mkey is None:
        raise WriteFailure(405, -1, "clone needs a row of a table")
    rows = _table(cmdb, schema, op)
    index = find_row(rows, schema, op.mkey)
    if index is None:
        raise WriteFailure(404, -3, f"{op.mkey} not found")
    if not op.nkey:
        raise WriteFailure(500, -651, "clone needs nkey=")
    mkey_name = schema.mkey or "name"
    key = _mkey_value(schema, op.nkey)
    if find_row(rows, schema, str(key)) is not None:
        raise WriteFailure(500, -5, f"{key} already exists")
    row = copy.deepcopy(rows[index])
    row[mkey_name] = row["q_origin_key"] = key
    if "uuid" in row:
        row["uuid"] = str(uuid.uuid4())
    rows.append(row)
    return WriteResult(key, True)


# -- validation ---------------------------------------------------------------------------------


def _validated(
    cmdb: Cmdb, schema: NodeSchema, op: WriteOp, existing: list[dict[str, Any]]
) -> dict[str, Any]:
    """The body's fields checked against the schema and normalised as FortiOS stores them."""
    if not isinstance(op.data, Mapping):
        raise WriteFailure(500, -651, "the body must be a JSON object")
    seen = {key for row in existing for key in row}
    known = schema.fields | seen
    check_names = schema.known or bool(seen)
    out: dict[str, Any] = {}
    for key, value in op.data.items():
        if key == "q_origin_key":
            continue
        if check_names and key not in known:
            raise WriteFailure(500, -651, f"unknown attribute {key!r}")
        out[key] = _value(cmdb, schema, op.vdom, key, value)
    return out


def _value(cmdb: Cmdb, schema: NodeSchema, vdom: str, key: str, value: Any) -> Any:
    if key == schema.mkey:
        return _mkey_value(schema, value)
    if schema.is_secret(key) and isinstance(value, str | int):
        return seal(value)
    if key in schema.members:
        return _members(cmdb, schema, vdom, key, value)
    if key in schema.multi:
        words = value if isinstance(value, list) else str(value).split()
        bad = [w for w in map(str, words) if w not in schema.multi[key]]
        if bad:
            raise WriteFailure(500, -651, f"{key}: invalid value {bad[0]!r}")
        return " ".join(map(str, words))
    if key in schema.enums and (not isinstance(value, str) or value not in schema.enums[key]):
        raise WriteFailure(500, -651, f"{key}: invalid value {value!r}")
    if key in schema.ints:
        return _integer(key, value, schema.ints[key])
    if key in schema.refs and value:
        _check_reference(cmdb, schema.refs[key], vdom, key, str(value))
    if key in schema.children and isinstance(value, list):
        return [_child(item, schema.children[key]) for item in value]
    return copy.deepcopy(value)


def _mkey_value(schema: NodeSchema, value: Any) -> Any:
    if schema.mkey_type != "integer":
        return str(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise WriteFailure(500, -651, f"{schema.mkey} must be a number") from None


def _integer(key: str, value: Any, bounds: tuple[int, int]) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise WriteFailure(500, -651, f"{key} must be a number") from None
    if isinstance(value, bool) or not bounds[0] <= number <= bounds[1]:
        raise WriteFailure(500, -651, f"{key} must be within {bounds[0]}-{bounds[1]}")
    return number


def _members(cmdb: Cmdb, schema: NodeSchema, vdom: str, key: str, value: Any) -> Any:
    if not isinstance(value, list):
        raise WriteFailure(500, -651, f"{key} must be a list of members")
    spec = schema.members[key]
    out = []
    for item in value:
        name = item.get(spec.key) if isinstance(item, Mapping) else item
        if not isinstance(name, str | int) or str(name) == "":
            raise WriteFailure(500, -651, f"{key}: every member needs a {spec.key}")
        _check_reference(cmdb, spec.targets, vdom, key, str(name))
        out.append({spec.key: str(name), "q_origin_key": str(name)})
    return out


def _child(item: Any, mkey: str) -> Any:
    if isinstance(item, Mapping) and mkey in item:
        return {**item, "q_origin_key": item[mkey]}
    return copy.deepcopy(item)


def _check_reference(cmdb: Cmdb, targets: tuple[str, ...], vdom: str, key: str, name: str) -> None:
    """A name must exist in one of the targets (lenient when the state has none of them)."""
    known_any = False
    for target in targets:
        if name in BUILTIN_NAMES.get(target, ()):
            return
        names = cmdb.names(target, vdom)
        if names is None:
            continue
        known_any = True
        if name in names:
            return
    if known_any:
        raise WriteFailure(424, -3, f"{key}: {name!r} does not exist")


def _refers(schema: NodeSchema, row: Mapping[str, Any], path: str, name: str) -> bool:
    for key, spec in schema.members.items():
        members = row.get(key) if path in spec.targets else None
        if isinstance(members, list) and any(
            isinstance(m, Mapping) and str(m.get(spec.key)) == name for m in members
        ):
            return True
    return any(
        path in targets and str(row.get(key)) == name for key, targets in schema.refs.items()
    )


def _nodes_around(cmdb: Cmdb, path: str, vdom: str) -> Iterator[tuple[str, NodeSchema, Any]]:
    """Every node that may refer to ``path``: global ones, and those of the VDOMs concerned."""
    target = cmdb.schema(path)
    holders = [cmdb.global_]
    if target is not None and target.scope == "global":
        holders += list(cmdb.vdoms.values())
    else:
        holders.append(cmdb.vdoms[vdom])
    for holder in holders:
        for holder_path, results in holder.items():
            schema = cmdb.schema(holder_path)
            if schema is not None and (schema.members or schema.refs):
                yield holder_path, schema, results
