"""Verify an evidence pack: manifest, signature (pack key and provider key), chain of runs,
each run's record, signature and parts (``verify_records``), every evidence hash the reports
cite (``verify_citations``).

Reads only the pack (a folder or a zip) and optionally the provider's published public key;
never the store. Every problem is named: which file, which run, which key.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from baluarte.chain import short
from baluarte.errors import InputError
from baluarte.evidence.keys import fingerprint, load_public_key, signature_valid
from baluarte.evidence.pack import MANIFEST, PUBLIC_KEY, SIGNATURE
from baluarte.evidence.verify_citations import check_citations
from baluarte.evidence.verify_records import (
    RecordChecks,
    check_findings_csv,
    check_parts,
    check_run_signature,
    key_map,
)

__all__ = ["Verification", "verify_pack"]

_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")


@dataclass
class Verification:
    """What ``verify_pack`` found: ``problems`` empty means the pack is intact."""

    pack_fingerprint: str | None = None
    provider_fingerprint: str | None = None
    files_checked: int = 0
    runs_checked: int = 0
    links_checked: int = 0
    parts_checked: int = 0
    signatures_checked: int = 0
    citations_checked: int = 0  # evidence hashes and runs the reports cite (verify_citations)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # not tampering: unsigned runs, other keys

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_pack(pack: Path, provider_key: Path | None = None) -> Verification:
    """Check ``pack``; InputError when it is not a pack or ``provider_key`` is unusable."""
    provider = None
    if provider_key is not None:
        try:
            provider = load_public_key(provider_key.read_bytes(), str(provider_key))
        except OSError as exc:
            raise InputError(
                f"cannot read the public key {provider_key}: {exc.strerror}",
                code="unreadable_file",
            ) from exc
    if pack.is_dir():
        return _verify_folder(pack, provider)
    if pack.is_file() and zipfile.is_zipfile(pack):
        with tempfile.TemporaryDirectory(prefix="baluarte-verify-") as tmp:
            _unzip(pack, Path(tmp))
            return _verify_folder(Path(tmp), provider)
    raise InputError(f"{pack} is neither a pack folder nor a zip file", code="missing_file")


def _unzip(pack: Path, into: Path) -> None:
    try:
        with zipfile.ZipFile(pack) as zf:
            for info in zf.infolist():
                name = PurePosixPath(info.filename)
                if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
                    raise InputError(
                        f"{pack}: unsafe file name in the zip: {info.filename!r}",
                        code="wrong_value",
                    )
            zf.extractall(into)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{pack}: cannot read the zip: {exc}", code="unreadable_file") from exc


def _verify_folder(root: Path, provider: Any) -> Verification:
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise InputError(f"{root} is not an evidence pack: no {MANIFEST}", code="missing_file")
    result = Verification()
    manifest = manifest_path.read_bytes()
    listed = _check_manifest(root, manifest, result)
    packed = _check_signature(root, manifest, provider, result)
    _check_chain(root, listed, key_map(packed, provider), result)
    return result


def _check_manifest(root: Path, manifest: bytes, result: Verification) -> dict[str, str]:
    listed: dict[str, str] = {}
    for n, line in enumerate(manifest.decode("utf-8", "replace").splitlines(), 1):
        m = _LINE.fullmatch(line)
        if m is None:
            result.problems.append(f"{MANIFEST} line {n} is not in sha256sum format: {line!r}")
            continue
        digest, name = m.groups()
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts:
            result.problems.append(f"{MANIFEST} line {n} names a file outside the pack: {name}")
            continue
        listed[name] = digest
        path = root / name
        if not path.is_file():
            result.problems.append(f"{name}: listed in {MANIFEST} but missing")
            continue
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        result.files_checked += 1
        if actual != digest:
            result.problems.append(
                f"{name}: changed (sha256 {short(actual)}, {MANIFEST} says {short(digest)})"
            )
    for path in sorted(root.rglob("*")):
        rel_name = path.relative_to(root).as_posix()
        if path.is_file() and rel_name not in listed and rel_name not in (MANIFEST, SIGNATURE):
            result.problems.append(f"{rel_name}: in the pack but not listed in {MANIFEST}")
    return listed


def _check_signature(root: Path, manifest: bytes, provider: Any, result: Verification) -> Any:
    """Check the manifest's signature; the pack's public key (None: missing or unusable)."""
    sig_path = root / SIGNATURE
    if not sig_path.is_file():
        result.problems.append(f"{SIGNATURE} is missing: the manifest is not signed")
        return None
    signature = sig_path.read_bytes()
    try:
        packed = load_public_key((root / PUBLIC_KEY).read_bytes(), PUBLIC_KEY)
    except (OSError, InputError) as exc:
        result.problems.append(f"{PUBLIC_KEY} is missing or not an Ed25519 public key ({exc})")
        packed = None
    if packed is not None:
        result.pack_fingerprint = fingerprint(packed)
        if not signature_valid(packed, signature, manifest):
            result.problems.append(
                f"{SIGNATURE} does not verify with the pack's {PUBLIC_KEY}: the manifest was "
                "changed after signing"
            )
    if provider is None:
        return packed
    result.provider_fingerprint = fingerprint(provider)
    if (
        result.pack_fingerprint is not None
        and result.pack_fingerprint != result.provider_fingerprint
    ):
        result.problems.append(
            f"{PUBLIC_KEY} is not the provider's key: the pack carries "
            f"{result.pack_fingerprint}, the provider published {result.provider_fingerprint}"
        )
    if not signature_valid(provider, signature, manifest):
        result.problems.append(
            f"{SIGNATURE} was not made by the provider's key {result.provider_fingerprint}"
        )
    return packed


def _check_chain(
    root: Path, listed: dict[str, str], keys: dict[str, Any], result: Verification
) -> None:
    try:
        chain = json.loads((root / "chain.json").read_text(encoding="utf-8"))
        links: list[dict[str, Any]] = list(chain["links"])
        runs = [int(r) for r in chain["runs"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        result.problems.append(f"chain.json is missing or unreadable ({type(exc).__name__})")
        return
    referenced: set[str] = set()
    ids = set()
    records = RecordChecks()
    sealed_from: Any = None  # the first format 2 link: every later run was sealed too
    for i, link in enumerate(links):
        run_id = link.get("run_id")
        ids.add(run_id)
        result.links_checked += 1
        if link.get("format") == 2 and sealed_from is None:
            sealed_from = run_id
        elif link.get("format") != 2 and sealed_from is not None:
            result.problems.append(
                f"run {run_id}: chain.json calls its record format 1, but it follows run "
                f"{sealed_from}, sealed in format 2 as every later run is"
            )
        record = link.get("record")
        if record is not None:
            referenced.add(record)
            referenced.update(str(link[k]) for k in ("parts", "signature") if link.get(k))
            data = _check_record(root, run_id, str(record), link, result)
            if data is not None:
                check_run_signature(root, run_id, link, data, keys, records)
                if link.get("format") == 2:
                    check_parts(root, run_id, link, data, records)
            if link.get("format") == 2 and run_id in runs and not link.get("parts"):
                result.problems.append(f"run {run_id}: a run of the period without its parts")
        elif link.get("format") == 2:
            result.problems.append(f"run {run_id}: its record is not in the pack")
        if i > 0 and link.get("previous_sha256") != links[i - 1].get("record_sha256"):
            before = links[i - 1]
            result.problems.append(
                f"between run {before.get('run_id')} and run {run_id}: a run is missing "
                f"(run {run_id} follows {short(link.get('previous_sha256'))}, run "
                f"{before.get('run_id')} ends in {short(before.get('record_sha256'))})"
            )
    for run_id in runs:
        if run_id not in ids:
            result.problems.append(f"run {run_id}: a run of the period is not in chain.json")
    for name in sorted(listed):
        if name.startswith("runs/") and name not in referenced:
            result.problems.append(f"{name}: a run record that chain.json does not link")
    check_findings_csv(root, records)
    result.citations_checked += check_citations(root, links, records)
    result.problems += records.problems
    result.notes += records.notes
    result.parts_checked += records.parts_checked
    result.signatures_checked += records.signatures_checked


def _check_record(
    root: Path, run_id: Any, record: str, link: dict[str, Any], result: Verification
) -> bytes | None:
    """The record's bytes when they hash to the link (None: a problem was named)."""
    path = root / record
    if ".." in PurePosixPath(record).parts or not path.is_file():
        result.problems.append(f"run {run_id}: its record {record} is missing from the pack")
        return None
    data = path.read_bytes()
    result.runs_checked += 1
    actual = hashlib.sha256(data).hexdigest()
    if actual != link.get("record_sha256"):
        result.problems.append(
            f"run {run_id}: record {record} edited (sha256 {short(actual)}, the chain says "
            f"{short(link.get('record_sha256'))})"
        )
        return None
    try:
        previous = json.loads(data)["previous_sha256"]
    except (ValueError, KeyError, TypeError):
        result.problems.append(f"run {run_id}: record {record} is not a canonical run record")
        return None
    if previous != link.get("previous_sha256"):
        result.problems.append(
            f"run {run_id}: chain.json says it follows {short(link.get('previous_sha256'))}, "
            f"its record says {short(previous)}"
        )
        return None
    return data
