"""Collectors' heartbeats, and what the central side reads of them (``collectors status``).

A running collector's ``HeartbeatSender`` publishes a ``Heartbeat`` every ``interval`` seconds
to ``baluarte.results`` with routing key ``heartbeat.NAME``; ``topology`` binds the queue
``baluarte.heartbeat.NAME`` (``x-max-length`` 1) to it, so that queue holds the newest one
only. Each heartbeat carries the AMQP ``user_id`` of the collector's own RabbitMQ user:
RabbitMQ refuses a message whose ``user_id`` is not the login that published it, so a
heartbeat with ``user_id`` ``baluarte-collector-NAME`` was sent by collector NAME. Its body is
still untrusted: it is validated, and shown inert.

``read_status`` reads with the central login and changes nothing: the task queue's depth and
consumers by a passive declare, the heartbeat by ``basic_get`` and a reject that puts it back.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from baluarte.collectors.broker import (
    BrokerUrl,
    check_collector_name,
    open_connection,
    reply_code,
    why_failed,
)
from baluarte.collectors.names import broker_user, queue_name
from baluarte.collectors.publisher import ResultsPublisher
from baluarte.collectors.topology import heartbeat_key, heartbeat_queue
from baluarte.errors import InputError

__all__ = [
    "CLOCK_SLACK",
    "HEARTBEAT_INTERVAL",
    "SILENT_AFTER",
    "Age",
    "CollectorStatus",
    "Heartbeat",
    "HeartbeatSender",
    "State",
    "age_text",
    "is_ok",
    "read_status",
    "read_status_on",
    "silent",
    "state_code",
    "state_of",
]

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = 30.0
# Three heartbeats missed: one lost to a broker restart is not yet an alarm.
SILENT_AFTER = 3 * HEARTBEAT_INTERVAL
# A heartbeat dated further ahead than this comes from a clock that is wrong: a collector that
# stopped would look alive until its clock's "now" is reached here.
CLOCK_SLACK = 60.0
_MAX_BODY = 16_384  # a heartbeat is ~250 bytes: more is not one
_PEEK_MAX = 5  # the queue holds one; a few more can be there for a moment
_TIMEOUT = 10.0
_NOT_FOUND = 404  # AMQP reply code


class Heartbeat(BaseModel, extra="forbid", populate_by_name=True):
    """What a collector says about itself every ``interval`` seconds (JSON on the wire)."""

    # "schema" itself would shadow BaseModel.schema(): the field is named so on the wire only
    schema_: Literal[1] = Field(default=1, alias="schema")
    collector: str = Field(max_length=63)
    version: str = Field(max_length=100)
    hostname: str = Field(max_length=255)
    started_at: AwareDatetime
    sent_at: AwareDatetime
    concurrency: int = Field(ge=1, le=10_000)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


class HeartbeatSender:
    """A daemon thread publishing collector ``name``'s heartbeat every ``interval`` seconds
    (the first at once) with the collector's own login, on a connection of its own.

    It never declares anything (the collector may not: the central side does). A lost broker
    is logged once, at warning, and tried again at every tick; so is its return, at info."""

    def __init__(
        self,
        broker: BrokerUrl,
        name: str,
        *,
        interval: float = HEARTBEAT_INTERVAL,
        concurrency: int = 1,
    ) -> None:
        check_collector_name(name)
        if broker.user != broker_user(name):
            # RabbitMQ refuses a user_id that is not the login: say so now, not every tick
            raise InputError(
                f"collector {name}'s heartbeat is sent with its own login {broker_user(name)},"
                f" not {broker.user}",
                code="wrong_value",
                key="--broker",
            )
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.broker, self.name, self.interval = broker, name, interval
        self.concurrency = concurrency
        self.started_at = datetime.now(UTC)
        self._hostname = socket.gethostname()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{name}", daemon=True)
        self._publisher = ResultsPublisher(broker, name, timeout=_TIMEOUT)
        self._sent = 0

    @property
    def sent(self) -> int:
        """Heartbeats the broker confirmed so far."""
        return self._sent

    def start(self) -> None:
        self.started_at = datetime.now(UTC)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop sending; wait for the thread (at most ``timeout`` seconds)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def heartbeat(self) -> Heartbeat:
        from baluarte import __version__

        return Heartbeat(
            collector=self.name,
            version=__version__,
            hostname=self._hostname,
            started_at=self.started_at,
            sent_at=datetime.now(UTC),
            concurrency=self.concurrency,
        )

    def _run(self) -> None:
        failing = False
        try:
            while True:
                try:
                    self._send()
                    self._sent += 1
                    if failing:
                        log.info("collector %s: heartbeat sent again", self.name)
                    failing = False
                except Exception as exc:
                    self._close()  # reconnect at the next tick
                    if not failing:
                        log.warning(
                            "collector %s: heartbeat not sent (%s); trying again every %g s",
                            self.name,
                            why_failed(exc),
                            self.interval,
                        )
                    failing = True
                if self._stop.wait(self.interval):
                    return
        finally:
            self._close()

    def _send(self) -> None:
        self._publisher.publish(self.heartbeat().to_json(), heartbeat_key(self.name))

    def _close(self) -> None:
        self._publisher.close()


@dataclass(frozen=True)
class CollectorStatus:
    """What the broker says of collector ``name``. ``queued``/``consumers`` None: it is not
    provisioned on this broker (a queue of it is missing; ``problem`` says which)."""

    name: str
    last_seen: datetime | None  # the newest heartbeat's sent_at (the collector's clock)
    version: str | None
    hostname: str | None
    queued: int | None  # tasks waiting in baluarte.collector.NAME
    consumers: int | None  # consumers of that queue (a running collector: 1)
    problem: str | None = None


def read_status(broker: BrokerUrl, names: Sequence[str]) -> list[CollectorStatus]:
    """The status of each collector in ``names``, read with ``broker``'s (central) login.

    Declares nothing and consumes nothing: a heartbeat read is put back. Raises InputError
    when the broker cannot be reached or refuses the login."""
    for name in names:
        check_collector_name(name)
    with open_connection(broker) as conn:
        try:
            return read_status_on(conn, names)
        except (*conn.connection_errors, *conn.channel_errors) as exc:
            # e.g. a central login without read permission on the collectors' queues
            raise InputError(
                f"reading the collectors' queues on {broker.masked} failed: {why_failed(exc)}",
                code="wrong_value",
                key="--broker",
                allowed="the central login, with permissions on the collectors' queues",
            ) from None


def read_status_on(conn: Any, names: Sequence[str]) -> list[CollectorStatus]:
    """``read_status`` on a connection already open with the central login (the connection's
    and channels' errors are the caller's to say)."""
    return [_status(conn, name) for name in names]


def _status(conn: Any, name: str) -> CollectorStatus:
    tasks = _passive(conn, queue_name(name))
    beats_queue = heartbeat_queue(name).name
    beats = _peek(conn, beats_queue) if tasks is not None else None
    if tasks is None or beats is None:
        missing = queue_name(name) if tasks is None else beats_queue
        return CollectorStatus(
            name, None, None, None, None, None,
            f"not provisioned on this broker: queue {missing} missing",
        )  # fmt: skip
    queued, consumers = tasks
    newest: Heartbeat | None = None
    ignored: list[str] = []
    for message in beats:
        heartbeat, why = _heartbeat(message, name)
        if heartbeat is None:
            ignored.append(why)
        elif newest is None or heartbeat.sent_at > newest.sent_at:
            newest = heartbeat
    problem = None
    if ignored and newest is None:
        problem = "ignored a heartbeat: " + "; ".join(sorted(set(ignored)))
    if newest is None:
        return CollectorStatus(name, None, None, None, queued, consumers, problem)
    return CollectorStatus(
        name,
        newest.sent_at.astimezone(UTC),
        newest.version,
        newest.hostname,
        queued,
        consumers,
        problem,
    )


def _heartbeat(message: Any, name: str) -> tuple[Heartbeat | None, str]:
    """The message's heartbeat if collector ``name`` sent it and it is one; else why not."""
    sender = (message.properties or {}).get("user_id")
    if sender != broker_user(name):
        return None, f"not sent by {broker_user(name)} (user_id {sender or 'missing'})"
    body = message.body
    if not isinstance(body, bytes | str) or len(body) > _MAX_BODY:
        return None, "not a heartbeat (too large)"
    try:
        heartbeat = Heartbeat.model_validate_json(body)
    except ValidationError as exc:
        return None, f"not a heartbeat ({exc.error_count()} errors in it)"
    if heartbeat.collector != name:
        return None, f"its own heartbeat names another collector ({heartbeat.collector!r})"
    return heartbeat, ""


def _passive(conn: Any, queue: str) -> tuple[int, int] | None:
    """(messages ready, consumers) of ``queue``; None when it does not exist."""
    # a passive declare of a missing queue closes its channel: one channel per probe
    channel = conn.channel()
    try:
        ok = channel.queue_declare(queue, passive=True)
    except conn.channel_errors as exc:
        if reply_code(exc) != _NOT_FOUND:
            raise
        return None
    finally:
        _close_channel(channel)
    return int(ok.message_count), int(ok.consumer_count)


def _peek(conn: Any, queue: str) -> list[Any] | None:
    """The messages in ``queue``, each put back where it was; None when it does not exist."""
    channel = conn.channel()
    got: list[Any] = []
    try:
        for _ in range(_PEEK_MAX):
            message = channel.basic_get(queue, no_ack=False)
            if message is None:
                break
            got.append(message)
        for message in got:
            channel.basic_reject(message.delivery_tag, requeue=True)
    except conn.channel_errors as exc:
        if reply_code(exc) != _NOT_FOUND:
            raise
        return None
    finally:
        _close_channel(channel)  # anything still unacknowledged goes back too
    return got


def _close_channel(channel: Any) -> None:
    try:
        channel.close()
    except Exception:  # closed by the broker already
        log.debug("closing a probe channel failed", exc_info=True)


def silent(status: CollectorStatus, now: datetime, *, after: float = SILENT_AFTER) -> bool:
    """Seen once, but not in the last ``after`` seconds."""
    return status.last_seen is not None and (now - status.last_seen).total_seconds() > after


State = Literal["ok", "silent", "never_seen", "not_provisioned", "clock_ahead"]


def state_code(status: CollectorStatus, now: datetime, *, after: float = SILENT_AFTER) -> State:
    """``ok``, ``silent``, ``never_seen``, ``not_provisioned`` or ``clock_ahead`` (its heartbeat
    is dated in the future: its clock is wrong, and a stopped collector would look alive)."""
    if status.queued is None:
        return "not_provisioned"
    if status.last_seen is None:
        return "never_seen"
    if (status.last_seen - now).total_seconds() > CLOCK_SLACK:
        return "clock_ahead"
    return "silent" if silent(status, now, after=after) else "ok"


def state_of(status: CollectorStatus, now: datetime, *, after: float = SILENT_AFTER) -> str:
    """The state in words: ``ok``, ``silent for 12 min``, ``never seen``, ``not provisioned``
    or ``clock ahead by 5 min``."""
    code = state_code(status, now, after=after)
    if code == "clock_ahead":
        assert status.last_seen is not None
        return f"clock ahead by {age_text((status.last_seen - now).total_seconds())}"
    if code == "silent":
        assert status.last_seen is not None
        return f"silent for {age_text((now - status.last_seen).total_seconds())}"
    return code.replace("_", " ")


def is_ok(status: CollectorStatus, now: datetime, *, after: float = SILENT_AFTER) -> bool:
    return state_code(status, now, after=after) == "ok"


@dataclass(frozen=True)
class Age:
    """How long, to a person: ``count`` ``unit`` (seconds, minutes, hours or days)."""

    count: int
    unit: Literal["seconds", "minutes", "hours", "days"]

    @classmethod
    def of(cls, seconds: float) -> Age:
        seconds = max(0.0, seconds)
        if seconds < 60:
            return cls(int(seconds), "seconds")
        if seconds < 3600:
            return cls(int(seconds // 60), "minutes")
        if seconds < 2 * 86400:
            return cls(int(seconds // 3600), "hours")
        return cls(int(seconds // 86400), "days")


_SHORT = {"seconds": "s", "minutes": "min", "hours": "h", "days": "days"}


def age_text(seconds: float) -> str:
    """``12 s``, ``12 min``, ``5 h``, ``3 days``: how long, to a person."""
    age = Age.of(seconds)
    return f"{age.count} {_SHORT[age.unit]}"
