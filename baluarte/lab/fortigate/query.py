"""GET query parameters on cmdb tables: ``filter``, ``format``, ``start``/``count`` (ref. §1.6).

``filter=<key><op><pattern>``: ``==`` (case-insensitive), ``!=``, ``=@`` (contains), ``!@``,
``<``, ``<=``, ``>``, ``>=`` (numeric when both sides are numbers), and the newer ``=*``/``!*``
(same as ``==``/``!=`` here). Commas inside one ``filter`` OR conditions (``\\,`` is a literal
comma); repeated ``filter`` parameters AND them. A member list matches when any member does.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Condition", "QueryError", "matches", "page", "parse_filters", "pick_fields"]

_OPERATORS = ("==", "!=", "=@", "!@", "=*", "!*", "<=", ">=", "<", ">")
_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class QueryError(ValueError):
    """A query parameter the API cannot process (answered with 400)."""


@dataclass(frozen=True)
class Condition:
    key: str
    op: str
    pattern: str

    def test(self, row: Mapping[str, Any]) -> bool:
        values = _values(row.get(self.key))
        pattern = self.pattern.lower()
        if self.op in ("==", "=*"):
            return any(v.lower() == pattern for v in values)
        if self.op in ("!=", "!*"):
            return not any(v.lower() == pattern for v in values)
        if self.op == "=@":
            return any(pattern in v.lower() for v in values)
        if self.op == "!@":
            return not any(pattern in v.lower() for v in values)
        return any(_compare(v, self.op, self.pattern) for v in values)


def parse_filters(raw: Sequence[str]) -> list[list[Condition]]:
    """Each ``filter`` value becomes a list of OR-ed conditions; the lists are AND-ed."""
    return [[_condition(part) for part in _split_commas(value)] for value in raw if value]


def matches(row: Mapping[str, Any], filters: Sequence[Sequence[Condition]]) -> bool:
    return all(any(cond.test(row) for cond in any_of) for any_of in filters)


def pick_fields(row: Mapping[str, Any], fields: str | None) -> dict[str, Any]:
    """``format=a|b|c``: only those fields (and ``q_origin_key``)."""
    if not fields:
        return dict(row)
    wanted = {name for name in fields.split("|") if name} | {"q_origin_key"}
    return {key: value for key, value in row.items() if key in wanted}


def page(rows: list[Any], start: str | None, count: str | None) -> list[Any]:
    """``start``/``count`` paging over the rows already filtered."""
    first = _natural(start, "start") or 0
    size = _natural(count, "count")
    return rows[first:] if size is None else rows[first : first + size]


def _natural(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise QueryError(f"{name} must be a number") from None
    if number < 0:
        raise QueryError(f"{name} must not be negative")
    return number


def _split_commas(value: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _condition(text: str) -> Condition:
    best: tuple[int, str] | None = None
    for op in _OPERATORS:
        at = text.find(op)
        if at > 0 and (best is None or at < best[0] or (at == best[0] and len(op) > len(best[1]))):
            best = (at, op)
    if best is None:
        raise QueryError(f"filter {text!r} has no operator (==, !=, =@, !@, <, <=, >, >=)")
    at, op = best
    return Condition(text[:at], op, text[at + len(op) :])


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, Mapping):
                name = item.get("q_origin_key", item.get("name"))
                if name is not None:
                    out.append(str(name))
            else:
                out.append(str(item))
        return out
    if isinstance(value, Mapping):
        return []
    return [str(value)]


def _compare(value: str, op: str, pattern: str) -> bool:
    try:
        return bool(_COMPARE[op](float(value), float(pattern)))
    except ValueError:
        return bool(_COMPARE[op](value, pattern))
