"""A run's sealed record (format 2): what the hash chain links and the provider's key signs.

The record holds no personal data: the run's id, kind, state and times, the previous record's
hash, the runs still running when it finished, and one SHA-256 per *part* — the run's details
(``info``), each finding, each remediation record. A part is a set of *leaves*, one per field,
each hashed with its own salt: a pack can show one field (``status``) and withhold another (the
``device`` of a personal laptop, redacted) while the chain still proves both, and a withheld
value cannot be confirmed by guessing it. Leaf salts are derived from the run's random salt,
kept in the store beside the run.

::

    leaf salt   = HMAC-SHA256(run salt, "<part>\\n<leaf>"), first 32 hex digits
    leaf sha256 = SHA-256("<leaf salt>\\n<value as JSON, ASCII only>")
    part sha256 = SHA-256(listing), listing = "<leaf sha256>  <leaf>\\n" per leaf, sorted by leaf
    record      = canonical JSON (sorted keys, no spaces) of
                  {format, run: {id, kind, state, started_at, ended_at}, previous_sha256,
                   running: [ids], parts: {info, findings: [...], remediations: [...]}}

Leaves are the part's fields flattened with dots (``waiver.approved_by``, ``files.0.path``,
``scope.client``); an empty object or list, or null, is one leaf. docs/evidence.md shows how to
check a leaf and a part with ``sha256sum``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any

from baluarte.run import RunRecord

__all__ = [
    "FORMAT",
    "Leaf",
    "Part",
    "Sealed",
    "leaf_sha256",
    "part_digest",
    "part_sha256",
    "seal",
    "value_json",
]

FORMAT = "baluarte-run-record/2"
INFO = "info"


_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode


def value_json(value: Any) -> str:
    """A leaf's value as hashed: JSON, sorted keys, no spaces, ASCII only (``\\u`` escapes)."""
    if isinstance(value, str):  # the common case, without building an encoder each time
        return encode_basestring_ascii(value)
    return _ENCODE(value)


def leaf_sha256(salt: str, value: str) -> str:
    return hashlib.sha256(f"{salt}\n{value}".encode("ascii")).hexdigest()


def part_sha256(leaves: Mapping[str, str]) -> str:
    """The part's hash from its leaves' hashes (leaf name → leaf sha256)."""
    listing = "".join(f"{leaves[name]}  {name}\n" for name in sorted(leaves))
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Leaf:
    salt: str  # 32 hex digits
    value: str  # value_json of the field
    sha256: str  # leaf_sha256(salt, value)

    @classmethod
    def of(cls, salt: str, value: str) -> Leaf:
        return cls(salt, value, leaf_sha256(salt, value))


@dataclass(frozen=True, slots=True)
class Part:
    name: str  # "info", "findings/3", "remediations/0"
    leaves: Mapping[str, Leaf]
    sha256: str  # part_sha256 of its leaves

    @classmethod
    def of(cls, name: str, leaves: Mapping[str, Leaf]) -> Part:
        return cls(name, leaves, part_sha256({n: leaf.sha256 for n, leaf in leaves.items()}))


@dataclass(frozen=True)
class Sealed:
    """A run's record bytes and the parts it proves (with every leaf's salt and value)."""

    record: bytes
    parts: tuple[Part, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.record).hexdigest()


def seal(run: RunRecord, *, salt: bytes, previous: str | None, running: Sequence[int]) -> Sealed:
    """The record of ``run`` as stored (remediations without their derived verification)."""
    info = run.info
    details = {
        "operator": info.operator,
        "tool_version": info.tool_version,
        "inventory_sha256": info.inventory_sha256,
        "scope": dict(info.scope),
        "files": [f.model_dump(mode="json") for f in info.files],
        "devices_total": info.devices_total,
    }
    parts = [_part(salt, INFO, details)]
    parts += [
        _part(salt, f"findings/{i}", f.model_dump(mode="json")) for i, f in enumerate(run.findings)
    ]
    parts += [
        _part(salt, f"remediations/{i}", r.model_dump(mode="json"))
        for i, r in enumerate(run.remediations)
    ]
    digests = {p.name: p.sha256 for p in parts}
    doc = {
        "format": FORMAT,
        "run": {
            "id": info.id,
            "kind": str(info.kind),
            "state": str(info.state),
            "started_at": _iso(info.started_at),
            "ended_at": None if info.ended_at is None else _iso(info.ended_at),
        },
        "previous_sha256": previous,
        "running": sorted(running),
        "parts": {
            INFO: digests[INFO],
            "findings": [digests[f"findings/{i}"] for i in range(len(run.findings))],
            "remediations": [digests[f"remediations/{i}"] for i in range(len(run.remediations))],
        },
    }
    record = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    return Sealed(record=record, parts=tuple(parts))


def part_digest(record: Mapping[str, Any], name: str) -> str | None:
    """The hash a parsed record holds for part ``name`` (None: no such part)."""
    parts = record.get("parts")
    if not isinstance(parts, Mapping):
        return None
    if name == INFO:
        found = parts.get(INFO)
        return found if isinstance(found, str) else None
    kind, _, index = name.partition("/")
    listed = parts.get(kind) if kind in ("findings", "remediations") else None
    if not isinstance(listed, list) or not index.isdigit() or int(index) >= len(listed):
        return None
    found = listed[int(index)]
    return found if isinstance(found, str) else None


def _part(salt: bytes, name: str, data: Mapping[str, Any]) -> Part:
    flat: dict[str, Any] = {}
    _flatten(data, "", flat)
    leaves = {
        leaf: Leaf.of(_leaf_salt(salt, name, leaf), value_json(v)) for leaf, v in flat.items()
    }
    return Part.of(name, leaves)


def _leaf_salt(salt: bytes, part: str, leaf: str) -> str:
    return hmac.digest(salt, f"{part}\n{leaf}".encode(), "sha256")[:16].hex()


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            if "\n" in str(key) or "  " in str(key):
                raise ValueError(f"a record field name cannot hold a newline: {key!r}")
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list | tuple) and value:
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}.{i}", out)
    else:
        out[prefix] = value


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
