"""Every evidence hash a pack cites resolves to a run record inside the pack.

A finding's evidence hash is the SHA-256 of its raw evidence text (UTF-8). The pack cites them
in results.json (each finding's evidence, with its run), in report.html and report.pdf (each
device page's rows: ``data-evidence``/``data-run`` on the hash shown), and in the OSCAL
back-matter; findings.csv names the run of each row. Each citation must be a finding of a run
whose record is in ``runs/``: its opened parts (format 2, ``runs/NNN.parts.json``, checked
against the record by ``verify_records``) or the record itself (format 1, the whole run). A
format 1 record a pack could not hold (chain.json says why) is a note, not a problem: it was
chained before records were sealed, and holds other clients' data or personal data.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from baluarte.chain import short
from baluarte.evidence.verify_records import RecordChecks

__all__ = ["Citation", "check_citations", "evidence_digests"]

Citation = tuple[str, Any, str | None]  # (file, run id or None: any run, evidence sha256)

_HTML_CITE = re.compile(r'data-evidence="([0-9a-f]{64})"\s+data-run="(\d+)"')


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def evidence_digests(
    root: Path, links: list[dict[str, Any]], records: RecordChecks
) -> dict[Any, set[str]]:
    """Run id → the evidence hashes its record in the pack proves, for every run with one."""
    out: dict[Any, set[str]] = {}
    for run_id, shown in records.findings.items():  # format 2: the opened findings
        out[run_id] = {_sha256(f["evidence"]) for f in shown if isinstance(f.get("evidence"), str)}
    for link in links:  # format 1: the whole run is the record
        name = link.get("record")
        if link.get("format") == 2 or not isinstance(name, str) or link.get("run_id") in out:
            continue
        try:
            doc = json.loads((root / name).read_bytes())
            found = [f.get("evidence") for f in doc["findings"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # the chain check names a missing or malformed record
        out[link.get("run_id")] = {_sha256(e) for e in found if isinstance(e, str)}
    return out


def check_citations(root: Path, links: list[dict[str, Any]], records: RecordChecks) -> int:
    """Add a problem per citation without its record; returns how many citations were checked."""
    proven = evidence_digests(root, links, records)
    anywhere = set().union(*proven.values()) if proven else set()
    named = {link.get("run_id") for link in links if link.get("record")}
    # format 1 links the pack could not hold (another client's data, or a redacted pack)
    withheld = {
        link.get("run_id"): str(link.get("why_no_record") or "not included")
        for link in links
        if link.get("format") != 2 and not link.get("record")
    }
    checked = 0
    for file, run_id, digest in _citations(root):
        checked += 1
        if run_id is None:
            if digest not in anywhere:
                records.problems.append(
                    f"{file}: cites evidence {short(digest)}, which no run record in the pack holds"
                )
            continue
        if run_id not in proven and run_id in named:
            continue  # its record or parts are missing or broken: the record checks say so
        if run_id not in proven:
            what = f"evidence {short(digest)} of run {run_id}" if digest else f"run {run_id}"
            if run_id in withheld:  # chained before records were sealed: said why, not hidden
                note = f"{file}: cites {what}, whose format 1 record is not in the pack"
                if note + f" ({withheld[run_id]})" not in records.notes:
                    records.notes.append(note + f" ({withheld[run_id]})")
                continue
            records.problems.append(f"{file}: cites {what}, whose record is not in the pack")
        elif digest is not None and digest not in proven[run_id]:
            records.problems.append(
                f"{file}: cites evidence {short(digest)} of run {run_id}, which its record in "
                "the pack does not hold"
            )
    return checked


def _citations(root: Path) -> Iterator[Citation]:
    yield from _results(root)
    yield from _csv(root)
    yield from _html(root)
    yield from _oscal(root)


def _results(root: Path) -> Iterator[Citation]:
    try:
        doc = json.loads((root / "results.json").read_text(encoding="utf-8"))
        runs = list(doc["runs"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # the manifest check names a missing or changed file
    for run in runs:
        try:
            run_id = run["run"]["id"]
            found = list(run["findings"])
        except (KeyError, TypeError):
            continue
        for f in found:
            evidence = f.get("evidence") if isinstance(f, dict) else None
            yield "results.json", run_id, _sha256(evidence) if isinstance(evidence, str) else None


def _csv(root: Path) -> Iterator[Citation]:
    try:
        with (root / "findings.csv").open(encoding="utf-8-sig", newline="") as f:
            sample = f.read(4096)
            f.seek(0)
            delimiter = ";" if sample.partition("\n")[0].count(";") > 0 else ","
            rows = list(csv.DictReader(f, delimiter=delimiter))
    except (OSError, ValueError):
        return
    for run_id in sorted({row.get("run_id") or "" for row in rows}):
        if run_id.isdigit():
            yield "findings.csv", int(run_id), None


def _html(root: Path) -> Iterator[Citation]:
    try:
        text = (root / "report.html").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return
    for digest, run_id in _HTML_CITE.findall(text):
        yield "report.html", int(run_id), digest


def _oscal(root: Path) -> Iterator[Citation]:
    try:
        doc = json.loads((root / "oscal-assessment-results.json").read_text(encoding="utf-8"))
        resources = doc["assessment-results"]["back-matter"]["resources"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    for res in resources if isinstance(resources, list) else []:
        for link in res.get("rlinks", []) if isinstance(res, dict) else []:
            if link.get("href") != "results.json":
                continue
            for h in link.get("hashes", []):
                if h.get("algorithm") == "SHA-256":
                    yield "oscal-assessment-results.json", None, str(h.get("value"))
