"""The service's tables, beside the run store's in the same database.

The run store (``baluarte.store``) stays the engine's: nothing here references its tables by
foreign key, so the CLI keeps working on a database the service never opened. The Alembic
revisions in ``migrations/versions/`` create the same schema (a test compares the two).
"""

from __future__ import annotations

import sqlalchemy as sa

from baluarte.store.tables import UTCDateTime

__all__ = [
    "api_tokens",
    "audit_log",
    "metadata",
    "notifications",
    "posture_cache",
    "schedule_fires",
    "scheduler_leases",
    "service_checks",
    "users",
]

metadata = sa.MetaData()

# Local accounts. ``clients``: the clients an auditor may see, comma-separated; NULL: every one
# (technicians and admins always see every client).
users = sa.Table(
    "service_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),  # admin | technician | auditor
    sa.Column("clients", sa.Text, nullable=True),
    sa.Column("password_hash", sa.Text, nullable=False),  # argon2id, PHC string
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("disabled_at", UTCDateTime, nullable=True),
)

# API bearer tokens: only their SHA-256 is kept (a token is 32 random bytes: no need for a slow
# hash); ``prefix`` (the first characters) lets a person tell tokens apart in a listing.
api_tokens = sa.Table(
    "service_api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("service_users.id"), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

# Who did what through the service: logins (and refusals), logouts, exports, checks started,
# accounts and tokens made. Append-only; login throttling counts its recent refusals.
audit_log = sa.Table(
    "service_audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("user_name", sa.String(64), nullable=True),  # as typed, for a refused login
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("client", sa.String(), nullable=True),
    sa.Column("address", sa.String(64), nullable=True),  # the remote address
    sa.Column("detail", sa.Text, nullable=True),  # JSON
    sa.Index("ix_service_audit_action_at", "action", "at"),
)

# Leadership among several ``serve`` processes on one SQLite file (PostgreSQL uses an advisory
# lock instead): the holder renews ``expires_at``; a lapsed lease may be taken over.
scheduler_leases = sa.Table(
    "service_scheduler_leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

# One row per schedule and due time, inserted before the run starts: the primary key makes a
# second firing of the same due time impossible, whoever tries; the newest row per schedule
# tells, at start-up, whether a due time was missed while the service was down.
schedule_fires = sa.Table(
    "service_schedule_fires",
    metadata,
    sa.Column("schedule", sa.String(128), primary_key=True),
    sa.Column("due_at", UTCDateTime, primary_key=True),
    sa.Column("fired_at", UTCDateTime, nullable=False),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("check_id", sa.Integer, nullable=True),  # service_checks.id
)

# Checks the service started (a schedule, a person on the dashboard, the API): what was asked,
# by whom, and the run it made. ``state``: queued | running | done | failed | interrupted.
service_checks = sa.Table(
    "service_checks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("origin", sa.String(16), nullable=False),  # schedule | dashboard | api
    sa.Column("schedule", sa.String(128), nullable=True),
    sa.Column("requested_by", sa.String(64), nullable=True),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("client", sa.String(), nullable=True),
    sa.Column("site", sa.String(), nullable=True),
    sa.Column("device", sa.String(), nullable=True),
    sa.Column("tags", sa.Text, nullable=True),  # comma-separated
    sa.Column("policy", sa.String(), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("holder", sa.String(128), nullable=True),  # the process running it
    sa.Column("run_id", sa.Integer, nullable=True),  # runs.id once the run has started
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Index("ix_service_checks_state", "state"),
)

# Outgoing messages: one per client, run and channel (the unique key), written in the same
# step that notices what to say, then sent and retried until sent or given up. A failure to
# notify therefore never loses the run nor the message.
notifications = sa.Table(
    "service_notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("client", sa.String(), nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("channel", sa.String(64), nullable=False),  # email | webhook:N
    sa.Column("payload", sa.Text, nullable=False),  # JSON
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),  # NULL: sent or given up
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.UniqueConstraint("client", "run_id", "channel", name="uq_service_notifications_once"),
)

# The dashboard's read model: each client's posture summed up once after each of its runs (the
# overview reads 200 clients' rows, never their runs). ``last_run_id``: the newest complete run
# it includes; ``chain_seq``: the store's newest finished run (runs.chain_seq) when it was
# built — a run finished after it that covers the client makes the row stale.
posture_cache = sa.Table(
    "service_posture_cache",
    metadata,
    sa.Column("client", sa.String(), primary_key=True),
    sa.Column("last_run_id", sa.Integer, nullable=True),
    sa.Column("chain_seq", sa.Integer, nullable=False),
    sa.Column("computed_at", UTCDateTime, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),  # JSON: the overview's row
    sa.Column("detail", sa.Text, nullable=False),  # JSON: the client page
)
