"""``baluarte demo``: check this machine with the shipped example inventory and baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from baluarte.cli.options import DbOpt
from baluarte.cli.render import print_summary
from baluarte.cli.report import ReportFormat, write_report
from baluarte.engine import CheckOptions, check, load_inputs

__all__ = ["register"]


def demo_command(
    out: Annotated[Path, typer.Option("-o", "--output", help="Folder for the reports.")] = Path(
        "baluarte-reports"
    ),
    db: DbOpt = None,
) -> None:
    """Check this machine (@local) against policies/linux-baseline.yaml and write reports."""
    from baluarte.transports.ssh import prestart

    prestart()
    inputs = load_inputs(
        [Path("inventory/example.yaml")],
        Path("policies/linux-baseline.yaml"),
        Path("policies/waivers.yaml") if Path("policies/waivers.yaml").exists() else None,
    )
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

    store = Store.open(db)
    try:
        run = check(inputs, store, CheckOptions(client="demo", scope={"client": "demo"}))
    finally:
        store.close()
    console = Console()
    print_summary(console, run)
    html = out / f"run-{run.info.id}.html"
    js = out / f"run-{run.info.id}.json"
    write_report(run, ReportFormat.HTML, html)
    write_report(run, ReportFormat.JSON, js)
    console.print(f"HTML report: [bold]{html.resolve()}[/]")
    console.print(f"JSON report: [bold]{js.resolve()}[/]")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
