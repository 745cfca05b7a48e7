"""The dashboard's evidence export: the same pack ``baluarte evidence export`` writes.

The same library calls as the command (``baluarte/cli/evidence.py``): the provider's signing
key (``$BALUARTE_SIGNING_KEY``, else ``~/.config/baluarte/signing-key.pem``; an encrypted one
with ``$BALUARTE_SIGNING_PASSPHRASE`` naming its passphrase, as run signing has it), the keys
trusted beside it, the store's whole chain checked by ``gather`` and the pack written by
``write_pack``, here as a zip in a folder the caller removes once it is sent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from baluarte.evidence.data import Lang
from baluarte.secrets import SecretRef
from baluarte.store import Store

__all__ = ["ExportedPack", "export_zip", "pack_name"]


@dataclass(frozen=True)
class ExportedPack:
    path: Path  # the zip, inside the folder given
    runs: tuple[int, ...]
    fingerprint: str


def pack_name(client: str, start: date | None, end: date | None) -> str:
    span = "-".join(d.isoformat() for d in (start, end) if d is not None) or "all"
    return f"baluarte-evidence-{client}-{span}.zip"


def export_zip(
    db_location: str,
    client: str,
    *,
    start: date | None,
    end: date | None,
    lang: Lang,
    operator: str,
    artifacts: Path,
    folder: Path,
) -> ExportedPack:
    """Write the signed pack of ``client`` over ``[start, end]`` into ``folder`` as a zip.

    Raises what the command's export raises: InputError (no usable signing key, --from after
    --to), BrokenChain (history edited: nothing is signed)."""
    from baluarte.evidence.gather import gather
    from baluarte.evidence.keys import default_key_path, fingerprint, load_private_key
    from baluarte.evidence.pack import default_renderers, write_pack
    from baluarte.evidence.seal import ENV_PASSPHRASE, trusted_keys

    key_path = default_key_path()
    reference = os.environ.get(ENV_PASSPHRASE)
    signing = load_private_key(key_path, SecretRef.parse(reference) if reference else None)
    keys = trusted_keys(folder=key_path.parent)
    keys[fingerprint(signing.public_key())] = signing.public_key()
    renderers = default_renderers()
    out = folder / pack_name(client, start, end)
    # a store of its own: gathering remembers the runs it read, per store. (The command also
    # turns the cycle collector off meanwhile; a server leaves it to run for its other requests.)
    with Store.open(db_location) as store:
        gathered = gather(
            store,
            client,
            start=start,
            end=end,
            lang=lang,
            operator=operator,
            artifacts=artifacts,
            keys=keys,
            signing_key=signing,
        )
    fp = write_pack(gathered, out, signing, renderers)
    return ExportedPack(out, tuple(r.info.id for r in gathered.data.runs), fp)
