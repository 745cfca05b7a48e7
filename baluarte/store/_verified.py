"""A run's *verified tag*: the provider's word that a run's stored rows are the ones it sealed.

Checking the chain recomputes every run's record from its rows, and a quarter of one client's
nightly runs is a million salted leaves: seconds on every export, growing with the store. When a
run is sealed with the provider's key, the store also keeps its record's bytes and a tag::

    tag key = HKDF-SHA256(the signing key's 32 private bytes, info "baluarte verified-run tag 1")
    tag     = HMAC-SHA256(tag key, "<run id>\\n<record sha256>\\n<previous sha256>\\n<salt>\\n
                                    <running ids>\\n<SHA-256 of the run's stored rows>")

A check that holds the key (``evidence export``, ``report --client``) reads each run's rows as
it must anyway, hashes them and, when the tag holds, takes the stored record instead of
rebuilding it; the record still has to hash to the chain's link and carry a valid signature.
A changed row, salt or link breaks the tag and the run is rebuilt and compared as before; a
missing or wrong tag only costs that. Forging a tag needs the signing key, which could re-sign
the run anyway. ``runs --verify`` rebuilds every record.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["CHAIN_COLUMNS", "rows_sha256", "tag", "tag_holds", "tag_key"]

# the runs columns the chain writes at finish (or later): left out of the rows' hash, which is
# taken before they are set; those that feed the record are in the tag's message instead
CHAIN_COLUMNS = frozenset(
    {
        "chain_seq",
        "previous_sha256",
        "record_sha256",
        "record_salt",
        "chain_running",
        "chain_named_by",
        "record_signature",
        "signed_by",
        "record",
        "verified_tag",
    }
)


def tag_key(signing_key: Ed25519PrivateKey) -> bytes:
    # imported here: the store opens without cryptography when no key is at hand
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = signing_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    derive = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
    return derive.derive(raw)


def rows_sha256(run: Iterable[tuple[Any, Any]], *tables: Iterable[Sequence[Any]]) -> str:
    """SHA-256 of a run's stored rows as the database returns them: the run's own columns but
    the chain's (``run``: name, value pairs), then its files, findings and remediation rows.
    ``repr`` of plain values is exact and unambiguous (strings quoted and escaped)."""
    digest = hashlib.sha256(repr([item for item in run if item[0] not in CHAIN_COLUMNS]).encode())
    for rows in tables:
        for row in rows:
            digest.update(b"\n")
            digest.update(repr(tuple(row)).encode())
        digest.update(b"\n--")
    return digest.hexdigest()


def tag(
    key: bytes,
    run_id: int,
    record_sha256: str,
    previous_sha256: str | None,
    salt: str | None,
    running: Sequence[int],
    rows: str,
) -> str:
    message = "\n".join(
        [str(run_id), record_sha256, str(previous_sha256), str(salt), repr(list(running)), rows]
    )
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def tag_holds(stored: str | None, expected: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, expected)


_INFO = b"baluarte verified-run tag 1"
