"""The run store: runs, the input files each run read, and findings.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("operator", sa.String(), nullable=False),
        sa.Column("tool_version", sa.String(), nullable=False),
        sa.Column("inventory_sha256", sa.String(64), nullable=False),
        sa.Column("scope", sa.JSON, nullable=False),
        sa.Column("client", sa.String(), nullable=True),
        sa.Column("devices_total", sa.Integer, nullable=False),
        sa.Column("findings_count", sa.Integer, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_runs_client", "runs", ["client"])
    op.create_table(
        "run_files",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "findings",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("client", sa.String(), nullable=False),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("device", sa.String(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("control", sa.String(), nullable=False),
        sa.Column("policy", sa.String(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("expected", sa.Text, nullable=True),
        sa.Column("observed", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("evidence", sa.Text, nullable=True),
        sa.Column("waiver_reason", sa.Text, nullable=True),
        sa.Column("waiver_approved_by", sa.String(), nullable=True),
        sa.Column("waiver_ticket", sa.String(), nullable=True),
        sa.Column("waiver_expires", sa.Date, nullable=True),
        sa.Column("waiver_expired", sa.Boolean, nullable=True),
    )
    op.create_index("ix_findings_client_run", "findings", ["client", "run_id"])


def downgrade() -> None:
    op.drop_table("findings")
    op.drop_table("run_files")
    op.drop_table("runs")
