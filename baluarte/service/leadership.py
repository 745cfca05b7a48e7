"""Which of several ``serve`` processes sharing a store runs the scheduler: exactly one at a time.

PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection of its own, held
open while the process leads. The server releases it when that session ends, so a killed
process loses leadership at once; each renewal checks the session is still alive.

SQLite: a lease row in ``service_scheduler_leases`` (name, holder, expires_at), taken when absent
or lapsed and renewed while held, each time in one write transaction (SQLite's write lock is
taken at BEGIN, so two processes never both see the lease free). A killed process loses
leadership when its lease lapses.

Leadership only says who should fire; the schedule's fire table is what makes a double firing
impossible, even in the moment two processes both believe they lead.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from baluarte.errors import StoreError
from baluarte.service.db import ServiceDb
from baluarte.service.tables import scheduler_leases
from baluarte.store._engine import translate_errors

__all__ = ["DEFAULT_LEASE_SECONDS", "DEFAULT_RENEW_SECONDS", "Leadership", "advisory_key"]

DEFAULT_LEASE_SECONDS = 30.0
DEFAULT_RENEW_SECONDS = 10.0

_log = logging.getLogger("baluarte.service.leadership")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def advisory_key(name: str) -> int:
    """The PostgreSQL advisory lock key of the leadership ``name`` (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"baluarte.service.leadership:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Leadership:
    """Leadership of ``name`` among the processes sharing ``db``; this process is ``holder``.

    ``try_lead()`` acquires or renews and says whether this process leads now; call it at least
    every ``renew_seconds`` (the lease lasts ``lease_seconds`` on SQLite). ``clock`` gives aware
    UTC times; every process sharing a SQLite lease must use the same clock.
    """

    def __init__(
        self,
        db: ServiceDb,
        holder: str,
        *,
        name: str = "scheduler",
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        renew_seconds: float = DEFAULT_RENEW_SECONDS,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not 0 < renew_seconds < lease_seconds:
            raise ValueError("renew_seconds must be positive and shorter than lease_seconds")
        self.db = db
        self.holder = holder
        self.name = name
        self.lease_seconds = lease_seconds
        self.renew_seconds = renew_seconds
        self._clock = clock
        self._key = advisory_key(name)
        self._conn: Connection | None = None  # PostgreSQL: the session holding the lock
        self._expires_at: datetime | None = None  # SQLite: our lease's end, as last written

    @property
    def leading(self) -> bool:
        """Whether this process leads, as of its last ``try_lead()`` (a lapsed lease does not)."""
        if self.db.backend == "postgresql":
            return self._conn is not None
        return self._expires_at is not None and self._clock() < self._expires_at

    def try_lead(self) -> bool:
        """Acquire leadership, or renew it if held; whether this process leads now.

        A store that cannot be reached means not leading (logged), never an exception.
        """
        try:
            if self.db.backend == "postgresql":
                return self._try_lock()
            return self._try_lease()
        except StoreError as exc:
            _log.warning("leadership of %s: %s", self.name, exc)
            self._drop()
            return False

    def release(self) -> None:
        """Give leadership up now, so another process may take it without waiting for a lapse."""
        if self.db.backend == "postgresql":
            self._drop()  # closing the session releases its advisory lock
            return
        if self._expires_at is None:
            return
        self._expires_at = None
        try:
            with self.db.write() as conn:
                conn.execute(
                    sa.delete(scheduler_leases).where(
                        scheduler_leases.c.name == self.name,
                        scheduler_leases.c.holder == self.holder,
                    )
                )
        except StoreError as exc:  # the lease then lapses on its own
            _log.warning("cannot release the leadership of %s: %s", self.name, exc)

    # PostgreSQL

    def _try_lock(self) -> bool:
        if self._conn is not None:
            try:
                with translate_errors("lost the scheduler's session", self.db.url):
                    self._conn.exec_driver_sql("SELECT 1")
                return True
            except StoreError as exc:
                _log.warning("leadership of %s lost: %s", self.name, exc)
                self._drop()
                # try again below: another process may not have taken it yet
        conn: Connection | None = None
        with translate_errors("cannot take the scheduler's lock", self.db.url):
            try:
                # autocommit: the session holds the lock without a transaction left open
                conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                got = conn.execute(
                    sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
                ).scalar()
            except BaseException:
                if conn is not None:
                    conn.invalidate()
                    conn.close()
                raise
        if got:
            self._conn = conn
            return True
        conn.close()
        return False

    def _drop(self) -> None:
        self._expires_at = None
        conn, self._conn = self._conn, None
        if conn is None:
            return
        # invalidate: the DBAPI connection is closed, not returned to the pool with the lock
        try:
            conn.invalidate()
            conn.close()
        except sa.exc.SQLAlchemyError:  # already dead: nothing left to release
            pass

    # SQLite

    def _try_lease(self) -> bool:
        leases = scheduler_leases
        with self.db.write() as conn:
            now = self._clock()
            expires = now + timedelta(seconds=self.lease_seconds)
            row = conn.execute(
                sa.select(leases.c.holder, leases.c.expires_at).where(leases.c.name == self.name)
            ).first()
            if row is None:
                conn.execute(
                    sa.insert(leases).values(name=self.name, holder=self.holder, expires_at=expires)
                )
            elif row.holder == self.holder or row.expires_at <= now:
                conn.execute(
                    sa.update(leases)
                    .where(leases.c.name == self.name)
                    .values(holder=self.holder, expires_at=expires)
                )
            else:
                self._expires_at = None
                return False
        self._expires_at = expires
        return True
