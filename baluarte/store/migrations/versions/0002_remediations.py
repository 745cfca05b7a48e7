"""Remediation records: what `baluarte apply` did about each change, and its verification.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remediations",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("client", sa.String(), nullable=False),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("device", sa.String(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("control", sa.String(), nullable=False),
        sa.Column("policy", sa.String(), nullable=True),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("before", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("after", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("verification", sa.String(16), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("remediations")
