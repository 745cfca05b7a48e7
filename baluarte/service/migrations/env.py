"""Alembic environment of the service's tables (its own version table: baluarte.service.db)."""

from __future__ import annotations

from alembic import context

from baluarte.service.db import VERSION_TABLE
from baluarte.service.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the service's migrations through baluarte.service.db (ServiceDb.open)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
