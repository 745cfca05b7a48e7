"""``baluarte report executive --client C [--month YYYY-MM] --out FILE.pdf``: a client's monthly
executive report on demand — the PDF ``baluarte serve`` mails to the client's contacts — signed
beside it (``FILE.pdf.sig``) when the provider's signing key is here.

The store, inventory and waivers are the service's (``--config serve.yaml``) or given as for
``baluarte check`` (``--db``, ``--inventory``, ``--waivers``, with the same defaults).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from baluarte.errors import InputError, InputErrors
from baluarte.evidence.data import Lang

__all__ = ["executive_report"]


def executive_report(
    *,
    client: str | None,
    month: str | None,
    lang: Lang,
    out: Path | None,
    config: Path | None,
    db: str | None,
    inventory: list[Path] | None,
    waivers: Path | None,
) -> None:
    """Write the report; InputError (exit 2) for what the caller must fix."""
    from baluarte.engine import DEFAULT_WAIVERS, default_inventory_paths
    from baluarte.evidence.seal import run_signing_key
    from baluarte.inventory import load_inventory
    from baluarte.store import Store
    from baluarte.timezones import zone
    from baluarte.validation import did_you_mean
    from baluarte.waivers import load_waivers
    from reports.executive import Month, build_report
    from reports.printed import write_signed

    if client is None:
        raise InputError("report executive needs --client NAME", code="usage")
    if out is None:
        raise InputError("report executive writes a PDF: give --out FILE.pdf", code="usage")
    wanted = Month.parse(month) if month is not None else None  # a bad month before any work
    if config is not None:
        if db is not None or inventory or waivers is not None:
            raise InputError(
                "--config names the store, inventory and waivers: drop --db, --inventory and "
                "--waivers (or --config)",
                code="usage",
            )
        from baluarte.service.config import load_config

        settings = load_config(config)
        db, paths, waivers_path = (
            settings.db_location,
            settings.inventory_paths,
            settings.waivers_path,
        )
    else:
        paths = inventory or default_inventory_paths()
        waivers_path = waivers or (DEFAULT_WAIVERS if DEFAULT_WAIVERS.exists() else None)
    inv = load_inventory(list(paths))
    waiver_set = load_waivers(waivers_path)
    problems = waiver_set.unknown_references(inv)
    if problems:
        raise InputErrors(problems)
    found = [c for c in inv.clients if c.name == client]
    if not found:
        names = [c.name for c in inv.clients]
        raise InputError(
            f"no client named {client!r} in the inventory{did_you_mean(client, names)}",
            code="unknown_reference",
            key="--client",
        )
    target = found[0]
    now = datetime.now(UTC)
    if wanted is None:  # the last whole month where the client is
        wanted = Month.before(now.astimezone(zone(target.timezone)).date())
    if wanted.start(zone(target.timezone)) >= now:
        raise InputError(
            f"{wanted} has not begun yet (in {target.timezone}): nothing to report",
            code="wrong_value",
            key="--month",
        )
    key = run_signing_key()
    with Store.open(db) as store:
        report = build_report(
            store,
            target,
            waiver_set.waivers,
            wanted,
            lang=lang,
            now=now,
            signing_key=key,
            filename=out.name,
        )
    typer.echo(write_signed(out, report.pdf, report.signature), err=True)
