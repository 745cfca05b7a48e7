"""Hash chain: each finished run's place in finish order and the hashes that link it.

Runs finished before this revision keep NULLs: the chain starts at the first run finished
after the upgrade.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("chain_seq", sa.Integer, nullable=True))
        batch.add_column(sa.Column("previous_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("record_sha256", sa.String(64), nullable=True))
    op.create_index("ux_runs_chain_seq", "runs", ["chain_seq"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_runs_chain_seq", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("record_sha256")
        batch.drop_column("previous_sha256")
        batch.drop_column("chain_seq")
