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
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple

from baluarte.chain import record_sha256
from baluarte.run import RunRecord

__all__ = [
    "FORMAT",
    "Leaf",
    "LeafSalts",
    "Part",
    "Sealed",
    "leaf_sha256",
    "part_digest",
    "part_fields",
    "part_sha256",
    "seal",
    "seal_part",
    "value_json",
]

FORMAT = "baluarte-run-record/2"
INFO = "info"


_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode


# the JSON of the scalars most leaves hold, without an encoder pass each (the encoder's own
# spelling: ``json.dumps(None) == "null"``, an int is its repr)
_SCALAR: dict[type, Any] = {
    type(None): lambda _: "null",
    bool: lambda v: "true" if v else "false",
    int: int.__repr__,
    str: encode_basestring_ascii,
}


def value_json(value: Any) -> str:
    """A leaf's value as hashed: JSON, sorted keys, no spaces, ASCII only (``\\u`` escapes)."""
    encode = _SCALAR.get(type(value), _ENCODE)
    return str(encode(value))


def leaf_sha256(salt: str, value: str) -> str:
    return hashlib.sha256(f"{salt}\n{value}".encode("ascii")).hexdigest()


def part_sha256(leaves: Mapping[str, str]) -> str:
    """The part's hash from its leaves' hashes (leaf name → leaf sha256)."""
    listing = "".join(f"{leaves[name]}  {name}\n" for name in sorted(leaves))
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


class Leaf(NamedTuple):
    # a tuple, not a dataclass: a quarter's chain is a million leaves, each built on every export
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
        return record_sha256(self.record)


def part_fields(run: RunRecord) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each part of ``run``'s record with its fields, unflattened: the run's details, then its
    findings and remediation records (as stored, without their derived verification)."""
    info = run.info
    details = {
        "operator": info.operator,
        "tool_version": info.tool_version,
        "inventory_sha256": info.inventory_sha256,
        "scope": dict(info.scope),
        "files": [f.model_dump(mode="json") for f in info.files],
        "devices_total": info.devices_total,
    }
    if info.operator_identity is not None:  # absent on runs that named no one: their hash holds
        details["operator_identity"] = info.operator_identity.model_dump(mode="json")
    yield INFO, details
    for i, f in enumerate(run.findings):
        yield f"findings/{i}", f.model_dump(mode="json")
    for i, r in enumerate(run.remediations):
        yield f"remediations/{i}", r.model_dump(mode="json")


def seal(run: RunRecord, *, salt: bytes, previous: str | None, running: Sequence[int]) -> Sealed:
    """The record of ``run`` as stored (remediations without their derived verification)."""
    info = run.info
    salts = LeafSalts(salt)
    parts = [_part(salts, name, fields) for name, fields in part_fields(run)]
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


class LeafSalts:
    """Leaf salts of one run: HMAC-SHA256(run salt, "<part>\\n<leaf>"), first 32 hex digits.

    The HMAC's two key pads are hashed once per run, not once per leaf (RFC 2104: HMAC(K, m) =
    H(K ^ opad, H(K ^ ipad, m))): a quarter's chain is a million leaves, re-sealed on every
    export, and the key set-up was half of each ``hmac.digest``. Same digests.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, salt: bytes) -> None:
        key = hashlib.sha256(salt).digest() if len(salt) > _BLOCK else salt
        block = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def __call__(self, part: str, leaf: str) -> str:
        inner = self._inner.copy()
        inner.update(f"{part}\n{leaf}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:16].hex()


_BLOCK = 64  # SHA-256's block size, in bytes


def seal_part(salt: bytes, name: str, fields: Mapping[str, Any]) -> Part:
    """One part from its fields and the run's salt, as ``seal`` builds it: a pack that discloses
    a run's salt (every part of the run is the client's) lets its parts be rebuilt so.
    ValueError when a field's name cannot be a leaf's."""
    return _part(LeafSalts(salt), name, fields)


def _part(salts: LeafSalts, name: str, data: Mapping[str, Any]) -> Part:
    flat: dict[str, Any] = {}
    _flatten(data, "", flat)
    # the leaf salt, value_json, leaf_sha256 and part_sha256 inlined: a quarter's chain is a
    # million leaves, re-sealed on every export, and the calls were much of the time
    prefix = f"{name}\n".encode()
    inner, outer = salts._inner.copy, salts._outer.copy  # LeafSalts.__call__, inlined
    sha256, scalar, encode, new = hashlib.sha256, _SCALAR.get, _ENCODE, tuple.__new__
    leaves: dict[str, Leaf] = {}
    for leaf, v in flat.items():
        mac = inner()
        mac.update(prefix + leaf.encode())
        keyed = outer()
        keyed.update(mac.digest())
        leaf_salt = keyed.digest()[:16].hex()
        value = scalar(type(v), encode)(v)
        digest = sha256(f"{leaf_salt}\n{value}".encode()).hexdigest()
        leaves[leaf] = new(Leaf, (leaf_salt, value, digest))
    listing = "".join([f"{leaves[n][2]}  {n}\n" for n in sorted(leaves)])
    return Part(name, leaves, sha256(listing.encode("utf-8")).hexdigest())


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            key = str(key)
            if "\n" in key or "  " in key:
                raise ValueError(f"a record field name cannot hold a newline: {key!r}")
            path = f"{prefix}.{key}" if prefix else key
            if item.__class__ in _LEAF_TYPES:  # most fields: no call, no isinstance
                out[path] = item
            else:
                _flatten(item, path, out)
    elif isinstance(value, list | tuple) and value:
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}.{i}", out)
    else:
        out[prefix] = value


_LEAF_TYPES = frozenset({str, int, float, bool, type(None)})


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
