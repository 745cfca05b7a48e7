"""``baluarte check``: collect, evaluate and store; print a summary or the JSON report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from baluarte.cli.collectors import BrokerCaOpt
from baluarte.cli.options import (
    ArtifactsOpt,
    ClientOpt,
    DbOpt,
    DeviceOpt,
    FindingsFormat,
    FindingsFormatOpt,
    InventoryOpt,
    ParallelOpt,
    PoliciesOpt,
    PolicyOpt,
    SiteOpt,
    TagsOpt,
    WaiversOpt,
    scope_of,
    split_tags,
)
from baluarte.cli.render import check_progress, print_summary
from baluarte.cli.run_shapes import write_csv
from baluarte.engine import CheckOptions, check, exit_status, load_inputs
from baluarte.interrupts import Interrupted, exit_code, handling
from baluarte.operator import current_operator
from baluarte.run import RunRecord

if TYPE_CHECKING:
    from baluarte.collectors.broker import BrokerUrl

__all__ = ["register"]


def check_command(
    client: ClientOpt = None,
    site: SiteOpt = None,
    device: DeviceOpt = None,
    tags: TagsOpt = None,
    policy: PolicyOpt = None,
    parallel: ParallelOpt = 20,
    timeout: Annotated[
        float,
        typer.Option(min=1, help="Seconds a device may take to answer before it is an error."),
    ] = 120.0,
    restore_test: Annotated[
        bool,
        typer.Option(
            "--restore-test",
            help="Restore one sampled file from each host's newest backup and compare hashes.",
        ),
    ] = False,
    inventory: InventoryOpt = None,
    policies: PoliciesOpt = None,
    waivers: WaiversOpt = None,
    db: DbOpt = None,
    artifacts: ArtifactsOpt = Path("baluarte-artifacts"),
    all_findings: Annotated[
        bool, typer.Option("--all", help="List passing findings too (text output).")
    ] = False,
    output: FindingsFormatOpt = FindingsFormat.TEXT,
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            help="The broker of the site collectors (needed when a selected site names a"
            " collector). Default: $BALUARTE_BROKER.",
            show_default=False,
        ),
    ] = None,
    broker_ca: BrokerCaOpt = None,
    deadline: Annotated[
        float,
        typer.Option(
            "--deadline",
            min=1,
            help="Seconds to wait for site collectors' answers: a device not answered by then"
            " is an error, and the run ends.",
        ),
    ] = 600.0,
) -> None:
    """Check devices against their policies and store the run.

    Exit codes: 0 all compliant, 1 some control failed or was not settled by what a device
    showed, 2 bad input, 3 a device could not be read; 130 (Ctrl-C) or 143 (SIGTERM)
    interrupted: what was stored stays, the run is incomplete.
    """
    from baluarte.transports.ssh import prestart

    prestart()  # the SSH worker's start-up overlaps with loading inputs and opening the store
    inputs = load_inputs(inventory, policies, waivers)
    tag_list = split_tags(tags)
    options = CheckOptions(
        client=client,
        site=site,
        device=device,
        tags=tag_list,
        policy=policy,
        parallel=parallel,
        command_timeout=timeout,
        restore_test=restore_test,
        artifacts=artifacts,
        scope=scope_of(client, site, device, policy, tag_list),
        operator_identity=current_operator(),
    )
    from baluarte.collectors.reach import dispatch_for
    from baluarte.history import earlier_runs
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

    def central_broker() -> BrokerUrl:
        from baluarte.collectors.broker import parse_broker_url

        return parse_broker_url(broker, ca_file=broker_ca)

    collect = dispatch_for(options.plans(inputs), central_broker, deadline=deadline)
    store = Store.open(db)
    history: list[RunRecord] = []
    err = Console(stderr=True)
    try:
        with handling(), check_progress(err) as (on_start, on_device):
            run = check(
                inputs,
                store,
                options,
                on_device=on_device,
                on_start=on_start,
                collect=collect(store) if collect else None,
            )
            if output is FindingsFormat.JSON:
                history = earlier_runs(store, run)
    except Interrupted as stop:
        err.print(interrupted_message(stop), highlight=False, markup=False)
        raise typer.Exit(exit_code(stop.signum)) from None
    finally:
        store.close()
    if output is FindingsFormat.JSON:
        from baluarte.timezones import run_zone
        from reports.json_report import report_dict

        doc = report_dict(run, history=history, timezone=run_zone(run))
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif output is FindingsFormat.CSV:
        write_csv(sys.stdout, run.findings)
    else:
        print_summary(Console(), run, all_findings=all_findings)
    raise typer.Exit(exit_status(run))


def interrupted_message(stop: Interrupted) -> str:
    """What an interrupted check or apply left behind, for the terminal."""
    if stop.run_id is None:
        return f"{stop}: nothing was stored and nothing was changed"
    return (
        f"{stop}: run {stop.run_id} is left incomplete with {stop.done} of {stop.total}"
        " device(s) done; what was stored stays"
    )


def register(app: typer.Typer) -> None:
    app.command("check")(check_command)
