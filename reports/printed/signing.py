"""A printed report signed as an evidence pack is: an Ed25519 signature of the file's bytes by
the provider's key (``baluarte keys init``), kept beside it as ``NAME.sig``; the page says so and
how to check it (``openssl pkeyutl -verify``). No key: the report is unsigned, never withheld."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from baluarte.evidence.keys import fingerprint

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["Signature", "Signed", "sign_rendered", "verify_command", "write_signed"]


@dataclass(frozen=True)
class Signature:
    """How the report is signed: the file beside it and the key's fingerprint."""

    file: str
    fingerprint: str


@dataclass(frozen=True)
class Signed:
    content: bytes
    signature: bytes | None  # Ed25519 over ``content``; None: no signing key here
    signed_by: str | None  # the key's fingerprint


def sign_rendered(
    filename: str,
    key: Ed25519PrivateKey | None,
    render: Callable[[Signature | None], bytes],
) -> Signed:
    """The file named ``filename`` as ``render`` makes it, told how it is signed (None: it is
    not), and its signature by ``key``."""
    if key is None:
        return Signed(render(None), None, None)
    mark = Signature(f"{filename}.sig", fingerprint(key.public_key()))
    content = render(mark)
    return Signed(content, key.sign(content), mark.fingerprint)


def verify_command(signature: Signature | None) -> list[str]:
    """How a reader checks the signature with standard tools (as an evidence pack's VERIFY.txt),
    word by word: the page breaks the line between words only."""
    if signature is None:
        return []
    signed = signature.file.removesuffix(".sig")
    return [
        *("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "signing-key.pub.pem", "-rawin"),
        *("-in", signed, "-sigfile", signature.file),
    ]


def write_signed(out: Path, content: bytes, signature: bytes | None) -> str:
    """``content`` written to ``out``, and ``signature`` beside it as ``OUT.sig``; without one,
    an older ``OUT.sig`` is removed (it would not match this file). What was written, as the
    command tells it: ``wrote OUT and its signature OUT.sig``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    beside = out.with_name(f"{out.name}.sig")
    if signature is None:
        beside.unlink(missing_ok=True)
        return f"wrote {out} (unsigned: no signing key, see 'baluarte keys init')"
    beside.write_bytes(signature)
    return f"wrote {out} and its signature {beside}"
