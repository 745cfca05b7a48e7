"""Verify a pack's run records: format 2 parts, run signatures, and the findings shown.

A format 2 record (``record.py``) lists one hash per part. The pack's ``runs/NNN.parts.json``
opens the client's parts: each leaf with its salt and value, or — redacted — by its hash alone;
or, for a run wholly the client's in a pack without redaction, every part's fields and the
run's salt, from which each leaf's salt is derived as the store derived it.
Every opened part must hash to what the record lists; every finding ``findings.csv`` shows must
be the opened finding at its place, with the same device, control and status. A run's
signature (``runs/NNN.json.sig``) must verify with the key it names, when the pack has it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from baluarte.evidence.keys import fingerprint, signature_valid
from baluarte.evidence.record import (
    FORMAT,
    Part,
    leaf_sha256,
    part_digest,
    part_sha256,
    seal_part,
)

__all__ = ["RecordChecks", "check_findings_csv", "check_parts", "check_run_signature"]

# findings.csv columns that must equal the opened finding's leaves (as shown, redacted or not)
_CSV_LEAVES = ("client", "site", "device", "control", "status")


@dataclass
class RecordChecks:
    """What the record checks found; ``problems`` are tampering, ``notes`` are not."""

    parts_checked: int = 0
    signatures_checked: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # run id → the opened findings' shown values (leaf → value), in the record's order
    findings: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)


def check_run_signature(
    root: Path,
    run_id: Any,
    link: Mapping[str, Any],
    record: bytes,
    keys: Mapping[str, Ed25519PublicKey],
    result: RecordChecks,
) -> None:
    """The run's signature, against the pack's and the provider's keys (``keys``)."""
    name = link.get("signature")
    if name is None:
        if link.get("format") == 2:
            result.notes.append(f"run {run_id}: unsigned (finished without the provider's key)")
        return
    path = _inside(root, str(name))
    if path is None or not path.is_file():
        result.problems.append(f"run {run_id}: its signature {name} is missing from the pack")
        return
    signed_by = str(link.get("signed_by") or "")
    key = keys.get(signed_by)
    if key is None:
        result.notes.append(
            f"run {run_id}: signed by {signed_by or 'an unnamed key'}, not this pack's key: "
            "not checked (pass that public key with --key)"
        )
        return
    result.signatures_checked += 1
    if not signature_valid(key, path.read_bytes(), record):
        result.problems.append(
            f"run {run_id}: its signature {name} does not verify with {signed_by}: the record "
            "was changed after the run was signed"
        )


def check_parts(
    root: Path, run_id: Any, link: Mapping[str, Any], record: bytes, result: RecordChecks
) -> None:
    """The opened parts of a format 2 record: each hashes to what the record lists."""
    try:
        doc = json.loads(record)
    except ValueError:
        result.problems.append(f"run {run_id}: its record is not JSON")
        return
    if doc.get("format") != FORMAT:
        result.problems.append(f"run {run_id}: its record is not a {FORMAT} record")
        return
    run = doc.get("run") if isinstance(doc.get("run"), dict) else {}
    if run.get("id") != run_id:
        result.problems.append(f"run {run_id}: its record is the record of run {run.get('id')}")
    if run.get("state") != "complete":
        result.problems.append(f"run {run_id}: its record says it is {run.get('state')}")
    name = link.get("parts")
    if name is None:
        return
    path = _inside(root, str(name))
    try:
        opened = json.loads(path.read_text(encoding="utf-8")) if path else None
        parts = None
        if isinstance(opened, dict):
            parts = list(opened["parts"])
            if "salt" in opened:
                parts = _by_salt(opened["salt"], parts)
    except (OSError, ValueError, KeyError, TypeError):
        parts = None
    if parts is None:
        result.problems.append(f"run {run_id}: its parts {name} are missing or unreadable")
        return
    shown: list[dict[str, Any]] = []
    for part in parts:
        digest: str | None
        if isinstance(part, Part):  # rebuilt here from the run's salt: its hash is our own
            label, digest = part.name, part.sha256
        else:
            label = str(part.get("part")) if isinstance(part, dict) else "?"
            digest = _part_digest(run_id, part, result)
        if digest is None:
            continue
        result.parts_checked += 1
        if digest != part_digest(doc, label):
            result.problems.append(
                f"run {run_id}: part {label} of {name} does not match its record "
                "(edited after the run finished)"
            )
        if label.startswith("findings/"):
            shown.append(_shown(part))  # compared with findings.csv, matching or not
    result.findings[run_id] = shown


def check_findings_csv(root: Path, result: RecordChecks) -> None:
    """Every finding ``findings.csv`` shows for a run with opened parts is that part, in order."""
    try:
        # utf-8-sig: the byte order mark is for spreadsheets; the header says the separator
        with (root / "findings.csv").open(encoding="utf-8-sig", newline="") as f:
            header = f.readline()
            f.seek(0)
            rows = list(csv.DictReader(f, delimiter=";" if header.startswith("run_id;") else ","))
    except (OSError, ValueError):
        return  # the manifest check names a missing or changed file
    by_run: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        try:
            by_run.setdefault(int(row.get("run_id") or ""), []).append(row)
        except ValueError:
            result.problems.append(f"findings.csv: a row names no run ({row.get('run_id')!r})")
    for run_id, opened in result.findings.items():
        listed = by_run.get(run_id, [])
        if len(listed) != len(opened):
            result.problems.append(
                f"run {run_id}: findings.csv shows {len(listed)} findings, its record "
                f"proves {len(opened)}"
            )
            continue
        for i, (row, part) in enumerate(zip(listed, opened, strict=True)):
            for leaf in _CSV_LEAVES:
                if row.get(leaf, "") != _text(part.get(leaf)):
                    result.problems.append(
                        f"run {run_id}: finding {i + 1} in findings.csv says {leaf} "
                        f"{row.get(leaf)!r}, its record proves {_text(part.get(leaf))!r}"
                    )


def _by_salt(salt: Any, parts: list[Any]) -> list[Any]:
    """Parts disclosed by the run's salt, rebuilt as the store sealed them (``seal_part``: leaf
    salts, leaves and the part's hash, each computed once). ValueError, KeyError or TypeError
    when the file is not such a list."""
    run_salt = bytes.fromhex(str(salt))
    out: list[Any] = []
    for part in parts:
        name, fields = str(part["part"]), part["fields"]
        if not isinstance(fields, dict):
            raise TypeError(f"part {name}: its fields are not an object")
        out.append(seal_part(run_salt, name, fields))
    return out


def _part_digest(run_id: int, part: Any, result: RecordChecks) -> str | None:
    leaves = part.get("leaves") if isinstance(part, dict) else None
    if not isinstance(leaves, dict):
        result.problems.append(f"run {run_id}: a part without leaves in its parts file")
        return None
    digests: dict[str, str] = {}
    for name, leaf in leaves.items():
        if not isinstance(leaf, dict):
            result.problems.append(f"run {run_id}: leaf {name} of {part.get('part')} is malformed")
            return None
        if "salt" in leaf and "value" in leaf:
            try:
                digests[name] = leaf_sha256(str(leaf["salt"]), str(leaf["value"]))
            except UnicodeEncodeError:  # a value hashed is ASCII-only JSON
                digests[name] = ""
        else:
            digests[name] = str(leaf.get("sha256"))
    return part_sha256(digests)


def _shown(part: Any) -> dict[str, Any]:
    """A finding part's leaves as values: rebuilt (``Part``) or as the file gives them."""
    if isinstance(part, Part):
        return {name: json.loads(leaf.value) for name, leaf in part.leaves.items()}
    out: dict[str, Any] = {}
    for name, leaf in part["leaves"].items():
        if "value" in leaf:
            try:
                out[name] = json.loads(leaf["value"])
            except ValueError:
                out[name] = leaf["value"]
        else:
            out[name] = leaf.get("redacted")
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _inside(root: Path, name: str) -> Path | None:
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts:
        return None
    return root / name


def key_map(*keys: Ed25519PublicKey | None) -> dict[str, Ed25519PublicKey]:
    return {fingerprint(k): k for k in keys if k is not None}
