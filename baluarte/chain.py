"""The store's hash chain: each finished run's canonical record, hashed with the previous hash.

A run's record is its metadata, findings and remediation records as stored, plus the SHA-256
of the record of the run finished before it. Editing a stored row changes the record (its hash
no longer matches); deleting a run leaves the next run pointing at a hash nobody has.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from baluarte.history import ChainLink
from baluarte.run import RunRecord

__all__ = ["canonical_record", "record_sha256", "short", "verify_chain"]


def canonical_record(run: RunRecord, previous: str | None) -> bytes:
    """The bytes a run's ``record_sha256`` is computed over.

    JSON, sorted keys, no spaces, UTF-8. ``run.remediations`` must be the records as stored
    (``Store`` passes them so): the verification a report derives from the re-check is not
    part of the record.
    """
    info = run.info
    doc: dict[str, Any] = {
        "run": {
            "id": info.id,
            "kind": str(info.kind),
            "started_at": _iso(info.started_at),
            "ended_at": None if info.ended_at is None else _iso(info.ended_at),
            "operator": info.operator,
            "tool_version": info.tool_version,
            "inventory_sha256": info.inventory_sha256,
            "scope": dict(info.scope),
            "files": [f.model_dump(mode="json") for f in info.files],
            "devices_total": info.devices_total,
        },
        "findings": [{"seq": i, **f.model_dump(mode="json")} for i, f in enumerate(run.findings)],
        "remediations": [
            {"seq": i, **r.model_dump(mode="json")} for i, r in enumerate(run.remediations)
        ],
        "previous_sha256": previous,
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def record_sha256(record: bytes) -> str:
    return hashlib.sha256(record).hexdigest()


def record_problem(run_id: int, record: bytes | None, expected: str | None) -> str | None:
    """What is wrong with a run's record as stored now against the hash the chain holds."""
    if record is None:
        return f"run {run_id}: its record is missing (run deleted?)"
    actual = record_sha256(record)
    if actual != expected:
        return f"run {run_id}: record edited (sha256 {actual}, expected {expected})"
    return None


def short(digest: str | None) -> str:
    """A hash as messages show it: enough hex digits to tell two apart."""
    return "none" if digest is None else f"{digest[:12]}…"


def verify_chain(links: Sequence[ChainLink], records: Mapping[int, bytes]) -> list[str]:
    """Problems in a stretch of the chain, in chain order; empty when it is intact.

    ``links`` in chain order (the first may start mid-chain: its ``previous_sha256`` is not
    judged); ``records`` maps run id → the canonical record recomputed from what is stored now.
    """
    problems: list[str] = []
    for i, link in enumerate(links):
        if problem := record_problem(link.run_id, records.get(link.run_id), link.record_sha256):
            problems.append(problem)
        if i == 0:
            continue
        before = links[i - 1]
        if link.previous_sha256 != before.record_sha256:
            problems.append(
                f"between run {before.run_id} and run {link.run_id}: a run is missing "
                f"(run {link.run_id} follows {short(link.previous_sha256)}, "
                f"run {before.run_id} ends in {short(before.record_sha256)})"
            )
    return problems


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
