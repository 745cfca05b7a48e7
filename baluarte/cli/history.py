"""``baluarte history``: a client's compliance over time, one line per complete run."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from baluarte.cli.options import DbOpt, Format, FormatOpt
from baluarte.errors import InputError

__all__ = ["register"]


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{value!r} is not a date: expected YYYY-MM-DD", code="wrong_value", key=option
        ) from None


def history_command(
    client: Annotated[str | None, typer.Option(help="Only this client's runs.")] = None,
    control: Annotated[str | None, typer.Option(help="Only this control id.")] = None,
    device: Annotated[str | None, typer.Option(help="Only this device.")] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", help="Runs started on or after this day (YYYY-MM-DD, UTC)."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="Runs started on or before this day (YYYY-MM-DD, UTC)."),
    ] = None,
    db: DbOpt = None,
    output: FormatOpt = Format.TEXT,
) -> None:
    """Compliance over time: complete runs only, oldest first."""
    first, last = _date(start, "--from"), _date(end, "--to")
    if first is not None and last is not None and first > last:
        raise InputError(f"--from {first} is after --to {last}", code="usage")
    from baluarte.history import client_runs, trend
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import
    from reports.json_report import trend_point_dict

    with Store.open(db) as store:
        runs = client_runs(store, client, start=first, end=last, control=control, device=device)
    points = trend(runs)
    if output is Format.JSON:
        rows = [
            {**trend_point_dict(p), "kind": str(r.info.kind), "scope": dict(r.info.scope)}
            for p, r in zip(points, runs, strict=True)
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(title="Compliance over time (complete runs)")
    for col in ("run", "started", "kind", "pass", "fail", "error", "waived", "n/a", "passing"):
        table.add_column(col)
    for p, r in zip(points, runs, strict=True):
        c = p.counts
        pct = "-" if p.compliance_percent is None else f"{p.compliance_percent:.1f} %"
        table.add_row(
            str(p.run_id),
            f"{p.started_at:%Y-%m-%d %H:%M}",
            str(r.info.kind),
            *(str(c[s]) for s in ("pass", "fail", "error", "waived", "not_applicable")),
            pct,
        )
    Console().print(table)
    if not runs:
        Console().print("no complete runs match")


def register(app: typer.Typer) -> None:
    app.command("history")(history_command)
