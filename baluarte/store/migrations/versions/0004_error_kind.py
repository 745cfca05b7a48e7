"""Error kind: why an ``error`` finding has no verdict (``unreadable`` or ``undetermined``).

Findings stored before this revision keep NULL: they are read as ``unreadable``, the meaning
every error had then (the run exited 3).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("error_kind", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("error_kind")
