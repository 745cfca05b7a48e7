"""Bring a store's schema to the newest Alembic revision (``Store.open`` calls this)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from baluarte.errors import StoreError
from baluarte.store._engine import WRITE

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = ["HEAD", "MIGRATIONS", "alembic_config", "upgrade"]

# The newest revision in migrations/versions (a test keeps it equal to Alembic's head). Knowing
# it lets an up-to-date store open without importing Alembic: start-up stays light.
HEAD = "0007"

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works: it only has to be the same in every Baluarte that migrates this database.
_PG_LOCK_KEY = 0x62616C75


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config without alembic.ini: the migrations ship inside the package."""
    from alembic.config import Config

    config = Config()
    # configparser interpolation: a "%" in the install path must be doubled
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Migrate to head. A store already at head is only read, so read-only copies still open."""
    if _current_fast(engine) == HEAD:
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    if current is not None and _unknown(script, current):
        raise StoreError(
            f"the store's schema (revision {current}) is newer than this Baluarte knows; "
            "upgrade Baluarte to use it"
        )
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            # two first opens at once: the second waits here, then finds the schema at head
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        try:
            command.upgrade(alembic_config(conn), "head")
        except CommandError as exc:
            raise StoreError(f"cannot migrate the run store: {exc}") from exc


def _current_fast(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DBAPIError:
        return None  # no schema yet, or not readable: the full path decides


def _unknown(script: ScriptDirectory, revision: str) -> bool:
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    try:
        return script.get_revision(revision) is None
    except (RevisionError, CommandError):
        return True
