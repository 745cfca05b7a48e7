"""``baluarte history``: being written (issue 7)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Adds the command to the app (nothing yet)."""
