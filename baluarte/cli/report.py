"""``baluarte report RUN`` renders a stored run, ``baluarte report --client C`` a client's
posture over a period (as the evidence pack's report, unsigned): JSON or self-contained HTML.
An apply run's HTML or PDF is its intervention report (reports/intervention), signed beside it
(``FILE.sig``) when written to a file and the provider's signing key is here.
``baluarte report executive --client C --month YYYY-MM --out FILE.pdf``: the client's monthly
executive report (report_executive.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import typer

from baluarte.cli.options import (
    DbOpt,
    InventoryOpt,
    Language,
    WaiversOpt,
    parse_day,
    print_broken,
)
from baluarte.exitcodes import ExitCode
from baluarte.run import RunKind, RunRecord

__all__ = ["register", "write_report"]


class ReportFormat(StrEnum):
    JSON = "json"
    HTML = "html"
    PDF = "pdf"  # an apply run's intervention report only


def write_report(
    run: RunRecord,
    fmt: ReportFormat,
    out: Path | None,
    history: Sequence[RunRecord] = (),
) -> str:
    """``history``: the earlier runs the drift and trend are drawn from (``earlier_runs``).
    Times are shown in the zone the run's client named in the inventory the run read."""
    from baluarte.timezones import run_zone
    from reports.html_report import render_html
    from reports.json_report import render_json

    zone = run_zone(run)
    if fmt is ReportFormat.JSON:
        text = render_json(run, history=history, timezone=zone)
    else:
        text = render_html(run, history=history, timezone=zone)
    _save(text, out)
    return text


def _save(text: str, out: Path | None) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")


def report_command(
    run_id: Annotated[
        str | None,
        typer.Argument(
            metavar="[RUN | executive]",
            help="Run id (see 'baluarte runs'); or --client; or 'executive' for a client's "
            "monthly executive report (PDF).",
        ),
    ] = None,
    fmt: Annotated[
        ReportFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="html (default) or json; an apply run's html or pdf is its intervention report.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("-o", "--output", "--out", help="File to write.")
    ] = None,
    client: Annotated[
        str | None,
        typer.Option(
            "--client",
            help="A client's posture instead of one run: each device and control as last "
            "observed by any run of the period.",
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="With --client: first day (YYYY-MM-DD).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="With --client: last day (YYYY-MM-DD).")
    ] = None,
    lang: Annotated[
        Language,
        typer.Option(
            "--lang",
            help="With --client, executive or an apply run's report: the report's language.",
        ),
    ] = Language.ES,
    db: DbOpt = None,
    month: Annotated[
        str | None,
        typer.Option(help="executive: the month (YYYY-MM; default: the last whole month)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="executive: the service's configuration (store, inventory, waivers)."),
    ] = None,
    inventory: InventoryOpt = None,
    waivers: WaiversOpt = None,
) -> None:
    """Write a report of a stored run (of an apply run: its intervention report, HTML or PDF),
    or of a client over a period (to stdout without -o), or a client's monthly executive
    report (PDF)."""
    from baluarte.errors import InputError
    from baluarte.history import earlier_runs
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

    if run_id == "executive":
        from baluarte.cli.report_executive import executive_report

        if fmt is not None or start is not None or end is not None:
            raise InputError(
                "report executive is a PDF of a month: no --format, --from or --to", code="usage"
            )
        executive_report(
            client=client, month=month, lang="en" if lang is Language.EN else "es", out=out,
            config=config, db=db, inventory=inventory, waivers=waivers,
        )  # fmt: skip
        return
    if month is not None or config is not None or inventory or waivers is not None:
        raise InputError(
            "--month, --config, --inventory and --waivers go with 'report executive'",
            code="usage",
        )
    fmt = fmt or ReportFormat.HTML
    number = _run_number(run_id)
    if number is not None and client is not None:
        raise InputError("give a RUN id or --client, not both", code="usage")
    if number is None and client is None:
        raise InputError("give a RUN id (see 'baluarte runs') or --client C", code="usage")
    if number is None and client is not None:
        if fmt is ReportFormat.PDF:
            raise InputError(
                "pdf is the intervention report of an apply run; a client's report is html or "
                "json (its signed PDF: 'baluarte evidence export')",
                code="usage",
                key="--format",
            )
        period = (parse_day(start, "--from"), parse_day(end, "--to"))
        text = _client_report(client, *period, lang, fmt, db)
        _save(text, out)
    else:
        if start is not None or end is not None:
            raise InputError("--from and --to go with --client", code="usage")
        assert number is not None
        with Store.open(db) as store:
            run = store.get_run(number)
            history = earlier_runs(store, run)
        if run.info.kind is RunKind.APPLY and fmt is not ReportFormat.JSON:
            _intervention_report(run, fmt, lang, out)
            return
        if fmt is ReportFormat.PDF:
            raise InputError(
                f"pdf is the intervention report of an apply run, and run {number} is a check: "
                "give --format html or json for it (a client's signed PDF: 'baluarte evidence "
                "export' or 'baluarte report executive')",
                code="usage",
                key="--format",
            )
        text = write_report(run, fmt, out, history)
    if out is None:
        typer.echo(text)
    else:
        typer.echo(f"wrote {out}", err=True)


def _intervention_report(
    run: RunRecord, fmt: ReportFormat, lang: Language, out: Path | None
) -> None:
    """An apply run's intervention report: to ``out`` and signed beside it when the key is
    here (unsigned, and said so, when it is not); HTML alone may go to stdout, unsigned."""
    from baluarte.errors import InputError
    from baluarte.evidence.seal import run_signing_key
    from baluarte.timezones import run_zone
    from reports.intervention import build_report, report_filename
    from reports.printed import write_signed

    code: Literal["es", "en"] = "en" if lang is Language.EN else "es"
    kind: Literal["html", "pdf"] = "pdf" if fmt is ReportFormat.PDF else "html"
    if out is None and kind == "pdf":
        raise InputError(
            "the intervention report's PDF is a file: give -o FILE.pdf (e.g. -o "
            f"{report_filename(run.info.id, code, 'pdf')})",
            code="usage",
            key="--output",
        )
    key = run_signing_key() if out is not None else None  # stdout: nowhere to put a .sig
    report = build_report(
        run,
        kind,
        lang=code,
        timezone=run_zone(run),
        signing_key=key,
        filename=out.name if out is not None else None,
    )
    if out is None:
        typer.echo(report.content.decode("utf-8"))
        return
    typer.echo(write_signed(out, report.content, report.signature), err=True)


def _run_number(text: str | None) -> int | None:
    from baluarte.errors import InputError

    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise InputError(
            f"{text!r} is not a run id: give a number (see 'baluarte runs') or 'executive'",
            code="usage",
        ) from None


def _client_report(
    client: str,
    start: date | None,
    end: date | None,
    lang: Language,
    fmt: ReportFormat,
    db: str | None,
) -> str:
    """The client's posture over the period: the evidence pack's report.html (its runs and
    chain checked first, signatures by the provider's keys when they are here), or its
    ``posture`` as JSON (docs/evidence.md)."""
    from baluarte.engine import operator_name
    from baluarte.evidence.gather import gather
    from baluarte.evidence.keys import default_key_path
    from baluarte.evidence.seal import run_signing_key, trusted_keys
    from baluarte.store import Store
    from baluarte.store._chain import BrokenChain
    from reports.json_report import SCHEMA_VERSION, posture_dict

    try:
        with Store.open(db) as store:
            gathered = gather(
                store,
                client,
                start=start,
                end=end,
                lang=lang.value,
                operator=operator_name(),
                keys=trusted_keys(folder=default_key_path().parent),
                # when the key is here, runs unchanged since sealed are not rebuilt
                signing_key=run_signing_key(warn=False),
            )
    except BrokenChain as exc:
        print_broken(exc.problems, "no report written")
        raise typer.Exit(ExitCode.DRIFT) from None
    data = gathered.data
    if fmt is ReportFormat.HTML:
        from reports.evidence import render_html

        return render_html(data)
    doc = {
        "schema_version": SCHEMA_VERSION,
        "client": data.client,
        "period": {
            "from": data.period_from.isoformat() if data.period_from else None,
            "to": data.period_to.isoformat() if data.period_to else None,
        },
        "timezone": data.timezone,
        "runs": [r.info.id for r in data.runs],
        "posture": None if data.posture is None else posture_dict(data.posture, data.trend),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
