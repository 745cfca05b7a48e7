"""The service's tables: migrated beside the run store's, equal to their definitions."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from baluarte.errors import StoreError
from baluarte.service.db import HEAD, VERSION_TABLE, ServiceDb, alembic_config
from baluarte.service.tables import metadata
from baluarte.store.tables import metadata as store_metadata


def test_head_constant_is_alembics_head() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


def test_migrations_create_the_declared_tables(service_db: ServiceDb) -> None:
    with service_db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        # the run store's own tables (and their indexes) are the run store's business
        theirs = {*store_metadata.tables, "alembic_version", VERSION_TABLE}
        diff = [
            d
            for d in compare_metadata(ctx, metadata)
            if not (d[0] == "remove_table" and d[1].name in theirs)
            and not (d[0] == "remove_index" and d[1].table.name in theirs)
        ]
        assert diff == []
        assert conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() == HEAD
        # the run store is migrated too, under its own version table
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def test_reopening_at_head_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    ServiceDb.open(path).close()
    before = path.stat().st_mtime_ns
    ServiceDb.open(path).close()
    assert path.stat().st_mtime_ns == before


def test_service_tables_newer_than_this_baluarte_are_refused_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    ServiceDb.open(path).close()
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = 's9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="the service's tables \\(revision s9999\\) is newer"):
        ServiceDb.open(path)
