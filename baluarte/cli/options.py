"""Command-line options shared by several commands (the signature is the CLI contract)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "ArtifactsOpt",
    "DbOpt",
    "Format",
    "FormatOpt",
    "InventoryOpt",
    "PoliciesOpt",
    "WaiversOpt",
]


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


InventoryOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--inventory",
        "-i",
        help="Inventory file or folder (repeatable). Default: every YAML file in ./inventory/.",
    ),
]
PoliciesOpt = Annotated[
    Path | None,
    typer.Option("--policies", "-p", help="Policy file or folder. Default: ./policies/."),
]
WaiversOpt = Annotated[
    Path | None,
    typer.Option(
        "--waivers", "-w", help="Waiver file. Default: ./policies/waivers.yaml when present."
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="BALUARTE_DB",
        help="Run store: a SQLite file path or a PostgreSQL URL. Default: ./baluarte.db.",
    ),
]
FormatOpt = Annotated[
    Format,
    typer.Option("--format", "-f", help="text for people, json for machines (stdout only)."),
]
ArtifactsOpt = Annotated[
    Path,
    typer.Option(
        "--artifacts",
        envvar="BALUARTE_ARTIFACTS",
        help="Folder for files a run keeps outside the store (FortiGate configuration backups).",
    ),
]
