"""Sealed run records (format 2): salt, runs named as running, the provider's signature.

Runs chained before this revision keep their format 1 records (NULL salt) and stay unsigned.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("record_salt", sa.String(64), nullable=True))
        batch.add_column(sa.Column("chain_running", sa.JSON, nullable=True))
        batch.add_column(sa.Column("record_signature", sa.String(128), nullable=True))
        batch.add_column(sa.Column("signed_by", sa.String(), nullable=True))
        batch.add_column(sa.Column("chain_named_by", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("chain_named_by")
        batch.drop_column("signed_by")
        batch.drop_column("record_signature")
        batch.drop_column("chain_running")
        batch.drop_column("record_salt")
