"""Response targets: how soon drift must be remediated, counted in business hours.

A provider sells "4 business hours for servers, 8 for the rest": time that runs only within
working hours, on working days that are not public holidays. ``BusinessCalendar`` counts that
time in the service's time zone (Spain's national holidays, and a region's when one is named,
from the ``holidays`` package; the provider's own days off on top). ``ResponseTargets`` picks
each device's target from ``sla:`` (first match by tags or platform; none: 8 hours, normal) and
dates drift with it. Pure: no store, no clock.

Arithmetic is done in UTC: Python subtracts two aware datetimes of the same zone by their wall
clocks, which is an hour wrong across a change to or from summer time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING

from baluarte.timezones import DEFAULT_TIMEZONE, zone

if TYPE_CHECKING:
    from baluarte.service.config import BusinessCalendarSettings, ServeConfig, SlaSettings

__all__ = [
    "DEFAULT_TARGET",
    "PRIORITIES",
    "BusinessCalendar",
    "ResponseTargets",
    "Target",
    "most_urgent",
    "priority_rank",
    "response_targets",
]

PRIORITIES: tuple[str, ...] = ("critical", "high", "normal", "low")  # most urgent first
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3660  # a calendar with no working day in ten years has none at all


@dataclass(frozen=True)
class Target:
    """A response target: business hours to remediate, and the priority a ticket gets."""

    hours: float
    priority: str = "normal"


DEFAULT_TARGET = Target(8.0, "normal")


def priority_rank(priority: str | None) -> int:
    """0 for the most urgent priority; unknown or None after every known one."""
    return PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES)


def most_urgent(priorities: Iterable[str | None]) -> str | None:
    known = [p for p in priorities if p in PRIORITIES]
    return min(known, key=priority_rank) if known else None


@cache
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays  # a large package: loaded at the first date asked about

    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry its time zone")
    return value.astimezone(UTC)


class BusinessCalendar:
    """Working hours (``opens`` to ``closes``; ``closes`` None: midnight) on ``weekdays``
    (0 Monday … 6 Sunday), in ``timezone``, less ``country``'s and ``subdivision``'s public
    holidays and ``extra_holidays``."""

    def __init__(
        self,
        timezone: str = DEFAULT_TIMEZONE,
        *,
        opens: time = time(9),
        closes: time | None = time(18),
        weekdays: Iterable[int] = range(5),
        country: str | None = "ES",
        subdivision: str | None = None,
        extra_holidays: Iterable[date] = (),
    ) -> None:
        if closes is not None and closes <= opens:
            raise ValueError("the working day must end after it starts")
        self.timezone = timezone
        self.tz = zone(timezone)
        self.opens = opens
        self.closes = closes
        self.weekdays = frozenset(weekdays)
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValueError("working days are 0 (Monday) to 6 (Sunday), at least one")
        self.country = country
        self.subdivision = subdivision
        self.extra_holidays = frozenset(extra_holidays)

    @classmethod
    def from_settings(cls, settings: BusinessCalendarSettings, timezone: str) -> BusinessCalendar:
        start, end = settings.hours.split("-")
        return cls(
            timezone,
            opens=time.fromisoformat(start),
            closes=None if end == "24:00" else time.fromisoformat(end),
            weekdays=[WEEKDAYS.index(d) for d in settings.days],
            country=settings.country,
            subdivision=settings.subdivision,
            extra_holidays=settings.extra_holidays,
        )

    def is_holiday(self, day: date) -> bool:
        if day in self.extra_holidays:
            return True
        if self.country is None:
            return False
        return day in _public_holidays(self.country, self.subdivision, day.year)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and not self.is_holiday(day)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        """The day's working hours, in UTC."""
        opens = datetime.combine(day, self.opens, self.tz)
        if self.closes is None:
            closes = datetime.combine(day + timedelta(days=1), time(), self.tz)
        else:
            closes = datetime.combine(day, self.closes, self.tz)
        return opens.astimezone(UTC), closes.astimezone(UTC)

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The instant ``hours`` business hours after ``start`` (in the calendar's zone). Time
        outside working hours does not count: drift found on Friday at 17:00 with 4 hours to
        go, in a 08:00–18:00 week, is due on Monday at 11:00."""
        if hours < 0:
            raise ValueError("business hours cannot be negative")
        at = _aware(start, "start")
        left = timedelta(hours=hours)
        day = at.astimezone(self.tz).date()
        for _ in range(MAX_DAYS):
            if self.is_working_day(day):
                opens, closes = self._window(day)
                begin = max(opens, at)
                if begin <= closes:
                    room = closes - begin
                    if left <= room:
                        return (begin + left).astimezone(self.tz)
                    left -= room
            day += timedelta(days=1)
        raise ValueError("the calendar has no working hours")

    def business_hours_between(self, a: datetime, b: datetime) -> float:
        """Business hours from ``a`` to ``b`` (0 when ``b`` is not after ``a``)."""
        lo, hi = _aware(a, "a"), _aware(b, "b")
        if hi <= lo:
            return 0.0
        total = timedelta()
        day, last = lo.astimezone(self.tz).date(), hi.astimezone(self.tz).date()
        while day <= last:
            if self.is_working_day(day):
                opens, closes = self._window(day)
                overlap = min(closes, hi) - max(opens, lo)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total.total_seconds() / 3600


@dataclass(frozen=True)
class _Rule:
    tags: frozenset[str]
    platform: str | None
    target: Target

    def selects(self, platform: str, tags: Iterable[str]) -> bool:
        return (self.platform is None or self.platform == platform) and self.tags <= set(tags)


class ResponseTargets:
    """``sla:`` made usable: each device's target, due times, time to remediate."""

    def __init__(
        self,
        calendar: BusinessCalendar,
        rules: Iterable[tuple[Iterable[str], str | None, Target]] = (),
        *,
        recurring_days: int = 30,
        default: Target = DEFAULT_TARGET,
        key: str = "",
    ) -> None:
        self.calendar = calendar
        self.rules = tuple(_Rule(frozenset(t), p, target) for t, p, target in rules)
        self.recurring_days = recurring_days
        self.default = default
        # changes whenever the settings or the zone do: figures cached with another are redone
        self.key = key

    @classmethod
    def from_settings(cls, settings: SlaSettings | None, timezone: str) -> ResponseTargets:
        """From ``sla:`` in the service's ``timezone``; None: 8 business hours, normal, Monday
        to Friday 09:00–18:00, Spain's national holidays."""
        from baluarte.service.config import SlaSettings

        effective = settings if settings is not None else SlaSettings()
        raw = json.dumps(
            {"sla": effective.model_dump(mode="json"), "timezone": timezone}, sort_keys=True
        )
        return cls(
            BusinessCalendar.from_settings(effective.calendar, timezone),
            [(t.tags or (), t.platform, Target(t.hours, t.priority)) for t in effective.targets],
            recurring_days=effective.recurring_days,
            key=hashlib.sha256(raw.encode()).hexdigest()[:16],
        )

    def target_for(self, platform: str, tags: Iterable[str] = ()) -> Target:
        """The first target that selects a device of ``platform`` with ``tags``."""
        own = tuple(tags)
        for rule in self.rules:
            if rule.selects(platform, own):
                return rule.target
        return self.default

    def due_at(self, since: datetime, target: Target) -> datetime:
        """When drift that began at ``since`` must be remediated by."""
        return self.calendar.add_business_hours(since, target.hours)

    def business_hours(self, start: datetime, end: datetime) -> float:
        return self.calendar.business_hours_between(start, end)

    @property
    def recurring_window(self) -> timedelta:
        return timedelta(days=self.recurring_days)


def response_targets(config: ServeConfig) -> ResponseTargets:
    """The service's response targets (``sla:``, or the default), in its time zone."""
    return ResponseTargets.from_settings(config.sla, config.timezone)
