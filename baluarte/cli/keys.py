"""``baluarte keys init``: create the provider's evidence signing key (Ed25519)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from baluarte.secrets import SecretRef

__all__ = ["KeyOpt", "PassphraseOpt", "register"]

KeyOpt = Annotated[
    Path | None,
    typer.Option(
        "--key",
        help="Signing key file. Default: $BALUARTE_SIGNING_KEY, else "
        "~/.config/baluarte/signing-key.pem.",
    ),
]
PassphraseOpt = Annotated[
    str | None,
    typer.Option(
        "--passphrase",
        help="Where the key's passphrase lives: env:NAME, file:PATH or keyring:SERVICE/USER.",
    ),
]

keys_app = typer.Typer(help="The provider's evidence signing key.", no_args_is_help=True)


@keys_app.command("init")
def init_command(key: KeyOpt = None, passphrase: PassphraseOpt = None) -> None:
    """Create a new signing key (0600) and its public key beside it; never overwrites."""
    from baluarte.evidence.keys import default_key_path, fingerprint, init_key, public_key_path

    path = key if key is not None else default_key_path()
    public = init_key(path, parse_passphrase(passphrase))
    typer.echo(f"private key: {path} (mode 0600, keep it off client machines)")
    typer.echo(f"public key:  {public_key_path(path)} (publish it)")
    typer.echo(f"fingerprint: {fingerprint(public)}")
    if path == default_key_path():
        hint = " (with $BALUARTE_SIGNING_PASSPHRASE naming its passphrase)" if passphrase else ""
        typer.echo(f"runs finished on this machine are signed with it from now on{hint}")


def parse_passphrase(text: str | None) -> SecretRef | None:
    """A passphrase reference from the command line (never a literal passphrase)."""
    from pydantic_core import PydanticCustomError

    from baluarte.errors import InputError

    if text is None:
        return None
    try:
        return SecretRef.parse(text)
    except PydanticCustomError as exc:
        raise InputError(exc.message(), code="literal_secret", key="--passphrase") from None


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
