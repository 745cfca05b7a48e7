"""Sealed run records (format 2, pure): leaves, parts, the record, salts."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from baluarte.evidence.record import (
    FORMAT,
    LeafSalts,
    leaf_sha256,
    part_digest,
    part_sha256,
    seal,
)
from baluarte.findings import Finding, Severity, Status
from baluarte.run import RunInfo, RunKind, RunRecord, RunState

SALT = bytes(range(32))


def record(status: Status = Status.FAIL, state: RunState = RunState.COMPLETE) -> RunRecord:
    info = RunInfo(
        id=7, kind=RunKind.CHECK, state=state, started_at=datetime(2026, 11, 2, tzinfo=UTC),
        ended_at=datetime(2026, 11, 2, 0, 5, tzinfo=UTC), operator="ana@pc", tool_version="t",
        inventory_sha256="1" * 64, scope={"client": "acme"},
    )  # fmt: skip
    f = Finding(
        client="acme", site="hq", device="pc-maria", platform="linux", control="x.y",
        status=status, severity=Severity.LOW, observed="\x1b[2J ñ \udc80",
    )  # fmt: skip
    return RunRecord(info=info, findings=(f,))


def test_the_record_holds_hashes_only_and_proves_every_field() -> None:
    sealed = seal(record(), salt=SALT, previous="a" * 64, running=[9, 3])
    doc = json.loads(sealed.record)
    assert sealed.record.isascii() and doc["format"] == FORMAT
    assert doc["running"] == [3, 9] and doc["previous_sha256"] == "a" * 64
    assert doc["run"]["state"] == "complete" and b"pc-maria" not in sealed.record
    info, finding = sealed.parts
    assert part_digest(doc, "info") == info.sha256
    assert part_digest(doc, "findings/0") == finding.sha256
    assert part_digest(doc, "findings/1") is None and part_digest(doc, "other") is None
    leaf = finding.leaves["observed"]
    # control characters and a lone surrogate hash as JSON escapes: ASCII, never an error
    assert leaf.value == '"\\u001b[2J \\u00f1 \\udc80"'
    assert leaf.sha256 == hashlib.sha256(f"{leaf.salt}\n{leaf.value}".encode()).hexdigest()
    assert finding.sha256 == part_sha256({n: v.sha256 for n, v in finding.leaves.items()})
    assert {"scope.client", "files", "operator"} <= set(info.leaves)  # empty list: one leaf


def test_state_status_and_salt_each_change_the_record() -> None:
    base = seal(record(), salt=SALT, previous=None, running=[]).sha256
    assert seal(record(Status.PASS), salt=SALT, previous=None, running=[]).sha256 != base
    assert seal(record(state=RunState.RUNNING), salt=SALT, previous=None, running=[]).sha256 != base
    assert seal(record(), salt=b"x" * 32, previous=None, running=[]).sha256 != base
    assert seal(record(), salt=SALT, previous=None, running=[]).sha256 == base  # deterministic


def test_a_leaf_hash_is_what_sha256sum_prints() -> None:
    assert (
        leaf_sha256("00" * 16, '"pass"')
        == hashlib.sha256(b'00000000000000000000000000000000\n"pass"').hexdigest()
    )


def test_leaf_salts_are_the_documented_hmac_for_any_salt_length() -> None:
    for salt in (b"", SALT, b"x" * 64, b"y" * 65, b"z" * 200):  # below, at and above a block
        want = hmac.digest(salt, b"findings/3\nwaiver.approved_by", "sha256")[:16].hex()
        assert LeafSalts(salt)("findings/3", "waiver.approved_by") == want
        sealed = seal(record(), salt=salt, previous=None, running=[])
        for part in sealed.parts:
            for name, leaf in part.leaves.items():
                key = f"{part.name}\n{name}".encode()
                assert leaf.salt == hmac.digest(salt, key, "sha256")[:16].hex()


def test_a_sealed_record_is_byte_for_byte_what_it_was() -> None:
    """Records already in stores and packs must still check: pinned from before the sealing
    was made faster."""
    sealed = seal(record(), salt=SALT, previous="a" * 64, running=[9, 3])
    assert sealed.sha256 == "be03bb83b59992935c5ba20645d0b2dc5e08afd54a65c2abcf0d48995be8c701"
    passing = seal(record(Status.PASS), salt=b"y" * 65, previous="a" * 64, running=[9, 3])
    assert passing.sha256 == "dc941ba66e5d36e010d0a2d7f28be013b81b0308da6f5a352d263033f8a8221d"
