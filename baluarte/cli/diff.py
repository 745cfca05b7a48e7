"""``baluarte diff RUN_A RUN_B``: what changed from one stored run to a later one."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from baluarte.cli.options import DbOpt, Format, FormatOpt
from baluarte.cli.render import plain
from baluarte.history import ControlState, Drift
from baluarte.timezones import local_text

__all__ = ["print_drift", "register"]


def diff_command(
    run_a: Annotated[int, typer.Argument(metavar="RUN_A", help="The earlier run.")],
    run_b: Annotated[int, typer.Argument(metavar="RUN_B", help="The later run.")],
    db: DbOpt = None,
    output: FormatOpt = Format.TEXT,
) -> None:
    """Controls newly failing, newly passing and still failing from RUN_A to RUN_B."""
    from baluarte.history import drift
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import
    from baluarte.timezones import run_zone
    from reports.json_report import drift_dict

    with Store.open(db) as store:
        a, b = store.get_run(run_a), store.get_run(run_b)
    changes = drift([a], b)
    if output is Format.JSON:
        typer.echo(json.dumps(drift_dict(changes), indent=2, ensure_ascii=False))
        return
    print_drift(Console(), changes, run_zone(b).name)


def print_drift(console: Console, d: Drift, tz: str) -> None:
    """``tz``: the zone times are shown in (the later run's client's)."""
    console.print(f"Run {d.from_run} → run {d.to_run}")
    for title, states in (
        ("Newly failing", d.newly_failing),
        ("Newly passing", d.newly_passing),
        ("Still failing", d.still_failing),
    ):
        if not states:
            console.print(f"{title}: none")
            continue
        table = Table(title=f"{title} ({len(states)})", title_justify="left")
        for col in ("device", "control", "now", "before", "failing since", "time to fix"):
            table.add_column(col)
        for s in states:
            table.add_row(*_row(s, tz))
        console.print(table)


def _row(s: ControlState, tz: str) -> list[str | Text]:
    ttr = s.time_to_remediate
    return [
        plain(f"{s.client}/{s.site}/{s.device}"),
        plain(s.control),
        str(s.status),
        str(s.previous) if s.previous else "not checked",
        local_text(s.failing_since, tz),
        f"{ttr.total_seconds() / 3600:.1f} h" if ttr is not None else "-",
    ]


def register(app: typer.Typer) -> None:
    app.command("diff")(diff_command)
