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

from baluarte.errors import StoreError
from baluarte.store._engine import WRITE, connect, translate_errors
from baluarte.store._url import resolve

if TYPE_CHECKING:
    from alembic.config import Config

    from baluarte.store import Store

__all__ = ["HEAD", "MIGRATIONS", "VERSION_TABLE", "ServiceDb", "alembic_config"]

HEAD = "s0001"
VERSION_TABLE = "baluarte_service_version"
MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_KEY = 0x62616C73  # differs from the run store's migration lock


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


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
                _upgrade(service.engine)
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


def _upgrade(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            current = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    except sa.exc.DBAPIError:
        current = None
    if current == HEAD:
        return
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(alembic_config())
    if current is not None and current not in {r.revision for r in script.walk_revisions()}:
        raise StoreError(
            f"the service's tables (revision {current}) are newer than this Baluarte knows; "
            "upgrade Baluarte to use them"
        )
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        try:
            command.upgrade(alembic_config(conn), "head")
        except CommandError as exc:
            raise StoreError(f"cannot migrate the service's tables: {exc}") from exc
