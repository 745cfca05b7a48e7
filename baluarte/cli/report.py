"""``baluarte report RUN``: render a stored run as JSON or self-contained HTML."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from baluarte.cli.options import DbOpt
from baluarte.run import RunRecord

__all__ = ["register", "write_report"]


class ReportFormat(StrEnum):
    JSON = "json"
    HTML = "html"


def write_report(
    run: RunRecord,
    fmt: ReportFormat,
    out: Path | None,
    history: Sequence[RunRecord] = (),
) -> str:
    """``history``: the earlier runs the drift and trend are drawn from (``earlier_runs``).
    Times are shown in the zone the run's client named in the inventory the run read."""
    from baluarte.timezones import run_zone
    from reports.html_report import render_html
    from reports.json_report import render_json

    zone = run_zone(run)
    if fmt is ReportFormat.JSON:
        text = render_json(run, history=history, timezone=zone)
    else:
        text = render_html(run, history=history, timezone=zone)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return text


def report_command(
    run_id: Annotated[int, typer.Argument(metavar="RUN", help="Run id (see 'baluarte runs').")],
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.HTML,
    out: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
    db: DbOpt = None,
) -> None:
    """Write a report of a stored run (to stdout without -o)."""
    from baluarte.history import earlier_runs
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

    with Store.open(db) as store:
        run = store.get_run(run_id)
        history = earlier_runs(store, run)
    text = write_report(run, fmt, out, history)
    if out is None:
        typer.echo(text)
    else:
        typer.echo(f"wrote {out}", err=True)


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
