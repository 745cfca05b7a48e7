"""Rich renderings shared by commands: the end-of-run summary and findings tables."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.table import Table

from baluarte.findings import Finding, Status
from baluarte.run import RunRecord

__all__ = ["STATUS_STYLE", "print_findings", "print_summary"]

STATUS_STYLE = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.WAIVED: "yellow",
    Status.NOT_APPLICABLE: "dim",
}


def _status(s: Status) -> str:
    return f"[{STATUS_STYLE[s]}]{s}[/]"


def print_summary(console: Console, run: RunRecord) -> None:
    per_device: dict[tuple[str, str], dict[Status, int]] = defaultdict(
        lambda: dict.fromkeys(Status, 0)
    )
    for f in run.findings:
        per_device[(f.client, f.device)][f.status] += 1
    table = Table(title=f"Run {run.info.id} ({run.info.kind}, {run.info.state})")
    table.add_column("client")
    table.add_column("device")
    for s in Status:
        table.add_column(str(s), justify="right", style=STATUS_STYLE[s])
    for (client, device), counts in sorted(per_device.items()):
        table.add_row(client, device, *(str(counts[s]) for s in Status))
    console.print(table)
    problems = [f for f in run.findings if f.status in (Status.FAIL, Status.ERROR)]
    if problems:
        print_findings(console, problems, title="Not passing")
    counts = run.counts()
    console.print(
        "  ".join(f"{_status(s)} {counts[s]}" for s in Status)
        + f"   devices: {run.info.devices_total}   run id: {run.info.id}"
    )


def _short(text: str, limit: int = 240) -> str:
    # The terminal gets the gist; reports and `show --format json` keep the whole value.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_findings(console: Console, findings: list[Finding], *, title: str | None = None) -> None:
    table = Table(title=title, show_lines=False)
    for col in ("device", "control", "status", "severity", "expected", "observed / reason"):
        table.add_column(col, overflow="fold")
    for f in findings:
        detail = _short(f.observed or "")
        if f.reason:
            detail = f"{detail}\n{f.reason}" if detail else f.reason
        table.add_row(
            f"{f.client}/{f.device}",
            f.control,
            _status(f.status),
            str(f.severity),
            f.expected or "",
            detail,
        )
    console.print(table)
