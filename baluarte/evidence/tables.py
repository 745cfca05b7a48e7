"""findings.csv and junit.xml of an evidence pack: every finding of every run in the period.

Text a device or a file provided is made inert first (``baluarte.text``): control characters
shown as escapes, which also keeps junit.xml well-formed XML 1.0. In the CSV, a free-text cell
that starts like a spreadsheet formula (``=``, ``+``, ``-``, ``@``) gets a leading ``'`` so
that opening the file never runs one (OWASP's advice for CSV injection), and a cell longer than
a spreadsheet cell holds (32,767 characters) is cut, saying so: results.json keeps every value
whole.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable

from baluarte.evidence.data import EvidenceData, Lang
from baluarte.findings import Finding, Status
from baluarte.text import CSV_CELL_MAX_CHARS, inert, spreadsheet_cell

__all__ = ["BOM", "CSV_CELL_MAX_CHARS", "CSV_COLUMNS", "CSV_DELIMITER", "findings_csv", "junit_xml"]

BOM = "\ufeff"
CSV_DELIMITER: dict[Lang, str] = {"es": ";", "en": ","}

CSV_COLUMNS = (
    "run_id",
    "run_started_at",
    "client",
    "site",
    "device",
    "platform",
    "control",
    "policy",
    "status",
    "severity",
    "expected",
    "observed",
    "reason",
    "waiver_approved_by",
    "waiver_reason",
    "waiver_ticket",
    "waiver_expires",
    "waiver_expired",
)


def findings_csv(data: EvidenceData) -> str:
    """One row per finding, oldest run first (RFC 4180, header row).

    Written for spreadsheets as they are set up in the pack's language: a byte order mark
    first, so Excel reads UTF-8 rather than the system code page, and ``;`` between cells in a
    Spanish pack, where ``,`` is the decimal comma (``CSV_DELIMITER``; VERIFY.txt says which).
    """
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=CSV_DELIMITER[data.lang], lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    # the same texts come back night after night: each made a cell once
    cells: dict[str | None, str] = {}

    def cell(text: str | None) -> str:
        made = cells.get(text)
        if made is None:
            made = cells[text] = _cell(text)
        return made

    for run in data.runs:
        started = run.info.started_at.isoformat()
        for f in run.findings:
            w = f.waiver
            writer.writerow(
                [
                    run.info.id,
                    started,
                    f.client,
                    f.site,
                    f.device,
                    f.platform,
                    f.control,
                    f.policy or "",
                    f.status.value,
                    f.severity.value,
                    cell(f.expected),
                    cell(f.observed),
                    cell(f.reason),
                    cell(w.approved_by if w else None),
                    cell(w.reason if w else None),
                    cell(w.ticket if w else None),
                    w.expires.isoformat() if w else "",
                    ("yes" if w.expired else "no") if w else "",
                ]
            )
    return out.getvalue()


def _cell(text: str | None) -> str:
    """A free-text CSV cell (``baluarte.text.spreadsheet_cell``)."""
    return spreadsheet_cell(text, elsewhere="results.json")


def junit_xml(data: EvidenceData) -> str:
    """JUnit XML: a testsuite per run, a testcase per finding (fail → failure, error → error,
    waived and not applicable → skipped with the reason)."""
    suites = ET.Element("testsuites", name=inert(f"baluarte {data.client}"))
    made: dict[str, str] = {}  # the same texts come back night after night: each made inert once

    def clean(text: str) -> str:
        done = made.get(text)
        if done is None:
            done = made[text] = inert(text)
        return done

    for run in data.runs:
        c = Counter(f.status for f in run.findings)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"run {run.info.id}",
            timestamp=run.info.started_at.isoformat(),
            tests=str(len(run.findings)),
            failures=str(c[Status.FAIL]),
            errors=str(c[Status.ERROR]),
            skipped=str(c[Status.WAIVED] + c[Status.NOT_APPLICABLE]),
        )
        for f in run.findings:
            _testcase(suite, f, clean)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _testcase(suite: ET.Element, f: Finding, clean: Callable[[str], str]) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=clean(f"{f.client}.{f.site}.{f.device}"), name=clean(f.control)
    )
    detail = "\n".join(
        f"{label}: {clean(value)}"
        for label, value in (
            ("expected", f.expected),
            ("observed", f.observed),
            ("reason", f.reason),
        )
        if value
    )
    if f.status is Status.FAIL:
        ET.SubElement(case, "failure", message=clean(f.observed or "failed")).text = detail
    elif f.status is Status.ERROR:
        ET.SubElement(case, "error", message=clean(f.reason or "error")).text = detail
    elif f.status is Status.WAIVED and f.waiver is not None:
        w = f.waiver
        ET.SubElement(
            case,
            "skipped",
            message=clean(f"waived by {w.approved_by} until {w.expires.isoformat()}: {w.reason}"),
        )
    elif f.status is Status.NOT_APPLICABLE:
        ET.SubElement(case, "skipped", message=clean(f.reason or "not applicable"))
