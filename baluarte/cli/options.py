"""Command-line options shared by several commands (the signature is the CLI contract)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "ArtifactsOpt",
    "ClientOpt",
    "DbOpt",
    "DeviceOpt",
    "FindingsFormat",
    "FindingsFormatOpt",
    "Format",
    "FormatOpt",
    "InventoryOpt",
    "ParallelOpt",
    "PoliciesOpt",
    "PolicyOpt",
    "SiteOpt",
    "TagsOpt",
    "WaiversOpt",
    "scope_of",
    "split_tags",
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


class FindingsFormat(StrEnum):
    """The findings commands' outputs (check, show): csv besides text and json."""

    TEXT = "text"
    JSON = "json"
    CSV = "csv"


FindingsFormatOpt = Annotated[
    FindingsFormat,
    typer.Option(
        "--format",
        "-f",
        help="text for people (in a pipe or a file: a finding per tab-separated line), json "
        "(the report) or csv (a row per finding) for machines; json and csv hold every "
        "finding. stdout only.",
    ),
]
ArtifactsOpt = Annotated[
    Path,
    typer.Option(
        "--artifacts",
        envvar="BALUARTE_ARTIFACTS",
        help="Folder for files a run keeps outside the store (FortiGate configuration backups).",
    ),
]

# The device selectors of the commands that work on devices (check, apply).
ClientOpt = Annotated[str | None, typer.Option(help="Only this client.")]
SiteOpt = Annotated[str | None, typer.Option(help="Only this site.")]
DeviceOpt = Annotated[str | None, typer.Option(help="Only this device.")]
TagsOpt = Annotated[
    list[str] | None, typer.Option("--tags", help="Only devices with all these tags.")
]
PolicyOpt = Annotated[str | None, typer.Option(help="Only this policy id.")]
ParallelOpt = Annotated[int, typer.Option(min=1, help="Devices worked on at once.")]


def split_tags(tags: list[str] | None) -> list[str] | None:
    if not tags:
        return None
    return [t.strip() for item in tags for t in item.split(",") if t.strip()]


def scope_of(
    client: str | None,
    site: str | None,
    device: str | None,
    policy: str | None,
    tags: list[str] | None,
) -> dict[str, str]:
    """The selectors given, as the run records its scope (tags comma-joined)."""
    given = {"client": client, "site": site, "device": device, "policy": policy,
             "tags": ",".join(tags) if tags else None}  # fmt: skip
    return {k: v for k, v in given.items() if v}


class Language(StrEnum):
    """A human report's language."""

    ES = "es"
    EN = "en"


def parse_day(text: str | None, option: str) -> date | None:
    """A ``--from``/``--to`` day as given (YYYY-MM-DD), or a usage error naming the option."""
    from baluarte.errors import InputError

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{text!r} is not a date", code="wrong_value", key=option, allowed="YYYY-MM-DD"
        ) from None


def print_broken(problems: list[str], consequence: str | None = None) -> None:
    """A broken chain on standard error: the first broken link first (and what it stopped),
    then every problem."""
    from rich.console import Console

    from baluarte.cli.render import plain

    err = Console(stderr=True)
    stopped = f" ({consequence})" if consequence else ""
    err.print(plain(f"chain broken at {problems[0]}{stopped}"), soft_wrap=True)
    for problem in problems[1:]:
        err.print(plain(f"also: {problem}"), soft_wrap=True)
