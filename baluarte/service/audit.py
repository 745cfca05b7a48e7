"""The audit log: who logged in (or was refused), exported, started a check, made an account."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from baluarte.service.db import ServiceDb
from baluarte.service.tables import audit_log
from baluarte.text import inert

__all__ = ["AuditEntry", "count_since", "recent", "record"]


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    user_name: str | None
    action: str
    client: str | None
    address: str | None
    detail: dict[str, Any]


def record(
    db: ServiceDb | Connection,
    action: str,
    *,
    user: str | None,
    client: str | None = None,
    address: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one entry (in ``db``'s own write transaction, or in the connection's)."""
    row = {
        "at": at or datetime.now(UTC),
        # a name typed at the login form is kept as typed, but never with control characters
        "user_name": inert(user, newlines=False)[:64] if user is not None else None,
        "action": action,
        "client": client,
        "address": (address or None) and address[:64],
        "detail": json.dumps(dict(detail), ensure_ascii=False, sort_keys=True) if detail else None,
    }
    if isinstance(db, Connection):
        db.execute(audit_log.insert().values(**row))
        return
    with db.write() as conn:
        conn.execute(audit_log.insert().values(**row))


def count_since(
    conn: Connection,
    action: str,
    since: datetime,
    *,
    user: str | None = None,
    address: str | None = None,
) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(audit_log)
        .where(audit_log.c.action == action, audit_log.c.at >= since)
    )
    if user is not None:
        query = query.where(audit_log.c.user_name == user)
    if address is not None:
        query = query.where(audit_log.c.address == address)
    return int(conn.execute(query).scalar_one())


def recent(db: ServiceDb, *, limit: int = 100, within: timedelta | None = None) -> list[AuditEntry]:
    """The newest entries first."""
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if within is not None:
        query = query.where(audit_log.c.at >= datetime.now(UTC) - within)
    with db.read() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        AuditEntry(
            id=r["id"],
            at=r["at"],
            user_name=r["user_name"],
            action=r["action"],
            client=r["client"],
            address=r["address"],
            detail=json.loads(r["detail"]) if r["detail"] else {},
        )
        for r in rows
    ]
