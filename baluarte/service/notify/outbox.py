"""The outbox: notifications kept in the store until sent, retried with backoff, never lost.

``enqueue`` writes one row per client, run and channel (``service_notifications``; the unique
key makes a second enqueue of the same a no-op) holding the message as it will be sent. The
service's background loop calls ``deliver_due``: each due row is claimed (so two processes never
send it twice), handed to its channel's sender, then marked sent, or its failure recorded — the
error masked of every secret — and the next attempt scheduled (``BACKOFF``), until it is given
up after ``MAX_ATTEMPTS`` (``next_attempt_at`` NULL, the error kept). Nothing here raises into
the caller: a failure to notify is logged (logger ``baluarte.service.notify``) and retried, and
never costs the run that was noticed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from baluarte.masking import mask_secrets, mask_url_credentials
from baluarte.service.db import ServiceDb
from baluarte.service.notify.changes import ClientChanges
from baluarte.service.tables import notifications
from baluarte.text import inert, shorten

__all__ = [
    "BACKOFF",
    "CLAIM",
    "MAX_ATTEMPTS",
    "Notification",
    "Sender",
    "deliver_due",
    "enqueue",
    "error_text",
    "last_notified",
    "recent",
]

log = logging.getLogger("baluarte.service.notify")

# A sender takes a row's payload and returns once the channel accepted it; any exception is a
# failed attempt (its message is masked before it is kept or logged).
Sender = Callable[[dict[str, Any]], None]

# The wait after the 1st, 2nd, … failed attempt; the last is repeated until MAX_ATTEMPTS.
BACKOFF: tuple[timedelta, ...] = tuple(timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360, 720))
MAX_ATTEMPTS = 8  # about a day and a half of retries, then given up (the row stays)
# A claimed row is due again after this, should the process die while sending it.
CLAIM = timedelta(minutes=5)
ERROR_MAX_CHARS = 1000


@dataclass(frozen=True)
class Notification:
    """A row of the outbox, as the dashboard lists it."""

    id: int
    created_at: datetime
    client: str
    run_id: int | None
    channel: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None

    @property
    def state(self) -> str:
        """sent | pending | given_up"""
        if self.sent_at is not None:
            return "sent"
        return "pending" if self.next_attempt_at is not None else "given_up"


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def enqueue(
    db: ServiceDb,
    changes: ClientChanges,
    payloads: Mapping[str, Mapping[str, Any]],
    *,
    now: datetime | None = None,
) -> int:
    """Keep one message per channel (``{"email": {...}, "webhook:0": {...}}``) about
    ``changes``; returns the rows written (an enqueue already done writes none). Raises
    StoreError when the store cannot be written (``notify_run`` logs it instead)."""
    if changes.empty or not payloads:
        return 0
    at = _now(now)
    rows = [
        {
            "created_at": at,
            "client": changes.client,
            "run_id": changes.run_id,
            "channel": channel,
            "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
            "attempts": 0,
            "next_attempt_at": at,
        }
        for channel, payload in payloads.items()
    ]
    written = 0
    with db.write() as conn:
        for row in rows:
            written += _insert_once(conn, row)
    return written


def _insert_once(conn: sa.Connection, row: dict[str, Any]) -> int:
    if row["run_id"] is None:  # NULLs never collide in a unique key: nothing to deduplicate on
        conn.execute(notifications.insert().values(**row))
        return 1
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(notifications).values(**row).on_conflict_do_nothing()
    # RETURNING, not rowcount: psycopg reports no count for an insert that may do nothing
    return len(conn.execute(stmt.returning(notifications.c.id)).all())


def error_text(exc: BaseException) -> str:
    """What is kept and logged of a failure: masked of every secret, one line, bounded."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = inert(mask_url_credentials(mask_secrets(text)), newlines=False)
    cut, omitted = shorten(text, ERROR_MAX_CHARS)
    return f"{cut}…" if omitted else cut


def _backoff(attempts: int, backoff: Sequence[timedelta]) -> timedelta:
    return backoff[min(attempts, len(backoff)) - 1]


def deliver_due(
    db: ServiceDb,
    senders: Mapping[str, Sender],
    now: datetime | None = None,
    *,
    limit: int = 100,
    backoff: Sequence[timedelta] = BACKOFF,
    max_attempts: int = MAX_ATTEMPTS,
) -> int:
    """Send the rows due at ``now`` (default: the current time), at most ``limit``; returns how
    many were sent. Never raises: every failure is recorded, logged and retried later."""
    at = _now(now)
    sent = 0
    try:
        with db.read() as conn:
            due = conn.execute(
                sa.select(
                    notifications.c.id,
                    notifications.c.client,
                    notifications.c.run_id,
                    notifications.c.channel,
                    notifications.c.payload,
                    notifications.c.attempts,
                )
                .where(
                    notifications.c.sent_at.is_(None),
                    notifications.c.next_attempt_at.is_not(None),
                    notifications.c.next_attempt_at <= at,
                )
                .order_by(notifications.c.next_attempt_at, notifications.c.id)
                .limit(limit)
            ).all()
    except Exception as exc:
        log.error("cannot read the notifications due: %s", error_text(exc))
        return 0
    for row in due:
        try:
            if _deliver(db, row, senders, at, backoff, max_attempts):
                sent += 1
        except Exception as exc:  # the store failed while recording: the claim lapses, retried
            log.error(
                "notification %s (client %s, %s) not recorded: %s",
                row.id,
                inert(row.client, newlines=False),
                row.channel,
                error_text(exc),
            )
    return sent


def _deliver(
    db: ServiceDb,
    row: Any,  # a row of the select in deliver_due
    senders: Mapping[str, Sender],
    at: datetime,
    backoff: Sequence[timedelta],
    max_attempts: int,
) -> bool:
    # Claim it: only the process whose update matches sends it (another one's claim moved
    # next_attempt_at past ``at``, or its attempt raised ``attempts``).
    with db.write() as conn:
        claimed = conn.execute(
            notifications.update()
            .where(
                notifications.c.id == row.id,
                notifications.c.attempts == row.attempts,
                notifications.c.sent_at.is_(None),
                notifications.c.next_attempt_at <= at,
            )
            .values(next_attempt_at=at + CLAIM)
        ).rowcount
    if not claimed:
        return False
    client = inert(row.client, newlines=False)
    attempts = row.attempts + 1
    try:
        sender = senders.get(row.channel)
        if sender is None:
            raise LookupError(f"no {row.channel} channel is configured now")
        sender(json.loads(row.payload))
    except Exception as exc:
        error = error_text(exc)
        given_up = attempts >= max_attempts
        with db.write() as conn:
            conn.execute(
                notifications.update()
                .where(notifications.c.id == row.id)
                .values(
                    attempts=attempts,
                    last_error=error,
                    next_attempt_at=None if given_up else at + _backoff(attempts, backoff),
                )
            )
        if given_up:
            log.error(
                "notification %s to %s about client %s (run %s) given up after %d attempts: %s",
                row.id, row.channel, client, row.run_id, attempts, error,
            )  # fmt: skip
        else:
            log.warning(
                "notification %s to %s about client %s (run %s) failed (attempt %d),"
                " retried later: %s",
                row.id, row.channel, client, row.run_id, attempts, error,
            )  # fmt: skip
        return False
    with db.write() as conn:
        conn.execute(
            notifications.update()
            .where(notifications.c.id == row.id)
            .values(attempts=attempts, sent_at=at, next_attempt_at=None, last_error=None)
        )
    log.info(
        "notification %s sent to %s about client %s (run %s)",
        row.id, row.channel, client, row.run_id,
    )  # fmt: skip
    return True


def last_notified(db: ServiceDb, client: str) -> datetime | None:
    """When a message about ``client`` was last kept to be sent (None: never)."""
    with db.read() as conn:
        value: datetime | None = conn.execute(
            sa.select(notifications.c.created_at)
            .where(notifications.c.client == client)
            .order_by(notifications.c.created_at.desc())
            .limit(1)
        ).scalar()
    return value


def recent(db: ServiceDb, *, client: str | None = None, limit: int = 100) -> list[Notification]:
    """The newest rows first (``client``: only that client's)."""
    query = sa.select(
        notifications.c.id,
        notifications.c.created_at,
        notifications.c.client,
        notifications.c.run_id,
        notifications.c.channel,
        notifications.c.attempts,
        notifications.c.next_attempt_at,
        notifications.c.sent_at,
        notifications.c.last_error,
    )
    if client is not None:
        query = query.where(notifications.c.client == client)
    with db.read() as conn:
        rows = conn.execute(query.order_by(notifications.c.id.desc()).limit(limit)).all()
    return [Notification(**row._mapping) for row in rows]
