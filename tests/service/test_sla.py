"""Business hours and response targets: Madrid's working week, Spain's and Madrid's holidays,
summer time, each device's target."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from baluarte.service.config import BusinessCalendarSettings, ResponseTarget, SlaSettings
from baluarte.service.sla import (
    DEFAULT_TARGET,
    BusinessCalendar,
    ResponseTargets,
    Target,
    most_urgent,
    priority_rank,
)
from baluarte.timezones import zone

MADRID = zone("Europe/Madrid")


def madrid(*args: int) -> datetime:
    return datetime(*args, tzinfo=MADRID)  # type: ignore[misc]


def office(subdivision: str | None = "MD", **kw: object) -> BusinessCalendar:
    """Monday to Friday, 08:00 to 18:00 in Madrid."""
    return BusinessCalendar(opens=time(8), closes=time(18), subdivision=subdivision, **kw)  # type: ignore[arg-type]


def test_drift_on_friday_at_five_with_four_hours_is_due_on_monday_at_eleven():
    cal = office()
    due = cal.add_business_hours(madrid(2026, 11, 27, 17, 0), 4)
    assert due == madrid(2026, 11, 30, 11, 0)
    assert due.utcoffset() == MADRID.utcoffset(datetime(2026, 11, 30))  # shown in Madrid's time
    assert cal.business_hours_between(madrid(2026, 11, 27, 17, 0), due) == 4.0


def test_national_and_madrid_holidays_are_skipped():
    # Monday 7 December 2026 is Madrid's (Constitution Day moved); Tuesday 8 is national
    friday = madrid(2026, 12, 4, 17, 0)
    assert office().add_business_hours(friday, 4) == madrid(2026, 12, 9, 11, 0)
    # Spain's national calendar alone works on the 7th
    assert office(subdivision=None).add_business_hours(friday, 4) == madrid(2026, 12, 7, 11, 0)
    # the Immaculate Conception (8 December) is a day off everywhere in Spain
    monday = madrid(2026, 12, 7, 17, 0)
    assert office(subdivision=None).add_business_hours(monday, 4) == madrid(2026, 12, 9, 11, 0)
    assert office().is_holiday(date(2026, 12, 7)) and not office(None).is_holiday(date(2026, 12, 7))
    assert office(None).is_holiday(date(2026, 12, 8))


def test_the_providers_own_days_off_are_skipped():
    cal = office(extra_holidays=[date(2026, 12, 24)])
    # Thursday 24 (own), Friday 25 (Christmas), the weekend: Monday 28
    assert cal.add_business_hours(madrid(2026, 12, 23, 17, 0), 4) == madrid(2026, 12, 28, 11, 0)
    assert office().add_business_hours(madrid(2026, 12, 23, 17, 0), 4) == madrid(
        2026, 12, 24, 11, 0
    )


def test_time_outside_working_hours_does_not_count():
    cal = office()
    assert cal.add_business_hours(madrid(2026, 11, 28, 10, 0), 1) == madrid(2026, 11, 30, 9, 0)
    assert cal.add_business_hours(madrid(2026, 11, 30, 6, 0), 2) == madrid(2026, 11, 30, 10, 0)
    # all of a working day fits: due at its close, not at the next opening
    assert cal.add_business_hours(madrid(2026, 11, 30, 8, 0), 10) == madrid(2026, 11, 30, 18, 0)
    assert cal.add_business_hours(madrid(2026, 11, 30, 18, 0), 0.5) == madrid(2026, 12, 1, 8, 30)
    assert cal.add_business_hours(madrid(2026, 11, 30, 9, 15), 0) == madrid(2026, 11, 30, 9, 15)


def test_the_weekend_of_a_change_of_summer_time():
    cal = office()
    # 29 March 2026: clocks go forward; Friday is +01:00 and Monday +02:00
    due = cal.add_business_hours(madrid(2026, 3, 27, 17, 0), 4)
    assert due == madrid(2026, 3, 30, 11, 0)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    assert cal.business_hours_between(madrid(2026, 3, 27, 17, 0), due) == 4.0
    # 25 October 2026: clocks go back
    due = cal.add_business_hours(madrid(2026, 10, 23, 17, 0), 4)
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 10, 0, tzinfo=UTC)  # 11:00 at +01:00
    # a round-the-clock desk counts the hours that happen, not the clock's
    desk = BusinessCalendar(opens=time(0), closes=None, weekdays=range(7), country=None)
    assert desk.business_hours_between(madrid(2026, 3, 29, 0, 0), madrid(2026, 3, 30, 0, 0)) == 23
    assert desk.business_hours_between(madrid(2026, 10, 25, 0, 0), madrid(2026, 10, 26, 0, 0)) == 25
    assert desk.add_business_hours(madrid(2026, 3, 29, 1, 0), 3) == madrid(2026, 3, 29, 5, 0)


def test_hours_between():
    cal = office()
    monday = madrid(2026, 11, 30, 10, 0)
    assert cal.business_hours_between(monday, madrid(2026, 11, 30, 12, 30)) == 2.5
    assert cal.business_hours_between(monday, madrid(2026, 12, 1, 10, 0)) == 10.0  # 8 + 2
    # a whole week: five days of ten hours, Tuesday 8 December (a holiday) left out
    week = cal.business_hours_between(madrid(2026, 12, 7, 0, 0), madrid(2026, 12, 14, 0, 0))
    assert week == 30.0  # 7 (Madrid) and 8 off: Wednesday to Friday
    assert cal.business_hours_between(madrid(2026, 11, 30, 12, 0), monday) == 0.0
    # the same instant in another zone is the same instant
    assert cal.business_hours_between(
        monday.astimezone(UTC), madrid(2026, 11, 30, 11, 0).astimezone(zone("America/Bogota"))
    ) == pytest.approx(1.0)


def test_times_without_a_zone_are_refused():
    with pytest.raises(ValueError, match="time zone"):
        office().add_business_hours(datetime(2026, 11, 30, 9, 0), 1)


def test_the_calendar_is_in_the_services_time_zone():
    settings = BusinessCalendarSettings(hours="08:00-18:00", subdivision=None)
    canary = BusinessCalendar.from_settings(settings, "Atlantic/Canary")
    # Friday 17:00 in Madrid is 16:00 in the Canaries: two hours left there, two on Monday
    due = canary.add_business_hours(madrid(2026, 11, 27, 17, 0), 4)
    assert due == datetime(2026, 11, 30, 10, 0, tzinfo=zone("Atlantic/Canary"))


def test_each_device_gets_the_first_target_that_selects_it():
    sla = SlaSettings(
        calendar=BusinessCalendarSettings(hours="08:00-18:00", subdivision="MD"),
        targets=[
            ResponseTarget(tags=["server", "critical"], hours=2, priority="critical"),
            ResponseTarget(tags=["server"], hours=4, priority="high"),
            ResponseTarget(platform="fortigate", hours=4, priority="high"),
            ResponseTarget(platform="windows", tags=["kiosk"], hours=24, priority="low"),
            ResponseTarget(hours=8, priority="normal"),
        ],
    )
    targets = ResponseTargets.from_settings(sla, "Europe/Madrid")
    assert targets.target_for("linux", ["server", "critical"]) == Target(2, "critical")
    assert targets.target_for("windows", ["server"]) == Target(4, "high")
    assert targets.target_for("fortigate", []) == Target(4, "high")
    assert targets.target_for("windows", ["kiosk"]) == Target(24, "low")
    assert targets.target_for("linux", ["kiosk"]) == Target(8, "normal")
    assert targets.due_at(madrid(2026, 11, 27, 17, 0), Target(4, "high")) == madrid(
        2026, 11, 30, 11, 0
    )
    # no catch-all: what nothing selects gets the default
    only = ResponseTargets.from_settings(
        SlaSettings(targets=[ResponseTarget(platform="fortigate", hours=1)]), "Europe/Madrid"
    )
    assert only.target_for("linux", ["server"]) == DEFAULT_TARGET == Target(8, "normal")


def test_the_default_is_eight_hours_in_madrids_office_week():
    targets = ResponseTargets.from_settings(None, "Europe/Madrid")
    assert targets.target_for("linux", ["server"]) == Target(8, "normal")
    assert targets.recurring_days == 30
    # 09:00 to 18:00: Friday 17:00 plus 8 hours is Monday 16:00
    assert targets.due_at(madrid(2026, 11, 27, 17, 0), targets.default) == madrid(
        2026, 11, 30, 16, 0
    )
    assert targets.calendar.is_holiday(date(2026, 12, 8))  # national
    assert not targets.calendar.is_holiday(date(2026, 12, 7))  # Madrid's only


def test_the_key_changes_with_the_settings_and_the_zone():
    a = ResponseTargets.from_settings(None, "Europe/Madrid").key
    assert a == ResponseTargets.from_settings(None, "Europe/Madrid").key
    assert a == ResponseTargets.from_settings(SlaSettings(), "Europe/Madrid").key
    assert a != ResponseTargets.from_settings(None, "Atlantic/Canary").key
    assert a != ResponseTargets.from_settings(SlaSettings(recurring_days=7), "Europe/Madrid").key


def test_priorities_rank_most_urgent_first():
    assert [priority_rank(p) for p in ("critical", "high", "normal", "low")] == [0, 1, 2, 3]
    assert most_urgent(["normal", None, "high", "low"]) == "high"
    assert most_urgent([None]) is None
