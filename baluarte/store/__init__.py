"""The run store: Runs and their Findings, append-only, in SQLite (default) or PostgreSQL."""

from baluarte.store.store import Store

__all__ = ["Store"]
