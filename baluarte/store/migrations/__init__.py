"""Alembic migrations of the run store, run programmatically by ``Store.open``."""
