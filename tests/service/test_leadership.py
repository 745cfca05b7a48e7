"""Leadership among processes sharing a store: a SQLite lease, a PostgreSQL advisory lock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa

from baluarte.service.db import ServiceDb
from baluarte.service.leadership import Leadership, advisory_key
from baluarte.service.tables import scheduler_leases


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


START = datetime(2025, 1, 10, 1, 0, tzinfo=UTC)


def lease_row(db: ServiceDb) -> tuple[str, datetime] | None:
    with db.read() as conn:
        row = conn.execute(sa.select(scheduler_leases.c.holder, scheduler_leases.c.expires_at))
        found = row.first()
    return None if found is None else (found.holder, found.expires_at)


def test_sqlite_lease_is_taken_renewed_and_taken_over_once_lapsed(sqlite_db: ServiceDb) -> None:
    clock = Clock(START)
    a = Leadership(sqlite_db, "a", lease_seconds=30, renew_seconds=10, clock=clock)
    b = Leadership(sqlite_db, "b", lease_seconds=30, renew_seconds=10, clock=clock)

    assert a.try_lead() and a.leading
    assert lease_row(sqlite_db) == ("a", START + timedelta(seconds=30))
    assert not b.try_lead() and not b.leading

    clock.advance(10)
    assert a.try_lead()  # renewed: the lease now ends 30 s from here
    assert lease_row(sqlite_db) == ("a", START + timedelta(seconds=40))
    clock.advance(29)
    assert not b.try_lead()

    clock.advance(1)  # a stopped renewing 30 s ago: its lease has lapsed
    assert not a.leading
    assert b.try_lead() and b.leading
    assert lease_row(sqlite_db) == ("b", clock.now + timedelta(seconds=30))
    assert not a.try_lead() and not a.leading


def test_sqlite_release_frees_the_lease_at_once_and_only_its_own(sqlite_db: ServiceDb) -> None:
    clock = Clock(START)
    a = Leadership(sqlite_db, "a", clock=clock)
    b = Leadership(sqlite_db, "b", clock=clock)
    assert a.try_lead()
    b.release()  # b does not hold it: a's lease stays
    assert lease_row(sqlite_db) is not None and not b.try_lead()

    a.release()
    assert not a.leading and lease_row(sqlite_db) is None
    assert b.try_lead()


def test_renewal_must_come_before_the_lease_ends(sqlite_db: ServiceDb) -> None:
    with pytest.raises(ValueError, match="renew_seconds"):
        Leadership(sqlite_db, "a", lease_seconds=10, renew_seconds=10)


def _lock_holders(pg_url: str) -> list[int]:
    """Backends holding an advisory lock in this database, seen from outside."""
    with psycopg.connect(pg_url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchall()
    return [pid for (pid,) in rows]


def terminate_leader(pg_url: str) -> None:
    """End the leader's session from outside, as when its process dies or its link drops."""
    (pid,) = _lock_holders(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as admin:
        # waits (up to 5 s) for the session to be gone, and its lock with it
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


@pytest.mark.postgres
def test_postgresql_lock_is_held_by_one_session_and_freed_by_release(
    pg_db: ServiceDb, pg_url: str
) -> None:
    a = Leadership(pg_db, "a")
    b = Leadership(pg_db, "b")
    assert a.try_lead() and a.leading
    assert not b.try_lead() and not b.leading
    assert a.try_lead()  # renewal: the session is alive, the lock still its own
    assert len(_lock_holders(pg_url)) == 1

    a.release()
    assert not a.leading and _lock_holders(pg_url) == []
    assert b.try_lead()
    assert not a.try_lead()


@pytest.mark.postgres
def test_postgresql_leader_whose_session_ends_loses_the_lock(pg_db: ServiceDb, pg_url: str) -> None:
    a = Leadership(pg_db, "a")
    b = Leadership(pg_db, "b")
    assert a.try_lead()
    terminate_leader(pg_url)

    assert b.try_lead()  # no lapse to wait for: the server released it with the session
    assert not a.try_lead()  # a's renewal finds its session gone, and b holding the lock
    assert not a.leading

    b.release()
    assert a.try_lead()  # a reconnects and takes it


@pytest.mark.postgres
def test_postgresql_lock_is_per_database(pg_db: ServiceDb, pg_server: str) -> None:
    name = f"baluarte_store_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    other = ServiceDb.open(f"{pg_server}/{name}")
    try:
        a = Leadership(pg_db, "a")
        b = Leadership(other, "b")
        assert a.try_lead() and b.try_lead()  # two stores, two schedulers
        a.release()
        b.release()
    finally:
        other.close()
        with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_advisory_key_is_a_stable_signed_64_bit_integer() -> None:
    key = advisory_key("scheduler")
    assert key == advisory_key("scheduler") != advisory_key("other")
    assert -(2**63) <= key < 2**63
