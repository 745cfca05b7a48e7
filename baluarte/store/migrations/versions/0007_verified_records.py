"""Stored records and verified tags: a chain check with the provider's key re-seals only runs
changed since they were sealed (baluarte/store/_verified.py).

Both nullable: runs finished before this revision (or without the key) have neither, and are
re-sealed on every check, as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("record", sa.LargeBinary, nullable=True))
        batch.add_column(sa.Column("verified_tag", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("verified_tag")
        batch.drop_column("record")
