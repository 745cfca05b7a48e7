"""``baluarte evidence export`` and ``baluarte evidence verify``: signed evidence packs."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from baluarte.cli.keys import KeyOpt, PassphraseOpt, parse_passphrase
from baluarte.cli.options import ArtifactsOpt, DbOpt, Language, parse_day, print_broken
from baluarte.cli.render import id_ranges
from baluarte.exitcodes import ExitCode

__all__ = ["register"]

evidence_app = typer.Typer(help="Signed evidence packs for audits.", no_args_is_help=True)


@evidence_app.command("export")
def export_command(
    client: Annotated[str, typer.Option("--client", help="The client (inventory name).")],
    out: Annotated[Path, typer.Option("-o", "--output", help="New folder, or FILE.zip.")],
    start: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD, the client's zone).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day (YYYY-MM-DD, the client's zone).")
    ] = None,
    lang: Annotated[Language, typer.Option("--lang", help="Report language.")] = Language.ES,
    redact: Annotated[
        bool, typer.Option("--redact", help="Replace personal names by keyed pseudonyms.")
    ] = False,
    key: KeyOpt = None,
    passphrase: PassphraseOpt = None,
    db: DbOpt = None,
    artifacts: ArtifactsOpt = Path("baluarte-artifacts"),
    require_signed: Annotated[
        bool,
        typer.Option(
            "--require-signed",
            help="Refuse a store where an unsigned run follows a signed one (where every run "
            "finishes with the provider's key, an unsigned one had its signature removed).",
        ),
    ] = False,
) -> None:
    """Write a signed evidence pack of a client's runs over a period.

    The store's whole hash chain is checked first, run signatures included: a broken chain is
    refused (exit 1, naming the first broken link), never signed into a pack.
    """
    from baluarte.engine import operator_name
    from baluarte.evidence.gather import gather
    from baluarte.evidence.keys import (
        default_key_path,
        fingerprint,
        load_private_key,
        pseudonym_key,
    )
    from baluarte.evidence.pack import default_renderers, write_pack
    from baluarte.evidence.seal import trusted_keys
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import
    from baluarte.store._chain import BrokenChain
    from baluarte.text import inert

    key_path = key if key is not None else default_key_path()
    signing = load_private_key(key_path, parse_passphrase(passphrase))
    # run signatures may be by this key, or by an older one kept beside it (*.pub.pem)
    keys = trusted_keys(folder=key_path.parent)
    keys[fingerprint(signing.public_key())] = signing.public_key()
    renderers = default_renderers()
    pseudonyms = pseudonym_key(key_path, client) if redact else None
    with _progress() as step, _no_cycle_collection():
        try:
            with Store.open(db) as store:
                gathered = gather(
                    store,
                    client,
                    start=parse_day(start, "--from"),
                    end=parse_day(end, "--to"),
                    lang=lang.value,
                    operator=operator_name(),
                    pseudonym_key=pseudonyms,
                    artifacts=artifacts,
                    keys=keys,
                    signing_key=signing,
                    require_signed=require_signed,
                    on_step=step,
                )
        except BrokenChain as exc:
            print_broken(exc.problems, "no pack written")
            raise typer.Exit(ExitCode.DRIFT) from None
        fp = write_pack(gathered, out, signing, renderers, on_step=step)
    for b in gathered.backups:
        if b.status in ("missing", "changed"):
            typer.echo(
                inert(f"warning: run {b.run_id} names a configuration backup of {b.device} "
                      f"that is {b.status}: {b.note} (see backups/index.json)"),
                err=True,
            )  # fmt: skip
    check = gathered.check
    if check is not None and check.unsealed and (check.signed or check.unchecked):
        typer.echo(
            f"warning: runs {id_ranges(check.unsealed)} are unsigned, after signed runs: no "
            "signature seals them (--require-signed refuses such a store)",
            err=True,
        )
    ids = [r.info.id for r in gathered.data.runs]
    count = f"{len(ids)} run" if len(ids) == 1 else f"{len(ids)} runs"
    typer.echo(f"wrote {out}: {count} ({id_ranges(ids)}), signed by {fp}", err=True)


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
    from baluarte.text import inert

    result = verify_pack(pack, key)
    typer.echo(f"pack key:     {result.pack_fingerprint or 'none'}")
    if result.provider_fingerprint:
        typer.echo(f"provider key: {result.provider_fingerprint}")
    typer.echo(
        f"checked {result.files_checked} files, {result.links_checked} chain links, "
        f"{result.runs_checked} run records, {result.parts_checked} record parts, "
        f"{result.signatures_checked} run signatures"
    )
    for note in result.notes:
        typer.echo(inert(f"note: {note}"))  # a pack's text is shown, never interpreted
    if result.ok:
        typer.echo("OK: manifest, signature and chain intact")
        if key is None:
            typer.echo("note: pass --key with the provider's published public key to prove origin")
        return
    for problem in result.problems:
        typer.echo(inert(f"TAMPERED: {problem}"))
    raise typer.Exit(ExitCode.DRIFT)


@contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    """A progress bar of the export's steps on standard error, only when it is a terminal."""
    from baluarte.cli.render import progress_bar
    from baluarte.evidence.pack import STEPS

    err = Console(stderr=True)
    with progress_bar("exporting", err, disable=not err.is_terminal) as progress:
        task = progress.add_task(STEPS[0], total=len(STEPS))

        def step(name: str) -> None:
            progress.update(task, completed=STEPS.index(name), description=name)

        yield step
        progress.update(task, completed=len(STEPS))


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cycle collector off while a pack is made: every run's record is sealed, checked and
    kept until the pack is written (millions of small objects), and the collector's repeated
    passes over them, which free nothing, were a fifth of a quarter's export. Same peak memory
    measured with it off (bench/export.py)."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")
