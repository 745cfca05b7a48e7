"""Fixtures of the service's tests: its database on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from baluarte.service.db import ServiceDb


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[ServiceDb]:
    db = ServiceDb.open(tmp_path / "baluarte.db")
    yield db
    db.close()


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[ServiceDb]:
    db = ServiceDb.open(pg_url)
    yield db
    db.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def service_db(request: pytest.FixtureRequest) -> ServiceDb:
    """The service's database on each backend (the test runs once per backend)."""
    name = "sqlite_db" if request.param == "sqlite" else "pg_db"
    db: ServiceDb = request.getfixturevalue(name)
    return db
