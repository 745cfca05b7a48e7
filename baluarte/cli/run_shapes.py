"""A run's findings for the findings commands (check, show; and the runs demo and apply print):
the tally per device and domain, the lines a pipe or a file gets, and CSV.

In a pipe, ``# `` lines first (totals, notes, the tally), then one finding per line, its cells
tab-separated (shown here as ``|``)::

    # run 7 (check, complete): devices 3; pass 8, fail 55, error 0, not_applicable 2, waived 1
    # passing/judged controls per device and domain (err: …)
    # device|patching|firewall|endpoint|backup|access|logging
    # demo/fw-oficina|0/2|0/5|-|0/1|0/7|0/2
    # findings: 53 of 66 not passing, one per line
    # device|control|status|observed
    demo/fw-oficina|access.admin_mfa|fail|admin (…) has two-factor disable

so ``grep -v '^#'`` leaves the findings and ``awk -F'\\t' '$3=="fail"'`` picks them. The
observed value is whole (the terminal's is cut), then `` — `` and the reason when there is one.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO

from baluarte.cli.shapes import comment, csv_cell, tsv_line, write_lines
from baluarte.findings import Finding, Status
from baluarte.run import RunRecord

__all__ = [
    "CSV_COLUMNS",
    "FINDING_COLUMNS",
    "NOT_PASSING",
    "TALLY_NOTE",
    "Tally",
    "device_label",
    "domain_tally",
    "finding_line",
    "run_line",
    "shown_findings",
    "write_csv",
    "write_lines_of_run",
]

NOT_PASSING = (Status.FAIL, Status.ERROR)
FINDING_COLUMNS = ("device", "control", "status", "observed")
# the JSON report's field names (reports/json_report.py), for the columns a sheet needs
CSV_COLUMNS = (
    "client", "site", "device", "control", "status", "severity",
    "expected", "observed", "reason", "error_kind",
)  # fmt: skip
TALLY_NOTE = (
    "passing/judged controls per device and domain (err: read but not settled, or unreadable;"
    " waived and not applicable are not judged)"
)


@dataclass
class Tally:
    """One device's findings in one domain."""

    counts: Counter[Status] = field(default_factory=Counter)

    @property
    def judged(self) -> int:
        return self.counts[Status.PASS] + self.counts[Status.FAIL] + self.counts[Status.ERROR]

    def text(self) -> str:
        c = self.counts
        if not self.judged:
            if c[Status.WAIVED]:
                return "waived"
            return "n/a" if c[Status.NOT_APPLICABLE] else "-"
        errors = f" {c[Status.ERROR]} err" if c[Status.ERROR] else ""
        return f"{c[Status.PASS]}/{self.judged}{errors}"

    def worst(self) -> Status | None:
        """The status that colours the cell: fail, then error, pass, waived (None: only not
        applicable)."""
        for s in (Status.FAIL, Status.ERROR, Status.PASS, Status.WAIVED):
            if self.counts[s]:
                return s
        return None


def device_label(f: Finding) -> str:
    return f"{f.client}/{f.device}"


def domain_tally(findings: Iterable[Finding]) -> tuple[list[str], dict[str, dict[str, Tally]]]:
    """The domains (the catalogue's six, then any other a finding names) and, per device
    label (sorted), its tally per domain."""
    from baluarte.controls import DOMAINS
    from reports.json_report import domain_of, domain_sort_key

    rows: dict[tuple[str, str], dict[str, Tally]] = {}
    domains = set(DOMAINS)
    for f in findings:
        domain = domain_of(f.control)
        domains.add(domain)
        per = rows.setdefault((f.client, f.device), {})
        per.setdefault(domain, Tally()).counts[f.status] += 1
    ordered = sorted(domains, key=domain_sort_key)
    return ordered, {f"{c}/{d}": rows[(c, d)] for c, d in sorted(rows)}


def shown_findings(run: RunRecord, *, all_findings: bool) -> list[Finding]:
    """The findings a text output lists: those not passing (all with ``all_findings``), by
    device; within a device, as the run stored them."""
    chosen = [f for f in run.findings if all_findings or f.status in NOT_PASSING]
    return sorted(chosen, key=lambda f: (f.client, f.device))


def run_line(run: RunRecord) -> str:
    """``run 7 (check, complete): devices 3; pass 8, fail 55, …``"""
    counts = run.counts()
    totals = ", ".join(f"{s} {counts[s]}" for s in Status)
    i = run.info
    return f"run {i.id} ({i.kind}, {i.state}): devices {i.devices_total}; {totals}"


def write_lines_of_run(
    out: IO[str], run: RunRecord, *, all_findings: bool = False, notes: Sequence[str] = ()
) -> None:
    """A run as a pipe or a file gets it: ``# `` summary lines, then one finding per line."""
    domains, tally = domain_tally(run.findings)
    shown = shown_findings(run, all_findings=all_findings)
    total = len(run.findings)
    what = f"all {total} findings" if all_findings else f"{len(shown)} of {total} not passing"
    lines = [comment(run_line(run)), *(comment(n) for n in notes), comment(TALLY_NOTE)]
    lines.append("# " + tsv_line(("device", *domains)))
    for label, per in tally.items():
        cells = [per[d].text() if d in per else "-" for d in domains]
        lines.append("# " + tsv_line((label, *cells)))
    lines.append(comment(f"findings: {what}, one per line"))
    lines.append("# " + tsv_line(FINDING_COLUMNS))
    write_lines(out, lines)
    write_lines(out, (finding_line(f) for f in shown))


def finding_line(f: Finding) -> str:
    """``client/device TAB control TAB status TAB observed — reason``, on one line."""
    detail = " — ".join(t for t in (f.observed, f.reason) if t)
    line = tsv_line((device_label(f), f.control, f.status, detail))
    # a record never reads as a "# " line, whatever a stored name holds
    return "\\x23" + line[1:] if line.startswith("#") else line


def write_csv(out: IO[str], findings: Iterable[Finding]) -> None:
    """A header and one row per finding (every cell kept from reading as a formula)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for f in findings:
        kind = str(f.error_kind or "unreadable") if f.status is Status.ERROR else ""
        writer.writerow(
            csv_cell(v)
            for v in (
                f.client, f.site, f.device, f.control, str(f.status), str(f.severity),
                f.expected, f.observed, f.reason, kind,
            )
        )  # fmt: skip
    out.flush()
