"""Bring a store's schema to the newest Alembic revision (``Store.open`` calls this).

``migrate`` serves any Alembic history kept inside the package (the run store's here, the
service's in ``baluarte/service/migrations``), each under its own version table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from baluarte.errors import StoreError
from baluarte.store._engine import WRITE

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = ["HEAD", "MIGRATIONS", "STORE", "History", "alembic_config", "migrate", "upgrade"]

# The newest revision in migrations/versions (a test keeps it equal to Alembic's head). Knowing
# it lets an up-to-date store open without importing Alembic: start-up stays light.
HEAD = "0008"

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class History:
    """One Alembic history of tables in the store's database."""

    location: Path  # its env.py and versions/
    version_table: str
    head: str  # its newest revision, known without importing Alembic
    # serialises two first opens on PostgreSQL; any constant, the same in every Baluarte
    lock_key: int
    what: str  # "the run store", in messages


STORE = History(MIGRATIONS, "alembic_version", HEAD, 0x62616C75, "the run store")


def alembic_config(connection: Connection | None = None, location: Path = MIGRATIONS) -> Config:
    """An Alembic Config without alembic.ini: the migrations ship inside the package."""
    from alembic.config import Config

    config = Config()
    # configparser interpolation: a "%" in the install path must be doubled
    config.set_main_option("script_location", str(location).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Migrate the run store to head (read only when at head, so read-only copies open)."""
    migrate(engine, STORE)


def migrate(engine: Engine, history: History) -> None:
    """Migrate ``history``'s tables to its head; only read when they are at head already."""
    if _current_fast(engine, history.version_table) == history.head:
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(alembic_config(location=history.location))
    head = script.get_current_head()
    with engine.connect() as conn:
        opts = {"version_table": history.version_table}
        current = MigrationContext.configure(conn, opts=opts).get_current_revision()
    if current == head:
        return
    if current is not None and _unknown(script, current):
        raise StoreError(
            f"the schema of {history.what} (revision {current}) is newer than this Baluarte "
            "knows; upgrade Baluarte to use it"
        )
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            # two first opens at once: the second waits here, then finds the schema at head
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": history.lock_key})
        try:
            command.upgrade(alembic_config(conn, history.location), "head")
        except CommandError as exc:
            raise StoreError(f"cannot migrate {history.what}: {exc}") from exc


def _current_fast(engine: Engine, version_table: str) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT version_num FROM {version_table}")).scalar()
    except sa.exc.DBAPIError:
        return None  # no schema yet, or not readable: the full path decides


def _unknown(script: ScriptDirectory, revision: str) -> bool:
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    try:
        return script.get_revision(revision) is None
    except (RevisionError, CommandError):
        return True
