"""Rich renderings shared by commands: the end-of-run summary and findings tables.

What devices and files say (names, observed values, reasons, error messages) is never Rich
markup: it goes to Rich as ``Text`` (``plain``), or through ``escape`` where a line mixes it
with markup, after ``baluarte.text.inert`` has made its control characters visible.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape as _escape_markup
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from baluarte.findings import Finding, Status
from baluarte.run import RunRecord
from baluarte.text import inert, shorten

__all__ = [
    "STATUS_STYLE",
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


def print_summary(console: Console, run: RunRecord) -> None:
    per_device: dict[tuple[str, str], dict[Status, int]] = defaultdict(
        lambda: dict.fromkeys(Status, 0)
    )
    for f in run.findings:
        per_device[(f.client, f.device)][f.status] += 1
    table = Table(title=plain(f"Run {run.info.id} ({run.info.kind}, {run.info.state})"))
    table.add_column("client")
    table.add_column("device")
    for s in Status:
        table.add_column(str(s), justify="right", style=STATUS_STYLE[s])
    for (client, device), counts in sorted(per_device.items()):
        table.add_row(plain(client), plain(device), *(str(counts[s]) for s in Status))
    console.print(table)
    problems = [f for f in run.findings if f.status in (Status.FAIL, Status.ERROR)]
    if problems:
        print_findings(console, problems, title="Not passing")
    counts = run.counts()
    line = Text("  ").join(Text.assemble(_status(s), f" {counts[s]}") for s in Status)
    line.append(f"   devices: {run.info.devices_total}   run id: {run.info.id}")
    console.print(line)


def _short(text: str) -> str:
    cut, omitted = shorten(text, TERMINAL_MAX_CHARS)
    return f"{cut}…" if omitted else text


def print_findings(console: Console, findings: list[Finding], *, title: str | None = None) -> None:
    table = Table(title=title, show_lines=False)
    for col in ("device", "control", "status", "severity", "expected", "observed / reason"):
        table.add_column(col, overflow="fold")
    for f in findings:
        detail = _short(f.observed or "")
        if f.reason:
            reason = _short(f.reason)
            detail = f"{detail}\n{reason}" if detail else reason
        table.add_row(
            plain(f"{f.client}/{f.device}"),
            plain(f.control),
            _status(f.status),
            plain(f.severity),
            plain(_short(f.expected or "")),
            plain(detail),
        )
    console.print(table)


def progress_bar(verb: str, console: Console, *, disable: bool = False) -> Progress:
    """The one progress bar of long commands: "VERB ━━━ 3/10 what is being done 0:00:04",
    gone when done (transient), on ``console`` (standard error)."""
    return Progress(
        TextColumn(f"[bold]{verb}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=disable,
    )


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
