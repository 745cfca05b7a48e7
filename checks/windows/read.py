"""Reading the Windows check document: every Windows parser's one way to a check's fields.

A check that failed on the host (``ok: false``) raises ``Unreadable`` with the host's own error
message; a field missing from a check's data (or of the wrong type) raises it naming the check
and the field. The fact that needed it becomes ``None`` with that reason: an ``error`` finding
for the controls that read it, and only those. A field may be ``null`` only where the parser
reads it with an ``optional_…`` method (PowerShell gives ``$null`` for an absent registry value).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

__all__ = ["Fields", "Unreadable", "attempt", "check", "check_rows", "host_now", "when"]

T = TypeVar("T")


class Unreadable(ValueError):
    """A fact cannot be told from what the host answered; the message says why."""


def when(text: str) -> datetime:
    """An ISO 8601 date as PowerShell's ``'o'`` format writes it (7 fraction digits, Z)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    head, dot, rest = value.partition(".")
    if dot:
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        zone = rest[len(digits) :]
        value = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return at


class Fields:
    """One object of a check's data; ``where`` names it in every message."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def raw(self, field: str) -> Any:
        if field not in self.data:
            raise Unreadable(f"{self.where}: field '{field}' missing from the check's data")
        return self.data[field]

    def _wrong(self, field: str, value: Any, wanted: str) -> Unreadable:
        return Unreadable(f"{self.where}: field '{field}' is {value!r}, expected {wanted}")

    def _present(self, field: str, wanted: str) -> Any:
        value = self.raw(field)
        if value is None:
            raise self._wrong(field, value, wanted)
        return value

    def text(self, field: str) -> str:
        value = self._present(field, "text")
        if not isinstance(value, str):
            raise self._wrong(field, value, "text")
        return value

    def optional_text(self, field: str) -> str | None:
        return None if self.raw(field) is None else self.text(field)

    def number(self, field: str) -> int:
        value = self._present(field, "a whole number")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(field, value, "a whole number")
        return value

    def optional_number(self, field: str) -> int | None:
        return None if self.raw(field) is None else self.number(field)

    def real(self, field: str) -> float:
        value = self._present(field, "a number")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._wrong(field, value, "a number")
        return float(value)

    def optional_real(self, field: str) -> float | None:
        return None if self.raw(field) is None else self.real(field)

    def flag(self, field: str) -> bool:
        value = self._present(field, "true or false")
        if not isinstance(value, bool):
            raise self._wrong(field, value, "true or false")
        return value

    def optional_flag(self, field: str) -> bool | None:
        return None if self.raw(field) is None else self.flag(field)

    def date(self, field: str) -> datetime:
        text = self.text(field)
        try:
            return when(text)
        except ValueError as exc:
            raise self._wrong(field, text, "an ISO 8601 date with its time zone") from exc

    def optional_date(self, field: str) -> datetime | None:
        return None if self.raw(field) is None else self.date(field)

    def strings(self, field: str) -> tuple[str, ...]:
        value = self._present(field, "a list of text")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._wrong(field, value, "a list of text")
        return tuple(value)

    def items(self, field: str) -> list[Fields]:
        """A list of objects, each named by its position."""
        value = self._present(field, "a list of objects")
        return _rows(value, f"{self.where} {field}", lambda v: self._wrong(field, v, "a list"))

    def object(self, field: str) -> Fields:
        value = self._present(field, "an object")
        if not isinstance(value, Mapping):
            raise self._wrong(field, value, "an object")
        return Fields(value, f"{self.where} {field}")

    def optional_object(self, field: str) -> Fields | None:
        return None if self.raw(field) is None else self.object(field)


def _rows(value: Any, where: str, wrong: Callable[[Any], Unreadable]) -> list[Fields]:
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise wrong(value)
    return [Fields(v, f"{where}[{i}]") for i, v in enumerate(value)]


def _data(document: Mapping[str, Any], check_id: str) -> Any:
    entry = document["checks"][check_id]
    if not entry["ok"]:
        error = str(entry.get("error") or "no message").strip()
        raise Unreadable(f"check {check_id} failed on the host: {error}")
    return entry["data"]


def check(document: Mapping[str, Any], check_id: str) -> Fields:
    """A check's data when it is one object (most checks)."""
    data = _data(document, check_id)
    if not isinstance(data, Mapping):
        raise Unreadable(f"check {check_id}: its data is not an object")
    return Fields(data, check_id)


def check_rows(document: Mapping[str, Any], check_id: str) -> list[Fields]:
    """A check's data when it is a list of objects (``firewall.profiles``)."""
    data = _data(document, check_id)
    return _rows(data, check_id, lambda v: Unreadable(f"check {check_id}: its data is not a list"))


def host_now(document: Mapping[str, Any]) -> datetime:
    """The host's clock when the script ran: what ages are measured against."""
    return Fields(document["host"], "host").date("Now")


def attempt(problems: dict[str, str], name: str, read: Callable[[], T]) -> T | None:
    """``read()``, or None with the reason recorded as ``problems[name]``."""
    try:
        return read()
    except Unreadable as exc:
        problems[name] = str(exc)
        return None
