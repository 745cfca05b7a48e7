"""``baluarte controls``: list the control catalogue."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from baluarte.cli.shapes import Column, print_table
from baluarte.controls import Control, catalogue

__all__ = ["register"]


class ControlsFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


class PlatformChoice(StrEnum):
    LINUX = "linux"
    WINDOWS = "windows"
    FORTIGATE = "fortigate"


def controls_command(
    platform: Annotated[
        PlatformChoice | None, typer.Option(help="Only controls for this platform.")
    ] = None,
    output: Annotated[
        ControlsFormat,
        typer.Option(
            "--format",
            "-f",
            help="text (in a pipe or a file: a control per tab-separated line), json, or markdown "
            "(docs/controls.md).",
        ),
    ] = ControlsFormat.TEXT,
) -> None:
    """List every control: id, title, default severity, platforms and framework mappings."""
    controls = [c for c in catalogue().values() if platform is None or str(platform) in c.platforms]
    if output is ControlsFormat.JSON:
        typer.echo(json.dumps([c.as_dict() for c in controls], indent=2, ensure_ascii=False))
        return
    if output is ControlsFormat.MARKDOWN:
        from reports.catalogue_markdown import render_catalogue

        typer.echo(render_catalogue(controls), nl=False)
        return
    console = Console()
    if console.is_terminal:
        # the frameworks share a column: with one each, the ids no longer fit 100 columns
        print_table(console, TERMINAL_COLUMNS, [_terminal_row(c) for c in controls],
                    title="Baluarte controls")  # fmt: skip
        return
    rows = [[c.id, c.title, str(c.severity), _platforms(c), *_mappings(c), _built(c)]
            for c in controls]  # fmt: skip
    print_table(console, COLUMNS, rows, title="Baluarte controls")


FRAMEWORKS = {"iso27001": "ISO 27001", "ens": "ENS", "gdpr": "GDPR"}
COLUMNS = [
    Column("id"), Column("title"), Column("severity"), Column("platforms"),
    *(Column(name) for name in FRAMEWORKS.values()), Column("built"),
]  # fmt: skip
TERMINAL_COLUMNS = [
    Column("id", key=True),
    Column("title", narrowest=12),
    Column("severity", key=True),
    Column("platforms", narrowest=9),
    Column("frameworks", narrowest=12),
    Column("built", narrowest=3),
]


def _platforms(c: Control) -> str:
    return ", ".join(sorted(c.platforms))


def _mappings(c: Control) -> list[str]:
    return [", ".join(c.mappings.get(key, ())) for key in FRAMEWORKS]


def _built(c: Control) -> str:
    return "yes" if c.evaluate else "not yet"


def _terminal_row(c: Control) -> list[str]:
    frameworks = "\n".join(
        f"{name} {refs}"
        for name, refs in zip(FRAMEWORKS.values(), _mappings(c), strict=True)
        if refs
    )
    return [c.id, c.title, str(c.severity), _platforms(c), frameworks or "-", _built(c)]


def register(app: typer.Typer) -> None:
    app.command("controls")(controls_command)
