"""Fixtures shared by every test folder: the PostgreSQL server on 127.0.0.1:5432."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture(scope="session")
def pg_server() -> str:
    try:
        with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3):
            pass
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc})")
    return PG_SERVER


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty database of our own, dropped afterwards."""
    name = f"baluarte_store_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{pg_server}/{name}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
