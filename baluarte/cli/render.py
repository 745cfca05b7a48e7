"""Rich renderings shared by commands: the end-of-run summary and findings tables.

What devices and files say (names, observed values, reasons, error messages) is never Rich
markup: it goes to Rich as ``Text`` (``plain``), or through ``escape`` where a line mixes it
with markup, after ``baluarte.text.inert`` has made its control characters visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape as _escape_markup
from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from baluarte.cli.run_shapes import (
    TALLY_NOTE,
    Tally,
    device_label,
    domain_tally,
    shown_findings,
    write_lines_of_run,
)
from baluarte.cli.shapes import Column, add_columns, layout, new_table, print_table
from baluarte.findings import Finding, Status
from baluarte.run import RunRecord
from baluarte.text import inert, shorten

if TYPE_CHECKING:
    from baluarte.inventory import DeviceRef

__all__ = [
    "STATUS_STYLE",
    "check_progress",
    "escape",
    "plain",
    "print_findings",
    "print_summary",
    "progress_bar",
]

STATUS_STYLE = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.WAIVED: "yellow",
    Status.NOT_APPLICABLE: "dim",
}
# The terminal gets the gist; reports and `show --format json` keep the whole value.
TERMINAL_MAX_CHARS = 240


def plain(text: object, style: str = "") -> Text:
    """Untrusted text as a Rich renderable: no markup, no emoji codes, no highlighting."""
    return Text(inert(str(text)), style=style)


def escape(text: object) -> str:
    """Untrusted text to embed in a Rich markup string."""
    return _escape_markup(inert(str(text)))


def _status(s: Status) -> Text:
    return Text(str(s), style=STATUS_STYLE[s])


def print_summary(
    console: Console,
    run: RunRecord,
    *,
    all_findings: bool = False,
    notes: Sequence[str] = (),
) -> None:
    """A run where ``console`` goes. On a terminal: each device's controls passing per
    domain, the findings not passing (every one with ``all_findings``), then the totals and
    run id, then ``notes``. In a pipe or a file: the same as ``# `` lines, then one finding per
    tab-separated line (``baluarte.cli.run_shapes``)."""
    if not console.is_terminal:
        write_lines_of_run(console.file, run, all_findings=all_findings, notes=notes)
        return
    _print_tally(console, run)
    shown = shown_findings(run, all_findings=all_findings)
    if shown:
        total = len(run.findings)
        title = (
            f"All findings ({total})"
            if all_findings
            else f"Not passing ({len(shown)} of {total} findings)"
        )
        console.print()
        print_findings(console, shown, title=title)
    counts = run.counts()
    line = Text("  ").join(Text.assemble(_status(s), f" {counts[s]}") for s in Status)
    line.append(f"   devices: {run.info.devices_total}   run id: {run.info.id}")
    console.print(line)
    for note in notes:
        console.print(plain(note))


def _print_tally(console: Console, run: RunRecord) -> None:
    domains, tally = domain_tally(run.findings)
    columns = [Column("device", key=True)]
    columns += [Column(d, key=True, justify="right") for d in domains]
    rows = [
        [plain(label), *(_tally_cell(per.get(d)) for d in domains)] for label, per in tally.items()
    ]
    title = f"Run {run.info.id} ({run.info.kind}, {run.info.state})"
    print_table(console, columns, rows, title=title, notes=[plain(TALLY_NOTE, style="dim")])


def _tally_cell(tally: Tally | None) -> Text:
    if tally is None:
        return Text("-", style="dim")
    worst = tally.worst()
    return Text(tally.text(), style=STATUS_STYLE[worst] if worst is not None else "dim")


def _short(text: str) -> str:
    cut, omitted = shorten(text, TERMINAL_MAX_CHARS)
    return f"{cut}…" if omitted else text


FINDING_COLUMNS = (
    Column("control", key=True),
    Column("status\nseverity", key=True),
    Column("observed / reason / expected", narrowest=24),
)


def print_findings(
    console: Console, findings: Sequence[Finding], *, title: str | None = None
) -> None:
    """Findings on a terminal, under a line per device: the control, its status and severity
    never split; what was observed (then the reason, then what was expected) folds in the
    last column. Where the window is too narrow for that, a block per finding."""
    groups = [
        (plain(label, style="bold underline"), [(f, _verdict(f), _detail(f)) for f in own])
        for label, own in groupby(findings, key=device_label)
    ]
    rows = [[plain(f.control), verdict, detail] for _, own in groups for f, verdict, detail in own]
    rows += [[label, Text(), Text()] for label, _ in groups]
    widths = layout(console, FINDING_COLUMNS, rows)
    if widths is None:
        _print_finding_blocks(console, groups, title)
        return
    table = new_table(title)
    add_columns(table, FINDING_COLUMNS, widths)
    for label, own in groups:
        if table.rows:
            table.add_section()  # a blank line: SIMPLE_HEAD draws no rule between rows
        table.add_row(label)
        for f, verdict, detail in own:
            table.add_row(plain(f.control), verdict, detail)
    console.print(table)


def _print_finding_blocks(
    console: Console, groups: list[tuple[Text, list[tuple[Finding, Text, Text]]]], title: str | None
) -> None:
    if title is not None:
        console.print(plain(title), style="italic")
    for label, own in groups:
        console.print(label)
        for f, _, detail in own:
            head = Text.assemble(
                plain(f.control, style="bold"), "  ", _status(f.status), "  ",
                plain(f.severity, style="dim"),
            )  # fmt: skip
            console.print(head)
            console.print(Padding(detail, (0, 0, 0, 2)))


def _verdict(f: Finding) -> Text:
    return Text.assemble(_status(f.status), "\n", plain(f.severity, style="dim"))


def _detail(f: Finding) -> Text:
    lines = [plain(_short(f.observed))] if f.observed else []
    if f.reason:
        lines.append(plain(_short(f.reason), style="italic"))
    if f.expected:
        lines.append(plain(f"expected: {_short(f.expected)}", style="dim"))
    return Text("\n").join(lines)


def progress_bar(verb: str, console: Console, *, disable: bool = False) -> Progress:
    """The one progress bar of long commands: "VERB ━━━ 3/10 what is being done 0:00:04",
    gone when done (transient), on ``console`` (standard error), and only when that is a
    terminal: a pipe or a log file gets nothing from it."""
    return Progress(
        TextColumn(f"[bold]{verb}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=disable or not console.is_terminal,
    )


@contextmanager
def check_progress(
    err: Console,
) -> Iterator[tuple[Callable[[int], None], Callable[[DeviceRef, list[Finding]], None]]]:
    """A check's progress (``engine.check``'s ``on_start`` and ``on_device``) on standard error
    when it is a terminal: devices done of the total, and how many of them have a finding
    that failed or is an error so far. ``check`` and ``demo`` show it."""
    failing = 0
    with progress_bar("checking", err) as progress:
        task = progress.add_task("devices", total=None)

        def started(total: int) -> None:
            progress.update(task, total=total)

        def device_done(ref: DeviceRef, findings: list[Finding]) -> None:
            nonlocal failing
            failing += any(f.status in (Status.FAIL, Status.ERROR) for f in findings)
            progress.update(
                task,
                advance=1,
                description=f"devices, {failing} with a failure or error (last: {escape(ref.key)})",
            )

        yield started, device_done


def id_ranges(ids: Sequence[int]) -> str:
    """Run ids as a reader takes them in: ``1-3, 7, 9-90`` (ascending, consecutive ids
    joined), not ninety numbers. An ASCII hyphen: any terminal's encoding shows it."""
    spans: list[list[int]] = []
    for i in sorted(set(ids)):
        if spans and i == spans[-1][1] + 1:
            spans[-1][1] = i
        else:
            spans.append([i, i])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
