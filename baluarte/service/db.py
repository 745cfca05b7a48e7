"""The service's database: the run store's database, with the service's tables migrated in.

``ServiceDb.open(url)`` opens the run store (migrating it as the CLI would) and then brings the
service's own tables to their newest revision, under the version table
``baluarte_service_version`` so the two Alembic histories never meet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from baluarte.store._engine import WRITE, connect, translate_errors
from baluarte.store._migrate import History, migrate
from baluarte.store._migrate import alembic_config as store_alembic_config
from baluarte.store._url import resolve

if TYPE_CHECKING:
    from alembic.config import Config

    from baluarte.store import Store

__all__ = ["HEAD", "MIGRATIONS", "VERSION_TABLE", "ServiceDb", "alembic_config"]

HEAD = "s0001"
VERSION_TABLE = "baluarte_service_version"
MIGRATIONS = Path(__file__).parent / "migrations"
# its own lock key: the run store's migration and this one never wait for each other
HISTORY = History(MIGRATIONS, VERSION_TABLE, HEAD, 0x62616C73, "the service's tables")


def alembic_config(connection: Connection | None = None) -> Config:
    return store_alembic_config(connection, MIGRATIONS)


class ServiceDb:
    """The service's tables and the run store, on one database."""

    def __init__(self, url: sa.URL, store: Store) -> None:
        self.url = url
        self.store = store
        self.engine: Engine = connect(url)

    @classmethod
    def open(cls, db: str | Path | None) -> ServiceDb:
        from baluarte.store import Store

        url = resolve(db)
        store = Store.open(db)
        try:
            service = cls(url, store)
            with translate_errors("cannot migrate the service's tables", url):
                migrate(service.engine, HISTORY)
        except BaseException:
            store.close()
            raise
        return service

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction (SQLite: taken at BEGIN), committed on exit."""
        with (
            translate_errors("cannot write to the store", self.url),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with (
            translate_errors("cannot read the store", self.url),
            self.engine.connect() as conn,
            conn.begin(),
        ):
            yield conn

    def close(self) -> None:
        self.engine.dispose()
        self.store.close()
