"""``baluarte runs`` and ``baluarte show RUN``: read the run store."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from baluarte.cli.options import DbOpt, Format, FormatOpt
from baluarte.cli.render import print_findings, print_summary

__all__ = ["register"]


def runs_command(
    client: Annotated[
        str | None, typer.Option(help="Only runs with findings for this client.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    db: DbOpt = None,
    output: FormatOpt = Format.TEXT,
) -> None:
    """List stored runs, newest first."""
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

    store = Store.open(db)
    try:
        runs = store.list_runs(limit=limit, client=client)
    finally:
        store.close()
    if output is Format.JSON:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in runs], indent=2))
        return
    table = Table(title="Runs")
    for col in ("id", "kind", "state", "started", "ended", "operator", "devices", "scope"):
        table.add_column(col)
    for r in runs:
        table.add_row(
            str(r.id),
            str(r.kind),
            "incomplete" if r.incomplete else "complete",
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            f"{r.ended_at:%Y-%m-%d %H:%M:%S}" if r.ended_at else "-",
            r.operator,
            str(r.devices_total),
            " ".join(f"{k}={v}" for k, v in r.scope.items()) or "all",
        )
    Console().print(table)


def show_command(
    run_id: Annotated[int, typer.Argument(metavar="RUN", help="Run id (see 'baluarte runs').")],
    all_findings: Annotated[bool, typer.Option("--all", help="Show passing findings too.")] = False,
    db: DbOpt = None,
    output: FormatOpt = Format.TEXT,
) -> None:
    """Show one stored run: summary and findings."""
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

    store = Store.open(db)
    try:
        run = store.get_run(run_id)
    finally:
        store.close()
    if output is Format.JSON:
        from reports.json_report import report_dict

        typer.echo(json.dumps(report_dict(run), indent=2, ensure_ascii=False))
        return
    console = Console()
    print_summary(console, run)
    if all_findings:
        print_findings(console, list(run.findings), title="All findings")


def register(app: typer.Typer) -> None:
    app.command("runs")(runs_command)
    app.command("show")(show_command)
