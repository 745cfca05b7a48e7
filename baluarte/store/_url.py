"""Where the run store lives: a SQLite file path or an SQLAlchemy URL, and how to name it safely."""

from __future__ import annotations

import os
import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from baluarte.errors import StoreError

__all__ = ["DEFAULT_DB", "ENV_VAR", "mask", "resolve"]

ENV_VAR = "BALUARTE_DB"
DEFAULT_DB = "baluarte.db"

# psycopg 3 is the PostgreSQL driver we ship; SQLAlchemy's bare "postgresql://" means psycopg2
_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
# The stores Baluarte ships the drivers and migrations for; any other scheme is refused up
# front (SQLAlchemy would fail later, deep inside, on a driver module that is not installed).
_SUPPORTED = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
_ALLOWED = "a SQLite file path, sqlite:///PATH, or postgresql://USER@HOST/DATABASE"
# "scheme://user:password@" in a string we could not parse as a URL
_USERINFO = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def resolve(db: str | Path | None) -> URL:
    """The store's URL from ``--db``, else ``$BALUARTE_DB``, else ``./baluarte.db``.

    A value containing ``://`` is an SQLAlchemy URL; anything else is a SQLite file path.
    """
    if db is None:
        db = os.environ.get(ENV_VAR) or DEFAULT_DB
    text = str(db)
    if not text.strip():
        raise StoreError("empty store location: give a SQLite file path or a database URL")
    if "://" not in text:
        return URL.create("sqlite+pysqlite", database=text)
    try:
        url = sa.make_url(text)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise StoreError(f"not a database URL: {mask(str(exc), None, text)}") from None
    driver = _DRIVERS.get(url.drivername)
    url = url.set(drivername=driver) if driver else url
    if url.drivername not in _SUPPORTED:
        raise StoreError(
            f"unsupported store URL scheme '{url.drivername}' in {mask(text, url)}: the run"
            f" store is SQLite or PostgreSQL (allowed: {_ALLOWED})"
        )
    return url


def mask(text: str, url: URL | None, raw: str | None = None) -> str:
    """``text`` with the URL's password (and any ``user:password@``) replaced by ``***``."""
    secrets = [url.password if url is not None else None]
    if raw is not None:
        secrets += [m.group(0)[len(m.group(1)) : -1] for m in _USERINFO.finditer(raw)]
    for secret in secrets:
        if secret:
            text = text.replace(str(secret), "***")
    return _USERINFO.sub(r"\1***@", text)
