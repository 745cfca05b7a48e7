"""``baluarte tokens create|list|revoke``: bearer tokens for the service's API (``/api/v1``).

A token is shown once, when made, as the last line of standard output alone (so a script can
take it: ``TOKEN=$(baluarte tokens create --user noc --config serve.yaml)``); the store keeps
only its SHA-256 and its first characters, which name it in ``list`` and ``revoke``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer

from baluarte.cli.options import Format, FormatOpt
from baluarte.cli.users import ServiceConfigOpt, ServiceDbOpt, actor, open_service_db
from baluarte.errors import InputError

__all__ = ["register"]

tokens_app = typer.Typer(help="Bearer tokens for the service's API.", no_args_is_help=True)


@tokens_app.command("create")
def create_command(
    user: Annotated[str, typer.Option("--user", help="The account the token acts as.")],
    config: ServiceConfigOpt = None,
    db: ServiceDbOpt = None,
) -> None:
    """Make a token for an account and print it once (the store keeps only its hash)."""
    from baluarte.service.accounts import create_token

    service_db = open_service_db(config, db)
    try:
        token = create_token(service_db, user, by=actor())
    finally:
        service_db.close()
    typer.echo(
        f"API token for {user} (shown this once; send it as 'Authorization: Bearer TOKEN'):",
        err=True,
    )
    typer.echo(token)


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


@tokens_app.command("list")
def list_command(
    config: ServiceConfigOpt = None, db: ServiceDbOpt = None, output: FormatOpt = Format.TEXT
) -> None:
    """List tokens: prefix, account, made, last used, revoked (never the tokens)."""
    from baluarte.service.accounts import list_tokens

    service_db = open_service_db(config, db)
    try:
        found = list_tokens(service_db)
    finally:
        service_db.close()
    if output is Format.JSON:
        rows = [
            {
                "prefix": t.prefix,
                "user": t.user,
                "created_at": t.created_at.isoformat(),
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                "revoked": t.revoked,
            }
            for t in found
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    if not found:
        typer.echo("no tokens", err=True)
        return
    width = max(len("USER"), *(len(t.user) for t in found))
    typer.echo(f"{'PREFIX':<12}{'USER':<{width}}  {'CREATED':<22}{'LAST USED':<22}REVOKED")
    for t in found:
        typer.echo(
            f"{t.prefix:<12}{t.user:<{width}}  {_when(t.created_at):<22}"
            f"{_when(t.last_used_at):<22}{'yes' if t.revoked else 'no'}"
        )


@tokens_app.command("revoke")
def revoke_command(
    prefix: Annotated[
        str, typer.Argument(metavar="PREFIX", help="The token's prefix, as 'tokens list' shows it.")
    ],
    config: ServiceConfigOpt = None,
    db: ServiceDbOpt = None,
) -> None:
    """Revoke the active tokens starting with PREFIX."""
    from baluarte.service.accounts import TOKEN_NAME_LENGTH, list_tokens, revoke_token

    service_db = open_service_db(config, db)
    try:
        active = [t for t in list_tokens(service_db) if not t.revoked]
        if len(prefix) > TOKEN_NAME_LENGTH:
            # perhaps a whole token: not repeated back into a terminal's scrollback
            raise InputError(
                "give only the token's prefix, as 'baluarte tokens list' shows it",
                code="wrong_value",
            )
        if not any(t.prefix.startswith(prefix) for t in active):
            raise InputError(
                f"no active token starts with {prefix!r} (see 'baluarte tokens list')",
                code="unknown_reference",
            )
        done = revoke_token(service_db, prefix, by=actor())
    finally:
        service_db.close()
    typer.echo(f"revoked {done} token(s)")


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")
