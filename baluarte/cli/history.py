"""``baluarte history``: a client's compliance over time, one line per complete run."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console

from baluarte.cli.options import DbOpt, Format, FormatOpt, parse_day
from baluarte.cli.shapes import Column, print_table
from baluarte.errors import InputError

__all__ = ["register"]


def history_command(
    client: Annotated[str | None, typer.Option(help="Only this client's runs.")] = None,
    control: Annotated[str | None, typer.Option(help="Only this control id.")] = None,
    device: Annotated[str | None, typer.Option(help="Only this device.")] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Runs started on or after this day (YYYY-MM-DD, the client's time zone; UTC "
            "without --client).",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Runs started on or before this day (YYYY-MM-DD, the client's time zone; UTC "
            "without --client).",
        ),
    ] = None,
    posture: Annotated[
        bool,
        typer.Option(
            "--posture",
            help="The client's posture per day (per ISO week past 60 days): every device and "
            "control as last observed by any run, not one line per run. Needs --client.",
        ),
    ] = False,
    db: DbOpt = None,
    output: FormatOpt = Format.TEXT,
) -> None:
    """Compliance over time: complete runs only, oldest first."""
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    if first is not None and last is not None and first > last:
        raise InputError(f"--from {first} is after --to {last}", code="usage")
    if posture:
        if client is None:
            raise InputError("--posture is a client's: give --client", code="usage")
        _posture_history(client, first, last, control, device, db, output)
        return
    from baluarte.history import client_runs, trend
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import
    from baluarte.timezones import client_zone, day_bounds, local_text
    from reports.json_report import trend_point_dict

    with Store.open(db) as store:
        # one client's runs in its zone; runs of every client in UTC, the store's own
        tz = client_zone(store, client).name if client else "UTC"
        since, until = day_bounds(first, last, tz)
        runs = client_runs(store, client, start=since, end=until, control=control, device=device)
    points = trend(runs)
    if output is Format.JSON:
        rows = [
            {**trend_point_dict(p), "kind": str(r.info.kind), "scope": dict(r.info.scope)}
            for p, r in zip(points, runs, strict=True)
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    columns = [
        Column("run", key=True, justify="right"),
        Column("started", key=True),
        Column("kind", key=True),
        *(Column(name, justify="right") for name in COUNT_COLUMNS),
        Column("passing", key=True, justify="right"),
    ]
    records = [
        [
            str(p.run_id),
            local_text(p.started_at, tz),
            str(r.info.kind),
            *(str(p.counts[s]) for s in COUNTED),
            _percent(p.compliance_percent),
        ]
        for p, r in zip(points, runs, strict=True)
    ]
    print_table(
        Console(),
        columns,
        records,
        title=f"Compliance over time (complete runs; times in {tz})",
        notes=() if runs else ["no complete runs match"],
    )


COUNTED = ("pass", "fail", "error", "waived", "not_applicable")
COUNT_COLUMNS = ("pass", "fail", "error", "waived", "n/a")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


def _posture_history(
    client: str,
    first: date | None,
    last: date | None,
    control: str | None,
    device: str | None,
    db: str | None,
    output: Format,
) -> None:
    """Posture per day (or week) over [first, last], else over the days the runs span, days in
    the client's zone. In scope: every device the client's runs observed (no inventory is read
    here)."""
    from baluarte.history import client_runs
    from baluarte.posture import posture_trend
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import
    from baluarte.timezones import client_zone, day_bounds, zone
    from reports.json_report import posture_point_dict

    with Store.open(db) as store:
        tz = client_zone(store, client).name
        since, until = day_bounds(first, last, tz)
        runs = client_runs(store, client, start=since, end=until, control=control, device=device)
    points = []
    if runs:
        days = [r.info.started_at.astimezone(zone(tz)).date() for r in runs]
        points = posture_trend(runs, first or min(days), last or max(days), tz=zone(tz))
    if output is Format.JSON:
        typer.echo(json.dumps([posture_point_dict(p) for p in points], indent=2))
        return
    columns = [
        Column("day", key=True),
        Column("runs"),
        *(Column(name, justify="right") for name in COUNT_COLUMNS),
        Column("devices", key=True, justify="right"),
        Column("passing", key=True, justify="right"),
    ]
    rows = [
        [
            f"{p.day:%Y-%m-%d}" + (" (week)" if p.weekly else ""),
            ", ".join(map(str, p.runs)),
            *(str(p.counts[s]) for s in COUNTED),
            f"{p.verified}/{p.in_scope}",
            _percent(p.compliance_percent),
        ]
        for p in points
    ]
    print_table(
        Console(),
        columns,
        rows,
        title=f"Posture of {client} (each control as last observed; days in {tz})",
        notes=() if runs else ["no complete runs match"],
    )


def register(app: typer.Typer) -> None:
    app.command("history")(history_command)
