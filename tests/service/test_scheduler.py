"""The compliance scheduler: cron in the service's zone, one firing per due time, missed runs,
one leader among schedulers sharing a store — with an injected clock, and with real processes."""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from baluarte.service.config import Schedule
from baluarte.service.db import ServiceDb
from baluarte.service.leadership import Leadership
from baluarte.service.scheduler import ComplianceScheduler, CronTimes
from baluarte.service.tables import schedule_fires, scheduler_leases, service_checks

ROOT = Path(__file__).resolve().parents[2]
PROC = Path(__file__).with_name("_scheduler_proc.py")
LOGGER = "baluarte.service.scheduler"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Fire:
    """``fire``: queues a service check, as the service does, and remembers the call."""

    def __init__(self, db: ServiceDb) -> None:
        self.db = db
        self.calls: list[tuple[str, datetime, int]] = []

    def __call__(self, schedule: Schedule, due: datetime) -> int:
        with self.db.write() as conn:
            key = conn.execute(
                sa.insert(service_checks).values(
                    origin="schedule", schedule=schedule.name, requested_at=due, state="queued"
                )
            ).inserted_primary_key
        assert key is not None
        self.calls.append((schedule.name, due, int(key[0])))
        return int(key[0])

    @property
    def dues(self) -> list[datetime]:
        return [due for _, due, _ in self.calls]


def scheduler(
    db: ServiceDb,
    clock: Clock,
    fire: Fire,
    *schedules: Schedule,
    holder: str = "a",
    timezone: str = "Europe/Madrid",
    lease_seconds: float = 3600,
    renew_seconds: float = 600,
) -> ComplianceScheduler:
    """A scheduler on a hand-moved clock; leadership renewed every 10 min unless told (fewer
    steps when a test runs through days)."""
    return ComplianceScheduler(
        db,
        schedules,
        timezone,
        fire,
        holder=holder,
        clock=clock,
        lease_seconds=lease_seconds,
        renew_seconds=renew_seconds,
    )


def fire_rows(db: ServiceDb) -> list[tuple[str, datetime, str, int | None]]:
    f = schedule_fires
    with db.read() as conn:
        rows = conn.execute(
            sa.select(f.c.schedule, f.c.due_at, f.c.holder, f.c.check_id).order_by(f.c.due_at)
        )
        return [tuple(r) for r in rows]


def record_fire(db: ServiceDb, name: str, due: datetime, holder: str = "old") -> None:
    """A firing by an earlier service process."""
    with db.write() as conn:
        conn.execute(
            sa.insert(schedule_fires).values(schedule=name, due_at=due, fired_at=due, holder=holder)
        )


def run(s: ComplianceScheduler, clock: Clock, until: datetime) -> None:
    """Step the scheduler as its loop would: each step when the previous one asked."""
    while clock.now < until:
        clock.now = min(clock.now + timedelta(seconds=s.tick()), until)
    s.tick()


NIGHTLY = Schedule(name="nightly", cron="0 2 * * *")


# cron in the configured zone


@pytest.mark.parametrize(
    ("day", "due"),
    [("2025-01-10", "2025-01-10T01:00:00"), ("2025-07-10", "2025-07-10T00:00:00")],
    ids=["winter", "summer"],
)
def test_cron_is_read_in_the_configured_timezone(service_db: ServiceDb, day: str, due: str) -> None:
    clock = Clock(utc(f"{day}T00:00:00") - timedelta(hours=1))
    fire = Fire(service_db)
    s = scheduler(service_db, clock, fire, NIGHTLY)
    s.tick()
    assert s.state()["schedules"][0]["next_due"] == utc(due).isoformat()

    run(s, clock, utc(due) - timedelta(seconds=1))
    assert fire.dues == []
    run(s, clock, utc(due) + timedelta(minutes=5))
    assert fire.dues == [utc(due)]  # 02:00 in Madrid: 01:00 UTC in winter, 00:00 UTC in summer


def test_utc_zone_reads_the_same_cron_as_utc(sqlite_db: ServiceDb) -> None:
    clock = Clock(utc("2025-01-10T00:00:00"))
    fire = Fire(sqlite_db)
    s = scheduler(sqlite_db, clock, fire, NIGHTLY, timezone="UTC")
    run(s, clock, utc("2025-01-10T03:00:00"))
    assert fire.dues == [utc("2025-01-10T02:00:00")]


def _dues(expr: str, start: str, count: int, fmt: str = "%a %d %H:%M") -> list[str]:
    times = CronTimes(expr, "UTC")
    found: list[str] = []
    due = times.at_or_after(utc(start))
    while due is not None and len(found) < count:
        found.append(due.strftime(fmt))
        due = times.after(due)
    return found


@pytest.mark.parametrize(
    ("weekday", "expected"),
    [
        ("1", ["Mon 13", "Mon 20"]),  # crontab's 1 is Monday (APScheduler 3.x alone: Tuesday)
        ("0", ["Sun 12", "Sun 19"]),
        ("7", ["Sun 12", "Sun 19"]),
        ("1-5", ["Fri 10", "Mon 13", "Tue 14", "Wed 15", "Thu 16", "Fri 17"]),
        ("mon-fri", ["Fri 10", "Mon 13", "Tue 14", "Wed 15", "Thu 16", "Fri 17"]),
        ("5-7", ["Fri 10", "Sat 11", "Sun 12", "Fri 17"]),
        ("*/2", ["Sat 11", "Sun 12", "Tue 14", "Thu 16"]),  # 0, 2, 4, 6
        ("sun,sat", ["Sat 11", "Sun 12", "Sat 18"]),
        ("3/2", ["Fri 10", "Sun 12", "Wed 15"]),  # 3, 5, 7
    ],
)
def test_weekdays_are_numbered_as_crontab_numbers_them(weekday: str, expected: list[str]) -> None:
    # 2025-01-10 is a Friday
    assert _dues(f"0 2 * * {weekday}", "2025-01-10T00:00:00", len(expected), "%a %d") == expected


def test_a_day_of_month_and_a_weekday_both_given_fire_on_either() -> None:
    # crontab: the 15th, and every Monday (APScheduler 3.x alone: a 15th that is a Monday)
    assert _dues("0 2 15 * 1", "2025-01-10T00:00:00", 4) == [
        "Mon 13 02:00",
        "Wed 15 02:00",
        "Mon 20 02:00",
        "Mon 27 02:00",
    ]
    assert _dues("0 2 15 * *", "2025-01-10T00:00:00", 1) == ["Wed 15 02:00"]


@pytest.mark.parametrize("expr", ["0 2 * * 8", "0 2 * * 5-1", "0 2 * * mon/0", "0 2 * *"])
def test_bad_cron_lines_are_refused(expr: str) -> None:
    with pytest.raises(ValueError):
        CronTimes(expr, "UTC")


def test_loop_sleeps_until_the_next_due_time(sqlite_db: ServiceDb) -> None:
    clock = Clock(utc("2025-01-10T00:59:30"))
    s = scheduler(sqlite_db, clock, Fire(sqlite_db), NIGHTLY)
    assert s.tick() == pytest.approx(30)  # the due time comes before the renewal
    follower = scheduler(sqlite_db, clock, Fire(sqlite_db), NIGHTLY, holder="b")
    assert follower.tick() == pytest.approx(600)  # it only tries to lead, every renewal


# one firing per due time


def test_each_due_time_fires_once(service_db: ServiceDb) -> None:
    clock = Clock(utc("2025-01-10T00:00:10"))
    fire = Fire(service_db)
    # grace 0: a due time seen up to 20 s late is on time, not missed
    every15 = Schedule(name="q", cron="*/15 * * * *", grace_minutes=0)
    s = scheduler(service_db, clock, fire, every15)
    while clock.now <= utc("2025-01-10T01:00:10"):  # an hour in 20 s steps, each twice
        s.tick()
        s.tick()
        clock.advance(20)
    expected = [utc(f"2025-01-10T{t}") for t in ("00:15:00", "00:30:00", "00:45:00", "01:00:00")]
    assert fire.dues == expected
    assert fire_rows(service_db) == [("q", d, "a", c) for (_, d, c) in fire.calls]


def test_a_fire_that_fails_is_not_retried(
    sqlite_db: ServiceDb, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(utc("2025-01-10T00:59:50"))
    calls: list[datetime] = []

    def broken(schedule: Schedule, due: datetime) -> int:
        calls.append(due)
        raise RuntimeError("the queue is full")

    s = ComplianceScheduler(sqlite_db, [NIGHTLY], "Europe/Madrid", broken, holder="a", clock=clock)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        run(s, clock, utc("2025-01-10T01:10:00"))
    assert calls == [utc("2025-01-10T01:00:00")]
    assert fire_rows(sqlite_db) == [("nightly", calls[0], "a", None)]
    assert "starting the check due 2025-01-10T01:00:00+00:00 failed" in caplog.text


# missed runs


def test_missed_run_within_grace_runs_once(service_db: ServiceDb) -> None:
    record_fire(service_db, "nightly", utc("2025-01-09T01:00:00"))
    clock = Clock(utc("2025-01-10T01:20:00"))  # down at 01:00, back 20 min later
    fire = Fire(service_db)
    s = scheduler(service_db, clock, fire, NIGHTLY)  # grace: 60 min
    run(s, clock, utc("2025-01-10T12:00:00"))
    assert fire.dues == [utc("2025-01-10T01:00:00")]

    # a restart does not run it again
    again = Fire(service_db)
    run(scheduler(service_db, clock, again, NIGHTLY, holder="b"), clock, utc("2025-01-10T13:00:00"))
    assert again.calls == []


def test_missed_run_beyond_grace_is_not_run(
    service_db: ServiceDb, caplog: pytest.LogCaptureFixture
) -> None:
    record_fire(service_db, "nightly", utc("2025-01-09T01:00:00"))
    clock = Clock(utc("2025-01-10T02:30:00"))  # 90 min late, grace 60
    fire = Fire(service_db)
    s = scheduler(service_db, clock, fire, NIGHTLY)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        run(s, clock, utc("2025-01-11T00:59:00"))
    assert fire.calls == []
    assert (
        "schedule nightly: missed due times from 2025-01-10T01:00:00+00:00, beyond its grace of "
        "60 min: not run" in caplog.text
    )
    run(s, clock, utc("2025-01-11T01:30:00"))
    assert fire.dues == [utc("2025-01-11T01:00:00")]  # the next night runs as usual


def test_several_missed_runs_run_only_the_latest(service_db: ServiceDb) -> None:
    hourly = Schedule(name="hourly", cron="0 * * * *", grace_minutes=300)
    record_fire(service_db, "hourly", utc("2025-01-10T03:00:00"))
    clock = Clock(utc("2025-01-10T08:10:00"))  # 04:00 … 08:00 missed, all within grace
    fire = Fire(service_db)
    s = scheduler(service_db, clock, fire, hourly)
    run(s, clock, utc("2025-01-10T08:59:00"))
    assert fire.dues == [utc("2025-01-10T08:00:00")]


def test_a_schedule_never_fired_does_not_catch_up(sqlite_db: ServiceDb) -> None:
    clock = Clock(utc("2025-01-10T01:20:00"))  # its due time, 01:00, is before we knew it
    fire = Fire(sqlite_db)
    s = scheduler(sqlite_db, clock, fire, NIGHTLY)
    run(s, clock, utc("2025-01-11T01:05:00"))
    assert fire.dues == [utc("2025-01-11T01:00:00")]


def test_a_cron_line_that_never_comes_due_is_ignored(
    sqlite_db: ServiceDb, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(utc("2025-01-10T00:00:00"))
    fire = Fire(sqlite_db)
    never = Schedule(name="never", cron="0 0 30 2 *")  # 30 February
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        s = scheduler(sqlite_db, clock, fire, never, NIGHTLY)
    run(s, clock, utc("2025-01-10T02:00:00"))
    assert fire.dues == [utc("2025-01-10T01:00:00")]
    assert s.state()["schedules"][0]["next_due"] is None
    assert "schedule never: '0 0 30 2 *' never comes due: ignored" in caplog.text


# daylight saving time (Europe/Madrid, 2025: spring forward 30 March, fall back 26 October)


def test_a_wall_time_skipped_in_spring_fires_once_an_hour_later(sqlite_db: ServiceDb) -> None:
    clock = Clock(utc("2025-03-29T12:00:00"))
    fire = Fire(sqlite_db)
    half_past_two = Schedule(name="n", cron="30 2 * * *")
    s = scheduler(sqlite_db, clock, fire, half_past_two)
    run(s, clock, utc("2025-03-31T12:00:00"))
    # 02:30 does not exist on the 30th: it fires at 01:30 UTC (03:30 summer time by the clock)
    assert fire.dues == [utc("2025-03-30T01:30:00"), utc("2025-03-31T00:30:00")]


def test_a_skipped_wall_time_is_found_by_a_process_started_after_the_change(
    sqlite_db: ServiceDb,
) -> None:
    # APScheduler finds 02:30 of the 30th only looking from before 01:00 UTC: the due times
    # are walked from the last one fired, not from the moment the process starts
    record_fire(sqlite_db, "n", utc("2025-03-29T01:30:00"))
    clock = Clock(utc("2025-03-30T01:10:00"))  # 03:10 summer time: the clocks went forward
    fire = Fire(sqlite_db)
    s = scheduler(sqlite_db, clock, fire, Schedule(name="n", cron="30 2 * * *"))
    run(s, clock, utc("2025-03-30T12:00:00"))
    assert fire.dues == [utc("2025-03-30T01:30:00")]


def test_a_wall_time_repeated_in_autumn_fires_at_both(sqlite_db: ServiceDb) -> None:
    clock = Clock(utc("2025-10-25T12:00:00"))
    fire = Fire(sqlite_db)
    half_past_two = Schedule(name="n", cron="30 2 * * *")
    s = scheduler(sqlite_db, clock, fire, half_past_two)
    run(s, clock, utc("2025-10-27T12:00:00"))
    # 02:30 happens twice on the 26th (summer, then winter time): two due times, each once
    assert fire.dues == [
        utc("2025-10-26T00:30:00"),
        utc("2025-10-26T01:30:00"),
        utc("2025-10-27T01:30:00"),
    ]


# one leader


def test_a_second_scheduler_waits_while_the_first_leads_then_takes_over(
    service_db: ServiceDb, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(utc("2025-01-10T00:00:30"))
    fire_a, fire_b = Fire(service_db), Fire(service_db)
    five = Schedule(name="five", cron="*/5 * * * *")
    a = scheduler(service_db, clock, fire_a, five, holder="a", lease_seconds=30, renew_seconds=10)
    b = scheduler(service_db, clock, fire_b, five, holder="b", lease_seconds=30, renew_seconds=10)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for _ in range(60):  # 10 minutes in 10 s steps
            a.tick()
            b.tick()
            clock.advance(10)
        assert [d.minute for d in fire_a.dues] == [5, 10] and fire_b.calls == []
        assert a.state()["leading"] and not b.state()["leading"]

        a.stop()  # gives leadership up: b need not wait for a lease to lapse
        for _ in range(60):
            b.tick()
            clock.advance(10)
    assert [d.minute for d in fire_b.dues] == [15, 20] and len(fire_a.calls) == 2
    assert "scheduler: a leads" in caplog.text
    assert "scheduler: a stopped and gave up leadership" in caplog.text
    assert "scheduler: b leads" in caplog.text


def test_sqlite_follower_takes_over_when_the_leaders_lease_lapses(sqlite_db: ServiceDb) -> None:
    clock = Clock(utc("2025-01-10T00:04:00"))
    fire_a, fire_b = Fire(sqlite_db), Fire(sqlite_db)
    five = Schedule(name="five", cron="*/5 * * * *")
    a = scheduler(sqlite_db, clock, fire_a, five, holder="a", lease_seconds=30, renew_seconds=10)
    b = scheduler(sqlite_db, clock, fire_b, five, holder="b", lease_seconds=30, renew_seconds=10)
    for _ in range(6):  # 00:04:00 … 00:04:50: a leads and renews
        a.tick()
        b.tick()
        clock.advance(10)
    # a dies here, without a word (its last renewal: 00:04:50, lease 30 s)
    for _ in range(2):  # 00:05:00, 00:05:10: the lease holds, nobody fires
        b.tick()
        assert not b.state()["leading"]
        clock.advance(10)
    b.tick()  # 00:05:20: lapsed; b leads and runs the due time missed meanwhile, once
    assert b.state()["leading"]
    assert fire_b.dues == [utc("2025-01-10T00:05:00")] and fire_a.calls == []
    run(b, clock, utc("2025-01-10T00:10:20"))
    assert fire_b.dues == [utc("2025-01-10T00:05:00"), utc("2025-01-10T00:10:00")]


def _advisory_holders(db: ServiceDb) -> list[int]:
    with db.read() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
        return [pid for (pid,) in rows]


def steal_leadership(db: ServiceDb) -> None:
    """Leadership lost behind the leader's back (its lease row gone, its session ended)."""
    if db.backend == "postgresql":
        (pid,) = _advisory_holders(db)
        with db.read() as conn:
            # waits (up to 5 s) for the session to be gone, and its lock with it
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    else:
        with db.write() as conn:
            conn.execute(sa.delete(scheduler_leases))


@pytest.mark.postgres
def test_postgresql_follower_takes_over_when_the_leaders_session_ends(pg_db: ServiceDb) -> None:
    clock = Clock(utc("2025-01-10T00:04:00"))
    fire_a, fire_b = Fire(pg_db), Fire(pg_db)
    five = Schedule(name="five", cron="*/5 * * * *")
    a = scheduler(pg_db, clock, fire_a, five, holder="a", lease_seconds=30, renew_seconds=10)
    b = scheduler(pg_db, clock, fire_b, five, holder="b", lease_seconds=30, renew_seconds=10)
    a.tick()
    b.tick()
    assert a.state()["leading"] and not b.state()["leading"]
    steal_leadership(pg_db)  # as when a's process dies: the server ends its session
    clock.advance(10)
    b.tick()  # no lease to wait for
    assert b.state()["leading"]
    a.tick()
    assert not a.state()["leading"]
    run(b, clock, utc("2025-01-10T00:05:30"))
    assert fire_b.dues == [utc("2025-01-10T00:05:00")] and fire_a.calls == []


def test_two_schedulers_that_both_believe_they_lead_fire_once(
    service_db: ServiceDb, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(utc("2025-01-10T00:04:30"))
    fire_a, fire_b = Fire(service_db), Fire(service_db)
    five = Schedule(name="five", cron="*/5 * * * *")
    # renewals 10 min apart: a does not notice it lost leadership before the due time
    a = scheduler(service_db, clock, fire_a, five, lease_seconds=1800, renew_seconds=600)
    b = scheduler(
        service_db, clock, fire_b, five, holder="b", lease_seconds=1800, renew_seconds=600
    )
    a.tick()
    steal_leadership(service_db)
    clock.advance(10)
    b.tick()
    assert a.state()["leading"] and b.state()["leading"]

    clock.now = utc("2025-01-10T00:05:00")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        a.tick()
        b.tick()
    assert fire_a.dues == [clock.now] and fire_b.calls == []
    assert "schedule five: due time 2025-01-10T00:05:00+00:00 was already fired" in caplog.text


# the loop in its thread, and its state


def _fast_clock(start: datetime, speed: float) -> Clock:
    class Fast(Clock):
        def __call__(self) -> datetime:
            return start + timedelta(seconds=(time.monotonic() - origin) * speed)

    origin = time.monotonic()
    return Fast(start)


def _wait_for(predicate: object, timeout: float) -> bool:
    assert callable(predicate)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def test_the_loop_fires_in_its_thread_and_stops_promptly(service_db: ServiceDb) -> None:
    clock = _fast_clock(utc("2025-01-10T00:59:58"), speed=60)  # a minute per second
    fire = Fire(service_db)
    minutely = Schedule(name="m", cron="* * * * *")
    s = ComplianceScheduler(
        service_db, [minutely], "Europe/Madrid", fire, holder="a", clock=clock, speed=60
    )
    s.start()
    try:
        assert _wait_for(lambda: len(fire.calls) >= 2, timeout=5)
        assert s.state()["running"] and s.state()["leading"]
    finally:
        began = time.monotonic()
        s.stop()
    assert time.monotonic() - began < 1
    assert not s.state()["running"] and not s.state()["leading"]
    # whole minutes from 01:00 on, each once (a minute passes in a real second: a busy machine
    # may make the loop see two due times at once, and then only the latest runs)
    dues = fire.dues
    assert dues[0] >= utc("2025-01-10T01:00:00")
    assert all(d.second == 0 and d.microsecond == 0 for d in dues)
    assert all(a < b for a, b in itertools.pairwise(dues))
    # leadership was given up: another process leads at once
    assert Leadership(service_db, "b", clock=clock).try_lead()


def test_wake_makes_the_waiting_loop_look_at_the_clock(sqlite_db: ServiceDb) -> None:
    clock = Clock(utc("2025-01-10T00:50:00"))  # the loop waits 10 real minutes for 01:00
    fire = Fire(sqlite_db)
    s = scheduler(sqlite_db, clock, fire, NIGHTLY)
    s.start()
    try:
        assert _wait_for(lambda: s.state()["leading"], timeout=2)
        clock.now = utc("2025-01-10T01:00:00")
        assert fire.calls == []
        s.wake()
        assert _wait_for(lambda: len(fire.calls) == 1, timeout=2)
    finally:
        began = time.monotonic()
        s.stop()
    assert time.monotonic() - began < 1  # even in the middle of a long wait
    assert fire.dues == [utc("2025-01-10T01:00:00")]


def test_state_tells_who_leads_and_each_schedules_times(service_db: ServiceDb) -> None:
    clock = Clock(utc("2025-01-10T00:59:00"))
    fire = Fire(service_db)
    weekly = Schedule(name="weekly", cron="0 3 * * 1")
    a = scheduler(service_db, clock, fire, NIGHTLY, weekly)
    b = scheduler(service_db, clock, Fire(service_db), NIGHTLY, weekly, holder="b")
    run(a, clock, utc("2025-01-10T01:00:30"))
    b.tick()
    (check_id,) = [c for _, _, c in fire.calls]
    nightly = {
        "name": "nightly",
        "cron": "0 2 * * *",
        "next_due": "2025-01-11T01:00:00+00:00",
        "last_due": "2025-01-10T01:00:00+00:00",
        "last_check_id": check_id,
    }
    weekly_state = {
        "name": "weekly",
        "cron": "0 3 * * 1",
        "next_due": "2025-01-13T02:00:00+00:00",  # Monday 03:00 in Madrid
        "last_due": None,
        "last_check_id": None,
    }
    assert a.state() == {
        "leading": True,
        "holder": "a",
        "timezone": "Europe/Madrid",
        "running": False,
        "schedules": [nightly, weekly_state],
    }
    # the follower reads the leader's firings from the store
    state = b.state()
    assert not state["leading"] and state["schedules"] == [nightly, weekly_state]
    json.dumps(state)


# two real processes sharing one store


SPEED = 30.0  # a minute of the processes' clock every 2 s


@pytest.fixture
def store_env(service_db: ServiceDb) -> Iterator[dict[str, str]]:
    """The store's location for the child processes (in their environment, not their argv)."""
    url = service_db.url
    location = url.database if service_db.backend == "sqlite" else url.render_as_string(False)
    assert location
    yield {**os.environ, "PYTHONPATH": str(ROOT), "BALUARTE_TEST_DB": location}


def _read_fires(out: Path) -> list[tuple[datetime, str, int]]:
    if not out.exists():
        return []
    lines = [line.split() for line in out.read_text().split("\n")[:-1]]  # whole lines only
    return [(datetime.fromisoformat(d), h, int(c)) for d, h, c in lines]


def test_two_processes_fire_each_due_time_once_and_survive_a_kill(
    service_db: ServiceDb, store_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "fires.txt"
    epoch = time.time() + 0.5
    base = utc("2025-01-10T00:59:00")  # at epoch: the first minute boundary is 2 s away
    procs: dict[str, subprocess.Popen[str]] = {}
    logs = {holder: tmp_path / f"{holder}.log" for holder in ("p1", "p2")}

    def log_text() -> str:
        return "\n".join(p.read_text() for p in logs.values() if p.exists())

    sinks = contextlib.ExitStack()
    for holder in ("p1", "p2"):
        args = [sys.executable, str(PROC), "--holder", holder, "--out", str(out)]
        args += ["--epoch", str(epoch), "--base", base.isoformat(), "--speed", str(SPEED)]
        args += ["--lease", "45", "--renew", "5"]  # 1.5 s and 0.17 s of real time
        procs[holder] = subprocess.Popen(
            args,
            env=store_env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=sinks.enter_context(logs[holder].open("w")),
            text=True,
        )
    try:
        for proc in procs.values():
            assert proc.stdout is not None and proc.stdout.readline() == "started\n"
        assert _wait_for(lambda: len(_read_fires(out)) >= 2, timeout=10), log_text()
        leader = _read_fires(out)[-1][1]
        procs[leader].send_signal(signal.SIGKILL)
        procs[leader].wait(5)
        before = _read_fires(out)
        last = before[-1][0]
        survivor = "p2" if leader == "p1" else "p1"
        assert _wait_for(lambda: sum(d > last for d, _, _ in _read_fires(out)) >= 2, timeout=10), (
            log_text()
        )
        procs[survivor].send_signal(signal.SIGTERM)
        assert procs[survivor].wait(5) == 0
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()
        sinks.close()
    fires = _read_fires(out)
    dues = [d for d, _, _ in fires]
    assert len(dues) == len(set(dues))  # never twice
    assert all(b - a == timedelta(minutes=1) for a, b in itertools.pairwise(dues))
    after = [(d, h) for d, h, _ in fires if d > last]
    assert after[0] == (last + timedelta(minutes=1), survivor)  # the very next due time
    assert {h for _, h in after} == {survivor}
    # the store agrees: one fire row per due time, by the process that fired it, with its check
    # (the killed process may have died before writing its last check's id in the row)
    rows = fire_rows(service_db)
    if rows[len(before) - 1][3] is None:
        rows[len(before) - 1] = (*rows[len(before) - 1][:3], before[-1][2])
    assert rows == [("every-minute", d, h, c) for d, h, c in fires]
    with service_db.read() as conn:
        checks = conn.execute(sa.select(service_checks.c.id, service_checks.c.holder)).all()
    assert sorted(checks) == sorted((c, h) for _, h, c in fires)
