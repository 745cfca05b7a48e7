"""Reading a FortiSnapshot: every FortiGate parser's one way to a table, an object or a field.

FortiOS answers 200 and silently leaves out the fields a token's profile may not read, so a
missing field is never taken as a default: it raises ``Unreadable`` naming the endpoint, the row
and the field, and the fact that needed it becomes ``None`` with that reason (an ``error``
finding). An endpoint that failed (``snapshot.problems``) or was not read raises the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from checks.fortigate.snapshot import FortiSnapshot, Scope

__all__ = ["Fields", "Unreadable", "attempt", "rows", "single"]

T = TypeVar("T")


class Unreadable(ValueError):
    """A fact cannot be told from what the unit answered; the message says why."""


def _answer(snapshot: FortiSnapshot, scope: Scope, path: str) -> Any:
    key = f"{scope} {path}"
    problem = snapshot.problem(scope, path)
    if problem:
        raise Unreadable(f"{key}: {problem}")
    store = snapshot.cmdb if scope == "cmdb" else snapshot.monitor
    if path not in store:
        raise Unreadable(f"{key} was not read from the unit")
    return store[path]


class Fields:
    """One object or table row of an answer; ``where`` names it in every message."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def has(self, field: str) -> bool:
        return field in self.data

    def raw(self, field: str) -> Any:
        if field not in self.data:
            raise Unreadable(
                f"{self.where}: field '{field}' missing from the answer (FortiOS leaves out"
                " fields the token's profile may not read)"
            )
        return self.data[field]

    def _wrong(self, field: str, value: Any, wanted: str) -> Unreadable:
        return Unreadable(f"{self.where}: field '{field}' is {value!r}, expected {wanted}")

    def text(self, field: str) -> str:
        value = self.raw(field)
        if not isinstance(value, str):
            raise self._wrong(field, value, "text")
        return value

    def number(self, field: str) -> int:
        value = self.raw(field)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(field, value, "a number")
        return value

    def on(self, field: str) -> bool:
        """An enable/disable option."""
        value = self.raw(field)
        if value not in ("enable", "disable"):
            raise self._wrong(field, value, "enable or disable")
        return bool(value == "enable")

    def choice(self, field: str, allowed: tuple[str, ...]) -> str:
        value = self.raw(field)
        if value not in allowed:
            raise self._wrong(field, value, " or ".join(allowed))
        return str(value)

    def words(self, field: str) -> tuple[str, ...]:
        """A multi-value option: FortiOS sends one space-separated string."""
        return tuple(self.text(field).split())

    def names(self, field: str) -> tuple[str, ...]:
        """A member list: ``[{"name": "port1", "q_origin_key": "port1"}, …]``."""
        return tuple(str(m.raw("name")) for m in self.members(field))

    def members(self, field: str) -> list[Fields]:
        """A member table (list of objects), each named by its position."""
        value = self.raw(field)
        if not isinstance(value, list) or not all(isinstance(m, Mapping) for m in value):
            raise self._wrong(field, value, "a list of objects")
        return [Fields(m, f"{self.where} {field}[{i}]") for i, m in enumerate(value)]

    def object(self, field: str) -> Fields:
        value = self.raw(field)
        if not isinstance(value, Mapping):
            raise self._wrong(field, value, "an object")
        return Fields(value, f"{self.where} {field}")


def single(snapshot: FortiSnapshot, path: str, scope: Scope = "cmdb") -> Fields:
    """A singleton's answer (``system/global``) or a monitor object."""
    value = _answer(snapshot, scope, path)
    if not isinstance(value, Mapping):
        raise Unreadable(f"{scope} {path}: expected an object, the unit answered a {_kind(value)}")
    return Fields(value, f"{scope} {path}")


def rows(
    snapshot: FortiSnapshot, path: str, key: str = "name", scope: Scope = "cmdb"
) -> list[Fields]:
    """A table's rows in the unit's order, each named by its mkey field ``key``."""
    value = _answer(snapshot, scope, path)
    if not isinstance(value, list) or not all(isinstance(r, Mapping) for r in value):
        raise Unreadable(f"{scope} {path}: expected a table, the unit answered a {_kind(value)}")
    out: list[Fields] = []
    for i, row in enumerate(value):
        mkey = row.get(key, row.get("q_origin_key"))  # naming only: None still reads as a row
        label = f"row {mkey!r}" if mkey is not None else f"row #{i + 1}"
        out.append(Fields(row, f"{scope} {path} {label}"))
    return out


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "object"
    return "list" if isinstance(value, list) else type(value).__name__


def attempt(problems: dict[str, str], name: str, read: Callable[[], T]) -> T | None:
    """``read()``, or None with the reason recorded as ``problems[name]``."""
    try:
        return read()
    except Unreadable as exc:
        problems[name] = str(exc)
        return None
