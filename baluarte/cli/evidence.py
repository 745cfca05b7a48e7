"""``baluarte evidence export`` and ``baluarte evidence verify``: signed evidence packs."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from baluarte.cli.keys import KeyOpt, PassphraseOpt, parse_passphrase
from baluarte.cli.options import DbOpt
from baluarte.exitcodes import ExitCode

__all__ = ["register"]

evidence_app = typer.Typer(help="Signed evidence packs for audits.", no_args_is_help=True)


class Language(StrEnum):
    ES = "es"
    EN = "en"


def _day(text: str | None, option: str) -> date | None:
    from baluarte.errors import InputError

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{text!r} is not a date", code="wrong_value", key=option, allowed="YYYY-MM-DD"
        ) from None


@evidence_app.command("export")
def export_command(
    client: Annotated[str, typer.Option("--client", help="The client (inventory name).")],
    out: Annotated[Path, typer.Option("-o", "--output", help="New folder, or FILE.zip.")],
    start: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD, UTC).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD, UTC).")] = None,
    lang: Annotated[Language, typer.Option("--lang", help="Report language.")] = Language.ES,
    redact: Annotated[
        bool, typer.Option("--redact", help="Replace personal names by keyed pseudonyms.")
    ] = False,
    key: KeyOpt = None,
    passphrase: PassphraseOpt = None,
    db: DbOpt = None,
    artifacts: Annotated[
        Path | None,
        typer.Option(
            "--artifacts",
            envvar="BALUARTE_ARTIFACTS",
            help="Folder the runs kept FortiGate configuration backups in.",
        ),
    ] = None,
) -> None:
    """Write a signed evidence pack of a client's runs over a period."""
    from baluarte.engine import operator_name
    from baluarte.evidence.gather import gather
    from baluarte.evidence.keys import default_key_path, load_private_key, pseudonym_key
    from baluarte.evidence.pack import default_renderers, write_pack
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

    key_path = key if key is not None else default_key_path()
    signing = load_private_key(key_path, parse_passphrase(passphrase))
    renderers = default_renderers()
    pseudonyms = pseudonym_key(key_path, client) if redact else None
    with Store.open(db) as store:
        gathered = gather(
            store,
            client,
            start=_day(start, "--from"),
            end=_day(end, "--to"),
            lang=lang.value,
            operator=operator_name(),
            pseudonym_key=pseudonyms,
            artifacts=artifacts,
        )
    fp = write_pack(gathered, out, signing, renderers)
    runs = ", ".join(str(r.info.id) for r in gathered.data.runs)
    typer.echo(f"wrote {out}: runs {runs}, signed by {fp}", err=True)


@evidence_app.command("verify")
def verify_command(
    pack: Annotated[Path, typer.Argument(metavar="DIR|FILE.zip", help="The pack to check.")],
    key: Annotated[
        Path | None,
        typer.Option("--key", help="The provider's published public key (PEM)."),
    ] = None,
) -> None:
    """Check a pack's manifest, signature and chain of runs; exit 0 intact, 1 tampered."""
    from baluarte.evidence.verify import verify_pack

    result = verify_pack(pack, key)
    typer.echo(f"pack key:     {result.pack_fingerprint or 'none'}")
    if result.provider_fingerprint:
        typer.echo(f"provider key: {result.provider_fingerprint}")
    typer.echo(
        f"checked {result.files_checked} files, {result.links_checked} chain links, "
        f"{result.runs_checked} run records"
    )
    if result.ok:
        typer.echo("OK: manifest, signature and chain intact")
        if key is None:
            typer.echo("note: pass --key with the provider's published public key to prove origin")
        return
    for problem in result.problems:
        typer.echo(f"TAMPERED: {problem}")
    raise typer.Exit(ExitCode.DRIFT)


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")
