"""Accountability: the operator's identity per run, ticket and approver per change, a waiver's
approval date and compensating control.

All nullable: runs stored before this revision named no person, and their sealed records
(which leave these fields out when empty) keep their hashes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("operator_name", sa.String(), nullable=True))
        batch.add_column(sa.Column("operator_email", sa.String(), nullable=True))
        batch.add_column(sa.Column("operator_role", sa.String(), nullable=True))
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("waiver_approved_on", sa.Date, nullable=True))
        batch.add_column(sa.Column("waiver_compensating_control", sa.Text, nullable=True))
    with op.batch_alter_table("remediations") as batch:
        batch.add_column(sa.Column("ticket", sa.String(), nullable=True))
        batch.add_column(sa.Column("approved_by", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("remediations") as batch:
        batch.drop_column("approved_by")
        batch.drop_column("ticket")
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("waiver_compensating_control")
        batch.drop_column("waiver_approved_on")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("operator_role")
        batch.drop_column("operator_email")
        batch.drop_column("operator_name")
