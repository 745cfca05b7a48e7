"""``baluarte diff RUN_A RUN_B``: what changed from one stored run to a later one."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from baluarte.cli.options import DbOpt, Format, FormatOpt
from baluarte.cli.render import plain
from baluarte.cli.shapes import Column, print_table
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
    """``tz``: the zone times are shown in (the later run's client's). On a terminal a table
    per change; in a pipe or a file one line per control, its change first."""
    sections = (
        ("newly failing", d.newly_failing),
        ("newly passing", d.newly_passing),
        ("still failing", d.still_failing),
    )
    title = f"Run {d.from_run} → run {d.to_run} (times in {tz})"
    if not console.is_terminal:
        counts = ", ".join(f"{name} {len(states)}" for name, states in sections)
        rows = [[name.replace(" ", "_"), *_row(s, tz)] for name, states in sections for s in states]
        print_table(console, [Column("change"), *COLUMNS], rows, title=title, notes=[counts])
        return
    console.print(plain(title))
    for name, states in sections:
        heading = name.capitalize()
        if not states:
            console.print(f"{heading}: none")
            continue
        rows = [_row(s, tz) for s in states]
        print_table(console, COLUMNS, rows, title=f"{heading} ({len(states)})", grouped=True)


COLUMNS = (
    Column("device", key=True),
    Column("control", key=True),
    Column("now", key=True),
    Column("before", key=True),
    Column("failing since", narrowest=16),  # folds at a space, its offset first
    Column("time to fix", narrowest=6),
)


def _row(s: ControlState, tz: str) -> list[str]:
    ttr = s.time_to_remediate
    return [
        f"{s.client}/{s.site}/{s.device}",
        s.control,
        str(s.status),
        str(s.previous) if s.previous else "not checked",
        local_text(s.failing_since, tz),
        f"{ttr.total_seconds() / 3600:.1f} h" if ttr is not None else "-",
    ]


def register(app: typer.Typer) -> None:
    app.command("diff")(diff_command)
