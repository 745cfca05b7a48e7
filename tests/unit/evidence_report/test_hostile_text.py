"""An evidence pack's renderers with what a hostile device or file could say: every file stays
valid for its real parser (tinyhtml5, pdftotext, compliance-trestle, csv, defusedxml), shows the
text as text, and a one-megabyte value costs the PDF seconds, not hours."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import subprocess
import time
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest
from tinyhtml5.parser import HTMLParser
from trestle.oscal.assessment_results import Model

from baluarte.evidence.data import EvidenceData
from baluarte.evidence.tables import (
    CSV_CELL_MAX_CHARS,
    CSV_COLUMNS,
    CSV_DELIMITER,
    findings_csv,
    junit_xml,
)
from baluarte.findings import Finding, Status
from baluarte.remediation import RemediationRecord, RemediationResult
from reports.evidence import render_html, render_pdf
from reports.evidence.oscal import assessment_results
from reports.html_text import VALUE_MAX_CHARS

from ._sample import evidence_data

# what a device or file may say: Rich markup, HTML, a formula, terminal escapes (clear screen,
# an OSC 8 hyperlink, the 8-bit CSI), a bidi override and a lone surrogate
HOSTILE = (
    "[/x][link=https://evil.example/]click[/link][green]PASS[/green] <b>bold</b> "
    "\x1b[2J\x1b]8;;https://evil.example/\x07\x9b31m\u202eevil\ud800"
)
VISIBLE = (
    "[/x][link=https://evil.example/]click[/link][green]PASS[/green] <b>bold</b> "
    "\\x1b[2J\\x1b]8;;https://evil.example/\\x07\\x9b31m\\u202eevil\\ud800"
)
FORMULA = '=HYPERLINK("https://evil.example/","click")'
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# one megabyte in words (every space a line break WeasyPrint weighs: layout time grows with the
# square of the length) and one unbroken (a word no line can hold)
MEGABYTE = "word " * 200_000
UNBROKEN = "B" * 1_000_000


def _hostile(f: Finding, text: str) -> Finding:
    if f.status is Status.FAIL and f.device == "srv-files":
        return f.model_copy(update={"observed": text, "reason": FORMULA, "expected": text})
    if f.status is Status.ERROR:
        return f.model_copy(update={"reason": text})
    if f.status is Status.FAIL and f.device == "fw-hq":  # shown in full: it did not pass
        return f.model_copy(update={"observed": MEGABYTE})
    return f


def hostile_data(lang: str = "es", *, text: str = HOSTILE) -> EvidenceData:
    """The sample pack's latest run saying ``text`` (and a megabyte in words and one unbroken)."""
    data = evidence_data(lang)  # type: ignore[arg-type]
    latest = data.runs[-1]
    changed = latest.model_copy(
        update={
            "findings": tuple(_hostile(f, text) for f in latest.findings),
            "remediations": (
                RemediationRecord(
                    client="acme",
                    site="madrid-hq",
                    device="srv-files",
                    platform="linux",
                    control="firewall.enabled",
                    result=RemediationResult.FAILED,
                    before=text,
                    action=UNBROKEN,
                    after=text,
                ),
            ),
        }
    )
    return dataclasses.replace(data, runs=(*data.runs[:-1], changed))


@pytest.mark.parametrize("lang", ["es", "en"])
def test_html_is_valid_and_shows_hostile_text_as_text(lang: str) -> None:
    html = render_html(hostile_data(lang))
    parser = HTMLParser()
    parser.parse(html)
    assert parser.errors == []
    assert not RAW_CONTROL.search(html)
    assert VISIBLE.replace("<", "&lt;").replace(">", "&gt;") in html
    assert "<b>bold" not in html and 'href="https://evil.example' not in html
    assert MEGABYTE[:VALUE_MAX_CHARS] + "…" in html and MEGABYTE[: VALUE_MAX_CHARS + 1] not in html
    assert "B" * VALUE_MAX_CHARS + "…" in html and "B" * (VALUE_MAX_CHARS + 1) not in html
    note = {"es": "results.json, en este paquete, los", "en": "results.json in this pack holds"}[
        lang
    ]
    assert note in html


def test_pdf_of_a_megabyte_value_takes_bounded_time() -> None:
    started = time.monotonic()
    render_pdf(render_html(hostile_data(text="plain words")))
    took = time.monotonic() - started
    assert took < 60, f"PDF took {took:.0f} s"  # a bound, not a benchmark: it was hours before


def test_pdf_text_is_inert(tmp_path: Path) -> None:
    pdf = render_pdf(render_html(hostile_data()))
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert not RAW_CONTROL.search(text.replace("\x0c", ""))  # pdftotext ends pages with FF
    flat = "".join(text.split())
    assert "[/x][link=https://evil.example/]click[/link]" in flat
    assert "\\x1b[2J" in flat and "\\u202eevil" in flat


def test_oscal_validates_with_trestle() -> None:
    doc = assessment_results(hostile_data())
    text = json.dumps(doc, ensure_ascii=False)
    assert not RAW_CONTROL.search(text)
    Model.parse_obj(json.loads(text))
    descriptions = [
        o["description"]
        for r in doc["assessment-results"]["results"]
        for o in r.get("observations", ())
    ]
    assert any(VISIBLE in d for d in descriptions)


def test_csv_parses_shows_text_and_defuses_formulas() -> None:
    data = hostile_data()
    text = findings_csv(data).removeprefix("\ufeff")  # the byte order mark is for Excel
    text.encode("utf-8")
    assert not RAW_CONTROL.search(text.replace("\r\n", "\n"))
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=CSV_DELIMITER[data.lang]))
    assert all(len(r) == len(CSV_COLUMNS) and None not in r for r in rows)
    hostile = [r for r in rows if r["observed"] == VISIBLE]
    assert hostile and all(r["expected"] == VISIBLE for r in hostile)
    assert {r["reason"] for r in hostile} == {"'" + FORMULA}
    # a spreadsheet cell holds 32,767 characters: the rest is in results.json, and it says so
    cut = [r["observed"] for r in rows if r["observed"].startswith(MEGABYTE[:1000])]
    assert cut == [MEGABYTE[:CSV_CELL_MAX_CHARS] + " … [968000 more characters in results.json]"]


def test_junit_is_well_formed_xml_with_the_text() -> None:
    text = junit_xml(hostile_data())
    root = SafeET.fromstring(text.encode("utf-8"))
    messages = [e.get("message") for e in root.iter() if e.get("message")]
    assert VISIBLE in messages
    details = "".join(e.text or "" for e in root.iter("failure"))
    assert f"observed: {VISIBLE}" in details
