"""Alembic environment: always online, on the connection ``baluarte.store._migrate`` passes in.

To write a new revision after changing ``baluarte/store/tables.py``::

    from alembic import command
    from baluarte.store._migrate import alembic_config
    command.revision(alembic_config(), "what changed", rev_id="0002")
"""

from __future__ import annotations

from alembic import context

from baluarte.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the store's migrations through baluarte.store (Store.open)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
