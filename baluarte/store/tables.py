"""The run store's tables: one row per Run, per input file it read, and per Finding.

These definitions are what the code reads and writes; the Alembic revisions in
``migrations/versions/`` create the same schema (a test compares the two), so a change here
needs a new revision.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import Dialect

__all__ = [
    "UTCDateTime",
    "findings",
    "late_results",
    "metadata",
    "remediations",
    "run_files",
    "runs",
]


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL keeps the zone (``timestamptz``); SQLite has no zone type, so values are stored
    as naive UTC there and made aware again on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetimes in the store must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = sa.MetaData()

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Column("operator", sa.String(), nullable=False),
    # the person responsible (baluarte/operator.py); NULL name: none was named
    sa.Column("operator_name", sa.String(), nullable=True),
    sa.Column("operator_email", sa.String(), nullable=True),
    sa.Column("operator_role", sa.String(), nullable=True),
    sa.Column("tool_version", sa.String(), nullable=False),
    sa.Column("inventory_sha256", sa.String(64), nullable=False),
    sa.Column("scope", sa.JSON, nullable=False),
    # scope["client"], kept in a column so runs can be filtered by client without JSON queries
    sa.Column("client", sa.String(), nullable=True, index=True),
    sa.Column("devices_total", sa.Integer, nullable=False),
    # how many findings the run holds; also hands out each finding's position (seq)
    sa.Column("findings_count", sa.Integer, nullable=False),
    # the hash chain (baluarte/chain.py), set when the run is finished: its position in finish
    # order, the previous position's record hash, and the hash of its own canonical record
    sa.Column("chain_seq", sa.Integer, nullable=True),
    sa.Column("previous_sha256", sa.String(64), nullable=True),
    sa.Column("record_sha256", sa.String(64), nullable=True),
    # record format 2 (baluarte/evidence/record.py; NULL salt: a format 1 record): the run's
    # random salt, the runs still running when it finished (first named by this record), the
    # Ed25519 signature of its record (hex) and the signing key's fingerprint (NULL: unsigned)
    sa.Column("record_salt", sa.String(64), nullable=True),
    sa.Column("chain_running", sa.JSON, nullable=True),
    sa.Column("record_signature", sa.String(128), nullable=True),
    sa.Column("signed_by", sa.String(), nullable=True),
    # a running run: the run whose record first named it as running (NULL: not named yet)
    sa.Column("chain_named_by", sa.Integer, nullable=True),
    # the record's bytes as sealed, and the provider's tag over them and the rows they were
    # sealed from (baluarte/store/_verified.py; NULL: finished without the key, or before 0007)
    sa.Column("record", sa.LargeBinary, nullable=True),
    sa.Column("verified_tag", sa.String(64), nullable=True),
    # unique: two runs finishing at once can never take the same place in the chain
    sa.Index("ux_runs_chain_seq", "chain_seq", unique=True),
    # SQLite would otherwise reuse the id of a deleted last row; a run id must name one run only
    sqlite_autoincrement=True,
)

run_files = sa.Table(
    "run_files",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("path", sa.String(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
)

findings = sa.Table(
    "findings",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),  # insertion order within the run
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
    # the waiver the finding was judged under (NULL reason: no waiver)
    sa.Column("waiver_reason", sa.Text, nullable=True),
    sa.Column("waiver_approved_by", sa.String(), nullable=True),
    sa.Column("waiver_ticket", sa.String(), nullable=True),
    sa.Column("waiver_expires", sa.Date, nullable=True),
    sa.Column("waiver_expired", sa.Boolean, nullable=True),
    sa.Column("waiver_approved_on", sa.Date, nullable=True),
    sa.Column("waiver_compensating_control", sa.Text, nullable=True),
    # error findings: unreadable | undetermined (NULL: stored before kinds existed, unreadable)
    sa.Column("error_kind", sa.String(16), nullable=True),
    sa.Index("ix_findings_client_run", "client", "run_id"),
)

remediations = sa.Table(
    "remediations",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),  # order in which apply handled the changes
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
    # change control: apply --ticket / --approved-by (NULL: not given)
    sa.Column("ticket", sa.String(), nullable=True),
    sa.Column("approved_by", sa.String(), nullable=True),
)

# a collector's answer that came after its run ended: kept and shown, never a finding, and no
# part of the run's sealed record (so recording one leaves the hash chain as it was)
late_results = sa.Table(
    "late_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("device", sa.String(), nullable=False),  # client/site/device
    sa.Column("collector", sa.String(), nullable=False),
    sa.Column("sent_at", UTCDateTime, nullable=True),  # as the collector says (NULL: not said)
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # facts | error | refused
    sa.Column("detail", sa.Text, nullable=False),  # as the collector sent it: untrusted
)
