"""``baluarte controls``: list the control catalogue."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from baluarte.controls import catalogue

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
        typer.Option("--format", "-f", help="text, json, or markdown (docs/controls.md)."),
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
    table = Table(title="Baluarte controls")
    for col in ("id", "title", "severity", "platforms", "ISO 27001", "ENS", "GDPR", "built"):
        table.add_column(col, overflow="fold")
    for c in controls:
        table.add_row(
            c.id,
            c.title,
            str(c.severity),
            ", ".join(sorted(c.platforms)),
            ", ".join(c.mappings.get("iso27001", ())),
            ", ".join(c.mappings.get("ens", ())),
            ", ".join(c.mappings.get("gdpr", ())),
            "yes" if c.evaluate else "not yet",
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("controls")(controls_command)
