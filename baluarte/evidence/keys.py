"""The provider's evidence signing key (Ed25519) and the per-client pseudonymisation keys.

The private key stays with the provider (default ``~/.config/baluarte/signing-key.pem``, or
``$BALUARTE_SIGNING_KEY``), file mode 0600, PKCS8 PEM, encrypted when a passphrase reference is
given; its public key is written beside it as ``<name>.pub.pem``. Pseudonymisation keys (one
per client, HMAC-SHA256) live in a ``pseudonym-keys/`` folder beside the signing key.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from baluarte.errors import InputError
from baluarte.secrets import SecretRef, resolve

__all__ = [
    "default_key_path",
    "fingerprint",
    "init_key",
    "load_private_key",
    "load_public_key",
    "pseudonym_key",
    "public_key_path",
    "public_pem",
    "signature_valid",
]

ENV_KEY = "BALUARTE_SIGNING_KEY"


def default_key_path() -> Path:
    """``$BALUARTE_SIGNING_KEY``, else ``~/.config/baluarte/signing-key.pem``."""
    env = os.environ.get(ENV_KEY)
    if env:
        return Path(env).expanduser()
    return Path("~/.config/baluarte/signing-key.pem").expanduser()


def public_key_path(private: Path) -> Path:
    """The public key beside ``private``: ``signing-key.pem`` → ``signing-key.pub.pem``."""
    return private.with_name(private.name.removesuffix(".pem") + ".pub.pem")


def init_key(path: Path, passphrase: SecretRef | None = None) -> Ed25519PublicKey:
    """Create a new signing key at ``path`` (0600) and its public key beside it; never overwrite."""
    pub_path = public_key_path(path)
    for existing in (path, pub_path):
        if existing.exists():
            raise InputError(
                f"{existing} already exists: a signing key is never overwritten (move it away "
                "first, and keep the old public key to verify older packs)",
                code="usage",
            )
    key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
    if passphrase is not None:
        encryption = serialization.BestAvailableEncryption(resolve(passphrase).encode())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(path, pem)
    pub_path.write_bytes(public_pem(key.public_key()))
    return key.public_key()


def load_private_key(path: Path, passphrase: SecretRef | None = None) -> Ed25519PrivateKey:
    """The signing key at ``path``; InputError (never the passphrase) when it cannot be used."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the signing key {path}: {exc.strerror} (create one with "
            "'baluarte keys init')",
            code="unreadable_file",
        ) from exc
    secret = resolve(passphrase).encode() if passphrase is not None else None
    try:
        key = serialization.load_pem_private_key(data, password=secret)
    except TypeError as exc:  # encrypted without a passphrase, or the reverse
        raise InputError(
            f"the signing key {path} needs a passphrase reference (--passphrase)"
            if secret is None
            else f"the signing key {path} is not encrypted: drop --passphrase",
            code="unreadable_file",
        ) from exc
    except ValueError as exc:
        raise InputError(
            f"cannot load the signing key {path}: wrong passphrase or not a PEM private key",
            code="unreadable_file",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path} is not an Ed25519 key", code="unreadable_file")
    return key


def load_public_key(data: bytes, what: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM bytes; InputError naming ``what`` otherwise."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise InputError(f"{what} is not a PEM public key", code="wrong_value") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{what} is not an Ed25519 public key", code="wrong_value")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the key's DER (SubjectPublicKeyInfo), as ``SHA256:`` and hex pairs.

    The same value as ``openssl pkey -pubin -in KEY.pub.pem -outform DER | sha256sum``.
    """
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashlib.sha256(der).hexdigest()
    return "SHA256:" + ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def signature_valid(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def pseudonym_key(signing_key: Path, client: str) -> bytes:
    """The client's HMAC key beside the signing key; made (32 random bytes, 0600) on first use."""
    folder = signing_key.parent / "pseudonym-keys"
    path = folder / f"{client}.key"
    if path.exists():
        try:
            data = bytes.fromhex(path.read_text(encoding="ascii").strip())
        except (OSError, ValueError) as exc:
            raise InputError(
                f"the pseudonymisation key {path} is unreadable", code="unreadable_file"
            ) from exc
        if len(data) < 16:
            raise InputError(
                f"the pseudonymisation key {path} is too short", code="unreadable_file"
            )
        return data
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = secrets.token_bytes(32)
    _write_private(path, (data.hex() + "\n").encode())
    return data


def _write_private(path: Path, data: bytes) -> None:
    # O_EXCL: two processes creating the same key must not both believe they own it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(data)
