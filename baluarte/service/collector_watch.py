"""The watch over site collectors: every minute their heartbeats are read from the broker, and
ONE notification is sent when a collector turns silent, one when it comes back — not one a
minute.

What was last told about each collector is read from the outbox (``notify.collectors.last_told``:
the newest message about it holds its ``event``), not kept in memory: every ``serve`` process
on the store and every restart sees the same memory. A collector silent when the watch first
looks, and never told about, is told once. Only one process watches at a time (its own
leadership, ``collector-watch``, as the scheduler's), so two processes do not both tell.

A collector never seen, not provisioned, or whose clock is ahead is neither silent nor back:
the dashboard shows it; the watch says nothing. A broker that cannot be read is logged once, at
warning, and its return at info.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from baluarte.collectors.health import CollectorStatus, state_code
from baluarte.errors import BaluarteError
from baluarte.service.collectors import central_broker, served_sites, statuses
from baluarte.service.context import Service
from baluarte.service.leadership import Leadership
from baluarte.service.notify import Notifier
from baluarte.service.notify.collectors import (
    CollectorEvent,
    Kind,
    enqueue_event,
    event_payloads,
    last_told,
)

__all__ = ["WATCH_EVERY_SECONDS", "CollectorWatch", "collector_watch"]

log = logging.getLogger("baluarte.service.collectors")

WATCH_EVERY_SECONDS = 60.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CollectorWatch:
    """``tick()`` every ``every`` seconds: read the declared collectors' status and keep the
    messages of those that changed in the outbox (then deliver them); returns what it told."""

    def __init__(
        self,
        service: Service,
        notifier: Notifier,
        *,
        every: float = WATCH_EVERY_SECONDS,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.service = service
        self.notifier = notifier
        self.every = every
        self._clock = clock
        # renewed at every tick; lapses when three are missed (a process that died)
        self.leadership = Leadership(
            service.db,
            service.holder,
            name="collector-watch",
            lease_seconds=3 * every,
            renew_seconds=every,
        )
        self._failing = False

    def tick(self) -> list[CollectorEvent]:
        if not self.leadership.try_lead():
            return []
        config = self.service.config
        try:
            inventory = self.service.inputs().inventory
            declared = inventory.collectors
            broker = central_broker(config)
            if not declared or broker is None:
                return []
            found = statuses(broker, [c.name for c in declared])
        except BaluarteError as exc:
            if not self._failing:
                log.warning("the collectors' status cannot be read: %s; trying again", exc)
            self._failing = True
            return []
        if self._failing:
            log.info("the collectors' status is read again")
        self._failing = False
        now = self._clock()
        told = last_told(self.service.db, [c.name for c in declared])
        sites = served_sites(inventory)
        events: list[CollectorEvent] = []
        for collector, status in zip(declared, found, strict=True):
            state = state_code(status, now, after=config.collector_silent_after)
            kind = _to_tell(state, told.get(status.name))
            if kind is not None:
                events.append(_event(kind, status, now, collector.description, sites))
        for event in events:
            log.info("collector %s is %s: telling", event.collector, event.kind)
            payloads = event_payloads(
                self.notifier.settings,
                event,
                lang=self.notifier.lang,
                timezone=config.timezone,
                base_url=config.base_url,
            )
            enqueue_event(self.service.db, event, payloads)
        if events:
            self.notifier.deliver_due()  # at once; what fails is retried by the loop
        return events

    def close(self) -> None:
        self.leadership.release()


def _to_tell(state: str, last: Kind | None) -> Kind | None:
    """What a collector in ``state`` is to be told about, given what was ``last`` told."""
    if state == "silent" and last != "silent":
        return "silent"
    if state == "ok" and last == "silent":
        return "back"
    return None


def _event(
    kind: Kind,
    status: CollectorStatus,
    now: datetime,
    description: str | None,
    sites: dict[str, list[tuple[str, str]]],
) -> CollectorEvent:
    return CollectorEvent(
        kind=kind,
        collector=status.name,
        at=now,
        last_seen=status.last_seen,
        hostname=status.hostname,
        version=status.version,
        description=description,
        sites=tuple(sites.get(status.name, ())),
    )


def collector_watch(service: Service, notifier: Notifier) -> CollectorWatch | None:
    """The watch of ``service``, when it has a broker and somewhere to tell."""
    if service.config.broker is None or not notifier.enabled:
        return None
    return CollectorWatch(service, notifier)
