"""Run signatures: each finished run's record signed with the provider's key, when it exists.

``Store.finish_run`` signs with the key ``baluarte keys init`` made (``$BALUARTE_SIGNING_KEY``,
else ``~/.config/baluarte/signing-key.pem``); an encrypted key needs
``$BALUARTE_SIGNING_PASSPHRASE`` holding a reference to its passphrase (``env:NAME``,
``file:PATH``, ``keyring:SERVICE/USER``). No key, or one that cannot be opened: the run is
stored unsigned (never lost), with a warning.

A signature is checked against the *trusted* public keys: every ``*.pub.pem`` in the signing
key's folder (the current one, and older ones kept there after a rotation) and any given
explicitly. A signature by any other key is a broken link: whoever rewrote the run re-signed it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from baluarte.errors import InputError
from baluarte.evidence.keys import (
    default_key_path,
    fingerprint,
    load_private_key,
    load_public_key,
    signature_valid,
)
from baluarte.secrets import SecretRef

__all__ = [
    "ENV_PASSPHRASE",
    "TrustedKeys",
    "run_signing_key",
    "signature_problem",
    "trusted_keys",
]

ENV_PASSPHRASE = "BALUARTE_SIGNING_PASSPHRASE"
log = logging.getLogger(__name__)

TrustedKeys = Mapping[str, Ed25519PublicKey]  # fingerprint → key


def run_signing_key(path: Path | None = None, *, warn: bool = True) -> Ed25519PrivateKey | None:
    """The provider's key for signing runs, or None (no key here, or it cannot be opened;
    ``warn``: say why, as a run then goes unsigned)."""
    path = path if path is not None else default_key_path()
    if not path.exists():
        return None
    try:
        reference = os.environ.get(ENV_PASSPHRASE)
        passphrase = SecretRef.parse(reference) if reference else None
        return load_private_key(path, passphrase)
    except (InputError, ValueError) as exc:
        # the run is kept either way; it only goes unsigned, and the operator is told why
        if warn:
            log.warning("run not signed: %s", exc)
        return None


def trusted_keys(
    extra: Iterable[Path] = (), folder: Path | None = None
) -> dict[str, Ed25519PublicKey]:
    """Public keys a run signature may be made with: ``*.pub.pem`` in ``folder`` (default: the
    signing key's folder) and the ``extra`` files. InputError when an extra file is unusable."""
    folder = folder if folder is not None else default_key_path().parent
    keys: dict[str, Ed25519PublicKey] = {}
    for path in sorted(folder.glob("*.pub.pem")) if folder.is_dir() else []:
        try:
            key = load_public_key(path.read_bytes(), str(path))
        except (OSError, InputError):
            continue  # a stray file in the folder does not stop verification
        keys[fingerprint(key)] = key
    for path in extra:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(
                f"cannot read the public key {path}: {exc.strerror}", code="unreadable_file"
            ) from exc
        key = load_public_key(data, str(path))
        keys[fingerprint(key)] = key
    return keys


def signature_problem(
    run_id: int, record: bytes, signature: bytes, signed_by: str | None, keys: TrustedKeys
) -> str | None:
    """Why a run's signature does not hold (None: it verifies with a trusted key)."""
    key = keys.get(signed_by or "")
    if key is None:
        return (
            f"run {run_id}: signed by {signed_by or 'an unnamed key'}, which is not a trusted "
            "key (re-signed by someone else, or pass the provider's older public key)"
        )
    if not signature_valid(key, signature, record):
        return (
            f"run {run_id}: its signature does not verify with {signed_by}: the run was "
            "changed after it was signed"
        )
    return None
