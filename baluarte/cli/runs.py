"""``baluarte runs`` and ``baluarte show RUN``: read the run store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from baluarte.cli.changes import print_changes
from baluarte.cli.options import (
    DbOpt,
    FindingsFormat,
    FindingsFormatOpt,
    Format,
    FormatOpt,
    print_broken,
)
from baluarte.cli.render import plain, print_summary
from baluarte.cli.run_shapes import write_csv
from baluarte.cli.shapes import Column, comment, print_table, tsv_cell, tsv_line, write_lines
from baluarte.exitcodes import ExitCode
from baluarte.text import inert_tree, shorten

if TYPE_CHECKING:
    from baluarte.run import LateResult
    from baluarte.store._chain import ChainCheck

__all__ = ["register"]


def runs_command(
    client: Annotated[
        str | None, typer.Option(help="Only runs with findings for this client.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    db: DbOpt = None,
    output: FormatOpt = Format.TEXT,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Check the store's whole hash chain and run signatures instead of listing: "
            "exit 0 intact, 1 broken (the first broken link is named).",
        ),
    ] = False,
    key: Annotated[
        list[Path] | None,
        typer.Option(
            "--key",
            help="A trusted public key for run signatures (repeatable). Always trusted: every "
            "*.pub.pem beside the signing key.",
        ),
    ] = None,
    require_signed: Annotated[
        bool,
        typer.Option(
            "--require-signed",
            help="With --verify: an unsigned run after the first signed one is a broken link "
            "(for stores where every run finishes with the provider's key).",
        ),
    ] = False,
) -> None:
    """List stored runs, newest first (or, with --verify, check their hash chain)."""
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

    if verify:
        from baluarte.evidence.seal import trusted_keys

        keys = trusted_keys(key or ())
        with Store.open(db) as checked:
            result = checked.check_chain(keys)
        if require_signed:
            from baluarte.store._chain import unsigned_after_signed

            result.problems += unsigned_after_signed(result)
        _print_check(result, output, trusted=bool(keys))
        if result.problems:
            raise typer.Exit(ExitCode.DRIFT)
        return
    from baluarte.timezones import client_zone, local_text

    store = Store.open(db)
    try:
        runs = store.list_runs(limit=limit, client=client)
        # one client's runs in its zone; runs of every client in UTC, the store's own
        tz = client_zone(store, client).name if client else "UTC"
    finally:
        store.close()
    if output is Format.JSON:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in runs], indent=2))
        return
    columns = [
        Column("id", key=True, justify="right"),
        Column("kind", key=True),
        Column("state", key=True),  # "incomplete" is what a reader looks for: never split
        # a time folds at its spaces (date, time, offset) where the window is narrow
        Column("started", narrowest=10),
        Column("ended", narrowest=10),
        Column("operator", narrowest=8),
        Column("devices", key=True, justify="right"),
        Column("scope", narrowest=8),
    ]
    rows = [
        [
            str(r.id),
            str(r.kind),
            "incomplete" if r.incomplete else "complete",
            local_text(r.started_at, tz, seconds=True),
            local_text(r.ended_at, tz, seconds=True),
            r.operator,
            str(r.devices_total),
            " ".join(f"{k}={v}" for k, v in r.scope.items()) or "all",
        ]
        for r in runs
    ]
    print_table(Console(), columns, rows, title=f"Runs, newest first (times in {tz})")


def _print_check(result: ChainCheck, output: Format, *, trusted: bool) -> None:
    if output is Format.JSON:
        doc = {
            "intact": result.ok,
            "runs": result.runs,
            "first_broken": result.problems[0] if result.problems else None,
            "problems": result.problems,
            "signed": result.signed,
            "unsigned": result.unsigned,
            "unsealed": result.unsealed,
            "signatures_unchecked": result.unchecked,
            "signed_by": sorted(result.signers),
        }
        typer.echo(json.dumps(doc, indent=2))
        return
    out = Console()
    if result.problems:
        print_broken(result.problems)
        return
    out.print(f"chain intact, {result.runs} runs", soft_wrap=True)
    if result.signed:
        signers = ", ".join(sorted(result.signers))
        out.print(plain(f"signed: {len(result.signed)} runs, by {signers}"), soft_wrap=True)
    if result.unchecked:
        out.print(
            f"signatures not checked: {len(result.unchecked)} runs"
            + ("" if trusted else " (no trusted public key here: pass --key)"),
            soft_wrap=True,
        )
    if result.unsigned:
        unsealed = set(result.unsealed)
        sealed = [r for r in result.unsigned if r not in unsealed]
        out.print(f"unsigned: {len(result.unsigned)} runs (finished without the provider's key)")
        if sealed:
            out.print(f"  sealed by a later run's signature: {_ids(sealed)}", soft_wrap=True)
        if unsealed and (result.signed or result.unchecked):
            out.print(
                f"  after the last signed run, sealed by no signature: {_ids(result.unsealed)}",
                soft_wrap=True,
            )


def _ids(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:20])
    return shown + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")


def show_command(
    run_id: Annotated[int, typer.Argument(metavar="RUN", help="Run id (see 'baluarte runs').")],
    all_findings: Annotated[bool, typer.Option("--all", help="Show passing findings too.")] = False,
    db: DbOpt = None,
    output: FindingsFormatOpt = FindingsFormat.TEXT,
) -> None:
    """Show one stored run: summary and findings."""
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

    store = Store.open(db)
    try:
        run = store.get_run(run_id)
        late = store.late_results(run_id)
    finally:
        store.close()
    from baluarte.timezones import local_text, run_zone

    tz = run_zone(run)
    if output is FindingsFormat.JSON:
        from reports.json_report import report_dict

        doc = report_dict(run, timezone=tz)
        doc["late_results"] = [_late_dict(r) for r in late]
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    if output is FindingsFormat.CSV:
        write_csv(sys.stdout, run.findings)
        return
    console = Console()
    ended = local_text(run.info.ended_at, tz.name) if run.info.ended_at else "-"
    when = (
        f"started: {local_text(run.info.started_at, tz.name)}   ended: {ended}"
        f"   time zone: {tz.name}"
    )
    print_summary(console, run, all_findings=all_findings, notes=[when])
    if run.remediations:  # an apply run: what each change did
        print_changes(console, run)
    if late:
        _print_late(console, late, tz.name)


LATE_TITLE = "Late results (ignored: they arrived after the run ended)"
LATE_COLUMNS = (
    Column("device", key=True),
    Column("collector", key=True),
    Column("received", narrowest=10),  # folds at its spaces (date, time, offset)
    Column("outcome", key=True),
    Column("detail"),
)
# the gist on a terminal; a pipe and --format json keep the whole detail
LATE_DETAIL_MAX_CHARS = 160


def _print_late(console: Console, late: list[LateResult], tz: str) -> None:
    """After the run: its late results, never part of its findings. In a pipe, ``# `` lines
    only (``# late results ignored: N``, then ``# late`` TAB device TAB collector TAB received
    TAB outcome TAB detail), so ``grep -v '^#'`` still leaves just the findings."""
    from baluarte.timezones import local_text

    rows = [
        [r.device, r.collector, local_text(r.received_at, tz, seconds=True), r.outcome, r.detail]
        for r in late
    ]
    if not console.is_terminal:
        lines = [comment(f"late results ignored: {len(late)}")]
        lines += ["# late\t" + tsv_line(row) for row in rows]
        write_lines(console.file, lines)
        return
    for row in rows:  # what the collector sent, each on one line: inert, newline and tab shown
        row[:] = [tsv_cell(c) for c in row]
        cut, omitted = shorten(row[-1], LATE_DETAIL_MAX_CHARS)
        row[-1] = f"{cut}…" if omitted else cut
    console.print()  # apart from what was printed before
    print_table(console, LATE_COLUMNS, rows, title=LATE_TITLE)


def _late_dict(r: LateResult) -> dict[str, object]:
    """A late result in ``show --format json``: times UTC, the collector's text inert."""
    doc: dict[str, object] = inert_tree(
        {
            "device": r.device,
            "collector": r.collector,
            "sent_at": None if r.sent_at is None else r.sent_at.isoformat(),
            "received_at": r.received_at.isoformat(),
            "outcome": str(r.outcome),
            "detail": r.detail,
        }
    )
    return doc


def register(app: typer.Typer) -> None:
    app.command("runs")(runs_command)
    app.command("show")(show_command)
