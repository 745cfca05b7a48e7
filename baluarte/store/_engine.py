"""The store's database connection: backend quirks, and foreign errors turned into StoreError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from baluarte.errors import StoreError
from baluarte.store._url import mask

__all__ = ["WRITE", "connect", "translate_errors"]

# Execution options for a connection that will write: SQLite then takes its write lock at
# BEGIN, so two writers queue (busy timeout) instead of failing on a read-to-write upgrade.
WRITE: dict[str, Any] = {"baluarte_write": True}

_SQLITE_BUSY_SECONDS = 30
_PG_CONNECT_TIMEOUT_SECONDS = 10


def connect(url: URL) -> Engine:
    """An Engine for ``url``; nothing is opened until first use."""
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        connect_args["timeout"] = _SQLITE_BUSY_SECONDS
    elif url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = _PG_CONNECT_TIMEOUT_SECONDS
    engine = sa.create_engine(url, connect_args=connect_args)
    if url.get_backend_name() == "sqlite":
        _sqlite_transactions(engine)
    return engine


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, say when transactions begin (SQLAlchemy's own recipe).

    pysqlite's implicit BEGIN skips DDL, so migrations would not be atomic, and it cannot take
    the write lock up front.
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("baluarte_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def translate_errors(doing: str, url: URL) -> Iterator[None]:
    """Turn SQLAlchemy and driver errors into StoreError, with the URL's password masked.

    When the URL has a password the cause is not chained: a driver's exception may hold the
    connection parameters, password included.
    """
    try:
        yield
    except StoreError:
        raise
    except (sa.exc.SQLAlchemyError, OSError, ValueError) as exc:
        detail = _describe(exc)
        where = url.render_as_string(hide_password=True)
        message = mask(f"{doing} in {where}: {detail}", url)
        if url.password:
            raise StoreError(message) from None
        raise StoreError(message) from exc


def _describe(exc: BaseException) -> str:
    """The driver's own first line when there is one (SQLAlchemy's wrapper adds SQL and links)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first
