"""A calendar month, as the executive report covers it: its days in the client's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from baluarte.errors import InputError

__all__ = ["Month"]

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9998:
            raise ValueError(f"no such month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str, option: str = "--month") -> Month:
        """``YYYY-MM``; an InputError naming ``option`` otherwise (the CLI's exit 2)."""
        found = _MONTH.fullmatch(text.strip())
        if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1:
            raise InputError(
                f"{text!r} is not a month: expected YYYY-MM, e.g. 2026-11",
                code="wrong_value",
                key=option,
                allowed="YYYY-MM",
            )
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def before(cls, day: date) -> Month:
        """The calendar month before the one ``day`` is in."""
        return cls.of(day).previous

    @property
    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    @property
    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def start(self, tz: tzinfo) -> datetime:
        """The month's first instant where the client is."""
        return datetime.combine(self.first_day, time(), tz)

    def end(self, tz: tzinfo) -> datetime:
        """The instant the month ends where the client is (the next month's first)."""
        return self.next.start(tz)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
