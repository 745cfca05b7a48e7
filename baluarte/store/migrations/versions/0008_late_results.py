"""Late results: a site collector's answer that came after its run ended, recorded and shown
(``baluarte show RUN``) but never a finding, and outside the run's sealed record.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "late_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("device", sa.String(), nullable=False),
        sa.Column("collector", sa.String(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_late_results_run_id", "late_results", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_late_results_run_id", table_name="late_results")
    op.drop_table("late_results")
