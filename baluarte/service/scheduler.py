"""The compliance scheduler: fires each schedule's checks at its cron times, in one process only.

Cron expressions are evaluated in the service's time zone by APScheduler 3.x's ``CronTrigger``
and its ``get_next_fire_time`` (``CronTimes``). Two places where APScheduler 3.x reads a
crontab line differently from cron itself are adapted, not re-implemented: its weekday numbers
start at Monday (its ``from_crontab`` warns of it; crontab's 0 and 7 are Sunday), so the
day-of-week field is handed to it as day names; and when both day-of-month and day-of-week are
restricted, cron fires on either (APScheduler: on both), so such a line becomes two triggers.

Our own loop around the triggers rather than APScheduler's ``BackgroundScheduler``: leadership,
the claim in the fire table and the catch-up rule must run at each due time in a known order,
and a loop stepped by ``tick()`` with an injected clock is tested by moving the clock instead of
by waiting.

Each due time fires at most once across every process sharing the store: the leader (see
``leadership``) first claims it with an INSERT into ``service_schedule_fires``, whose primary key
(schedule, due_at) refuses a second claim, and only then calls ``fire``. A process killed
between the claim and ``fire`` leaves that due time claimed and not run (at most once, never
twice).

Missed runs: when a process starts leading, each schedule's most recent due time at or before
now runs once if it is later than the schedule's newest fire row and no more than its
``grace_minutes`` late; older missed due times never run. While leading, the same rule covers a
loop that woke late. Lateness under ``ON_TIME_SLACK`` (two minutes) always counts as on time, so
a grace of 0 still runs a due time found a few seconds late (a busy store, a slow start). A
schedule with no fire row has never run: its due times before this process started are not
treated as missed (the store does not record when a schedule was first configured), those
after are (its previous leader may have died before the schedule's first due time).

Daylight saving time, as APScheduler computes it (Europe/Madrid): a wall time that does not
exist on the spring-forward day (02:30) fires once, at 01:30 UTC, as if winter time still
held (03:30 summer time by the clock); a wall time that occurs twice on the fall-back day fires
twice, once per occurrence (00:30 and 01:30 UTC), each its own due time. APScheduler finds the
skipped wall time only when it starts looking from before the change, so due times are always
walked forward from the last one handled, as its own scheduler does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.dialects import postgresql, sqlite

from baluarte.errors import StoreError
from baluarte.service.config import Schedule
from baluarte.service.db import ServiceDb
from baluarte.service.leadership import DEFAULT_LEASE_SECONDS, DEFAULT_RENEW_SECONDS, Leadership
from baluarte.service.tables import schedule_fires

__all__ = ["ON_TIME_SLACK", "ComplianceScheduler", "CronTimes", "FireFunction"]

# Starts the check of a schedule for a due time (aware UTC); returns its service check id.
FireFunction = Callable[[Schedule, datetime], "int | None"]

# A due time found this late still fires, whatever the schedule's grace: a busy store or a slow
# start is not an outage.
ON_TIME_SLACK = timedelta(minutes=2)

_log = logging.getLogger("baluarte.service.scheduler")
_TICK = timedelta(microseconds=1)
# walks toward now start this long before the window they look at: longer than any DST shift,
# so a wall time skipped by one is still found (see the module's note)
_DST_MARGIN = timedelta(hours=3)
_MIN_WAIT_SECONDS = 0.001  # never a busy loop, whatever the clock says

# crontab's weekday numbers (0 and 7: Sunday) as the names APScheduler reads (it counts from
# Monday); names pass through as they are
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _weekday(text: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text in _WEEKDAYS:
        return _WEEKDAYS.index(text)
    raise ValueError(f"day of week {text!r}: expected 0-7 (0 and 7: Sunday) or sun-sat")


def _weekdays(field: str) -> str:
    """A crontab day-of-week field (numbers, names, ranges, steps) as APScheduler's day names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        body, slash, step_text = item.partition("/")
        if slash and not (step_text.isdigit() and int(step_text) > 0):
            raise ValueError(f"day of week {item!r}: the step must be a positive number")
        step = int(step_text) if slash else 1
        if body == "*":
            first, last = 0, 6
        elif "-" in body:
            start, _, end = body.partition("-")
            first, last = _weekday(start), _weekday(end)
        else:
            first = _weekday(body)
            last = 7 if slash else first  # "n/step": from n to the week's end
        if first > last:
            raise ValueError(f"day of week {item!r}: the range runs backwards")
        days.update(day % 7 for day in range(first, last + 1, step))
    # APScheduler's week starts on Monday
    return ",".join(_WEEKDAYS[day] for day in sorted(days, key=lambda day: (day + 6) % 7))


class CronTimes:
    """The due times of a five-field crontab line in an IANA zone, as aware UTC datetimes."""

    def __init__(self, expr: str, timezone: str) -> None:
        fields = expr.split()
        if len(fields) != 5:
            raise ValueError(f"a cron expression has five fields, not {len(fields)}: {expr!r}")
        minute, hour, day, month, weekday = fields
        zone = ZoneInfo(timezone)
        days = _weekdays(weekday)

        def trigger(day: str, weekdays: str) -> Any:  # APScheduler is untyped
            return CronTrigger(
                minute=minute, hour=hour, day=day, month=month, day_of_week=weekdays, timezone=zone
            )

        if day.startswith("*") or weekday.startswith("*"):
            self._triggers = [trigger(day, days)]
        else:  # crontab: a day matching either field
            self._triggers = [trigger(day, "*"), trigger("*", days)]

    def at_or_after(self, when: datetime) -> datetime | None:
        found = [t.get_next_fire_time(None, when) for t in self._triggers]
        due = min((f.astimezone(UTC) for f in found if f is not None), default=None)
        return due

    def after(self, when: datetime) -> datetime | None:
        return self.at_or_after(when + _TICK)


@dataclass
class _Entry:
    schedule: Schedule
    times: CronTimes
    cursor: datetime | None = None  # while leading: due times up to here are handled
    next_due: datetime | None = None  # for the state: the first due time after now
    last_due: datetime | None = None
    last_check_id: int | None = None

    def walk(self, since: datetime, now: datetime, within: timedelta) -> tuple[datetime, datetime]:
        """Due times after ``since`` up to ``now``: the first, and the latest (``since`` when
        none); due times well before ``now - within`` are jumped over, not walked."""
        first = self.times.after(since)
        if first is None or first > now:
            return since, since
        start = now - within - _DST_MARGIN
        due = self.times.at_or_after(start) if start > first else first
        latest = start if start > first else since
        while due is not None and due <= now:
            latest = due
            due = self.times.after(due)
        return first, latest

    def upcoming(self, now: datetime) -> datetime | None:
        """The first due time after now, walked forward from the one known before."""
        due = self.next_due
        if due is None or now - due > _DST_MARGIN:
            due = self.times.at_or_after(now - _DST_MARGIN)
        while due is not None and due <= now:
            due = self.times.after(due)
        self.next_due = due
        return due


class ComplianceScheduler:
    """Fires ``schedules`` (cron in ``timezone``) through ``fire``, when this process leads.

    ``fire(schedule, due_at)`` is called in the scheduler's thread and must return quickly (it
    queues the check and returns its service check id, or None). ``clock`` gives aware UTC
    times and ``speed`` says how many of its seconds pass per real second, so tests may run a
    shifted or faster clock; ``tick()`` is one step of the loop, for tests to drive directly.
    """

    def __init__(
        self,
        db: ServiceDb,
        schedules: Sequence[Schedule],
        timezone: str,
        fire: FireFunction,
        *,
        holder: str,
        clock: Callable[[], datetime] = _utcnow,
        speed: float = 1.0,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        renew_seconds: float = DEFAULT_RENEW_SECONDS,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.db = db
        self.timezone = timezone
        self.holder = holder
        self.leadership = Leadership(
            db, holder, lease_seconds=lease_seconds, renew_seconds=renew_seconds, clock=clock
        )
        self._fire = fire
        self._clock = clock
        self._speed = speed
        self._renew = timedelta(seconds=renew_seconds)
        # due times from here on were known to this process: missed ones run even for a
        # schedule that has never fired (e.g. its leader died before its first due time)
        self._first_sight = clock()
        self._entries = [_Entry(s, CronTimes(s.cron, timezone)) for s in schedules]
        for entry in self._entries:
            entry.next_due = entry.times.after(self._first_sight - _TICK)
            if entry.next_due is None:
                _log.warning(
                    "schedule %s: %r never comes due: ignored",
                    entry.schedule.name,
                    entry.schedule.cron,
                )
        # a cron line that never comes due (30 February) costs APScheduler a long search: once
        self._active = [e for e in self._entries if e.next_due is not None]
        self._renew_at = datetime.min.replace(tzinfo=UTC)
        self._leads = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # the loop

    def start(self) -> None:
        """Run the loop in a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("the scheduler is already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="baluarte-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop (promptly: it is woken), wait for it, and give leadership up."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is None:
            self._give_up()
            return
        thread.join(timeout)
        if thread.is_alive():
            _log.warning("the scheduler did not stop within %.0f s", timeout)
        else:
            self._thread = None

    def wake(self) -> None:
        """Make the loop look at the clock now (a test moved it, or something changed)."""
        self._wake.set()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    delay = self.tick()
                except Exception:  # the loop must outlive any one step
                    _log.exception("the scheduler's step failed")
                    delay = self._renew.total_seconds()
                if self._stop.is_set():
                    break
                self._wake.wait(max(delay / self._speed, _MIN_WAIT_SECONDS))
        finally:
            self._give_up()

    def _give_up(self) -> None:
        self.leadership.release()
        with self._lock:
            was, self._leads = self._leads, False
        if was:
            _log.info("scheduler: %s stopped and gave up leadership", self.holder)

    def tick(self) -> float:
        """One step: renew or seek leadership, fire what is due; seconds (of the clock) until
        the next step is needed."""
        now = self._clock()
        if now >= self._renew_at:
            leads = self.leadership.try_lead()
            self._renew_at = now + self._renew
        else:
            leads = self.leadership.leading
        with self._lock:
            was, self._leads = self._leads, leads
        if leads and not was:
            _log.info("scheduler: %s leads; the schedules fire here", self.holder)
            self._catch_up(now, self._active)
        elif was and not leads:
            _log.info("scheduler: %s no longer leads; another process fires", self.holder)
        elif leads:
            for entry in self._active:
                if entry.cursor is None:  # its catch-up could not reach the store
                    self._catch_up(now, [entry])
                else:
                    self._run_latest(entry, now, entry.cursor)
        wake_at = self._renew_at
        with self._lock:
            for entry in self._active:
                entry.upcoming(now)
                if leads and entry.cursor is not None:
                    pending = entry.times.after(entry.cursor)  # the next one not yet handled
                    # one already past could not be claimed: retried at the renewal, no sooner
                    if pending is not None and pending > now:
                        wake_at = min(wake_at, pending)
        return max((wake_at - now).total_seconds(), 0.0)

    # firing

    def _catch_up(self, now: datetime, entries: Sequence[_Entry]) -> None:
        """On becoming leader: what ran last is the store's word, whoever led before."""
        try:
            newest = self._newest_fires()
        except StoreError as exc:
            _log.warning("scheduler: cannot read the schedules' last firings: %s", exc)
            return  # cursors stay unset: the next step tries again
        for entry in entries:
            last = newest.get(entry.schedule.name)
            if last is not None:
                with self._lock:
                    entry.last_due, entry.last_check_id = last
            # never fired: only due times since this process started count as missed
            since = last[0] if last is not None else self._first_sight - _TICK
            self._run_latest(entry, now, since)

    def _run_latest(self, entry: _Entry, now: datetime, since: datetime) -> None:
        """Fire the latest due time after ``since``, unless too late; never the ones before it.

        The cursor then moves to the due time handled (not to now: the next due time is found
        from there, see the module's note on DST), or stays put to try again."""
        name = entry.schedule.name
        allowed = max(timedelta(minutes=entry.schedule.grace_minutes), ON_TIME_SLACK)
        first, latest = entry.walk(since, now, allowed)
        if latest == since:
            entry.cursor = since
            return
        if now - latest > allowed:
            _log.info(
                "schedule %s: missed due times from %s, beyond its grace of %d min: not run",
                name,
                _iso(first),
                entry.schedule.grace_minutes,
            )
            entry.cursor = latest
            return
        if latest > first:
            _log.info(
                "schedule %s: due times from %s missed; only the latest, %s, runs",
                name,
                _iso(first),
                _iso(latest),
            )
        if self._claim_and_fire(entry, latest, now):
            entry.cursor = latest

    def _claim_and_fire(self, entry: _Entry, due: datetime, now: datetime) -> bool:
        """Claim ``due`` and fire it; False when the store could not be written (try again)."""
        name = entry.schedule.name
        try:
            claimed = self._claim(name, due, now)
        except StoreError as exc:
            _log.warning("schedule %s: cannot claim due time %s: %s", name, _iso(due), exc)
            return False
        if not claimed:
            _log.info("schedule %s: due time %s was already fired: skipped", name, _iso(due))
            return True
        try:
            check_id = self._fire(entry.schedule, due)
        except Exception:  # claimed: it is not retried, so a run never starts twice
            _log.exception("schedule %s: starting the check due %s failed", name, _iso(due))
            check_id = None
        if check_id is not None:
            try:
                with self.db.write() as conn:
                    conn.execute(
                        sa.update(schedule_fires)
                        .where(schedule_fires.c.schedule == name, schedule_fires.c.due_at == due)
                        .values(check_id=check_id)
                    )
            except StoreError as exc:
                _log.warning("schedule %s: cannot record check %s: %s", name, check_id, exc)
        with self._lock:
            entry.last_due, entry.last_check_id = due, check_id
        _log.info(
            "schedule %s: fired due time %s, %s late (check %s)",
            name,
            _iso(due),
            now - due,
            check_id,
        )
        return True

    def _claim(self, name: str, due: datetime, now: datetime) -> bool:
        """Insert the fire row; False when it exists (someone fired that due time already)."""
        insert = postgresql.insert if self.db.backend == "postgresql" else sqlite.insert
        statement = (
            insert(schedule_fires)
            .values(schedule=name, due_at=due, fired_at=now, holder=self.holder)
            .on_conflict_do_nothing()
            .returning(schedule_fires.c.schedule)  # a row back: ours (rowcount is not portable)
        )
        with self.db.write() as conn:
            return conn.execute(statement).first() is not None

    def _newest_fires(self) -> dict[str, tuple[datetime, int | None]]:
        """Each schedule's newest fire row: its due time and check id."""
        names = [e.schedule.name for e in self._entries]
        if not names:
            return {}
        fires = schedule_fires
        newest = (
            sa.select(fires.c.schedule, sa.func.max(fires.c.due_at).label("due_at"))
            .where(fires.c.schedule.in_(names))
            .group_by(fires.c.schedule)
            .subquery()
        )
        query = sa.select(fires.c.schedule, fires.c.due_at, fires.c.check_id).join(
            newest,
            sa.and_(fires.c.schedule == newest.c.schedule, fires.c.due_at == newest.c.due_at),
        )
        with self.db.read() as conn:
            return {row.schedule: (row.due_at, row.check_id) for row in conn.execute(query)}

    # health

    def state(self) -> dict[str, Any]:
        """For /healthz: whether this process leads, and each schedule's next and last firing."""
        try:
            newest = self._newest_fires()
        except StoreError:  # the store's own health is reported beside this
            newest = {}
        with self._lock:
            for entry in self._entries:
                last = newest.get(entry.schedule.name)
                if last is not None and (entry.last_due is None or last[0] >= entry.last_due):
                    entry.last_due, entry.last_check_id = last
            schedules = [
                {
                    "name": e.schedule.name,
                    "cron": e.schedule.cron,
                    "next_due": _iso(e.next_due),
                    "last_due": _iso(e.last_due),
                    "last_check_id": e.last_check_id,
                }
                for e in self._entries
            ]
            return {
                "leading": self._leads,
                "holder": self.holder,
                "timezone": self.timezone,
                "running": self._thread is not None and self._thread.is_alive(),
                "schedules": schedules,
            }
