"""What an apply run did, change by change: after ``apply --yes`` and in ``show RUN``.

One row per change record: device, control, result, the control's status when re-checked, and
for a change not applied the first line of why (the store keeps the whole detail: ``show RUN
--format json``); then where each device's configuration backup was kept. On a terminal a
table whose device and control never split; in a pipe or a file (``baluarte.cli.shapes``)
``# `` lines, then one tab-separated line per record::

    # changes of run 4: 8 failed, 1 refused
    # device	control	result	verified	reason
    acme/fw-office	logging.time_sync	failed	fail	nothing applied: no configuration backup (…
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from baluarte.cli.render import STATUS_STYLE
from baluarte.cli.shapes import Column, print_table
from baluarte.findings import Status
from baluarte.remediation import RemediationRecord, RemediationResult, backup_of
from baluarte.run import RunRecord
from baluarte.text import shorten

__all__ = ["CHANGE_COLUMNS", "change_row", "print_changes"]

CHANGE_COLUMNS = (
    Column("device", key=True),
    Column("control", key=True),
    Column("result", key=True),
    Column("verified", key=True),
    Column("reason"),
)
RESULT_STYLE = {
    RemediationResult.APPLIED: "green",
    RemediationResult.FAILED: "bold red",
    RemediationResult.NOT_RUN: "yellow",
    RemediationResult.REFUSED: "bold red",
    RemediationResult.MANUAL: "cyan",
}
# The gist of why, on one line; the whole detail stays in the store.
REASON_MAX_CHARS = 160


def print_changes(console: Console, run: RunRecord) -> None:
    """``run``'s change records, then each device's configuration backup (path and sha256)."""
    records = sorted(run.remediations, key=lambda r: (r.client, r.device, r.control))
    rows = [change_row(r) for r in records]
    notes = [
        f"configuration backup of {device}: {path} (sha256 {sha256})"
        for device, (path, sha256) in _backups(records).items()
    ]
    if any(r.result is not RemediationResult.APPLIED for r in records):
        notes.append(f"the whole detail of each change: baluarte show {run.info.id} --format json")
    if console.is_terminal:
        console.print()  # apart from what was printed before
    print_table(console, CHANGE_COLUMNS, rows, title=_title(run), notes=notes, grouped=True)


def change_row(record: RemediationRecord) -> list[str | Text]:
    """device, control, result, verified (the control's status at the re-check), reason."""
    verified = record.verification
    return [
        f"{record.client}/{record.device}",
        record.control,
        Text(str(record.result), style=RESULT_STYLE[record.result]),
        Text(str(verified), style=STATUS_STYLE[verified])
        if verified is not None
        else Text("-", style="dim"),
        _reason(record),
    ]


def _reason(record: RemediationRecord) -> str:
    """Why a change was not applied (the first line of its detail, shortened); "-" when it
    was. Made inert by the table (``baluarte.cli.shapes``)."""
    if record.result is RemediationResult.APPLIED:
        return "-"
    first = next((line.strip() for line in record.detail.splitlines() if line.strip()), "")
    cut, omitted = shorten(first, REASON_MAX_CHARS)
    return (f"{cut}…" if omitted else cut) or "-"


def _title(run: RunRecord) -> str:
    records = run.remediations
    if not records:
        return f"changes of run {run.info.id}: none (nothing failing that apply can change)"
    counts = Counter(r.result for r in records)
    done = ", ".join(f"{counts[r]} {r}" for r in RemediationResult if counts[r])
    unverified = sum(
        r.result is RemediationResult.APPLIED and r.verification is not Status.PASS for r in records
    )
    if unverified:
        done += f" ({unverified} applied but not passing when re-checked)"
    return f"changes of run {run.info.id}: {done}"


def _backups(records: Sequence[RemediationRecord]) -> dict[str, tuple[str, str]]:
    """Per device, the configuration backup taken before its changes (one per device)."""
    found: dict[str, tuple[str, str]] = {}
    for record in records:
        backup = backup_of(record)
        if backup is not None:
            found.setdefault(f"{record.client}/{record.device}", backup)
    return found
