"""``baluarte apply``: show what would change to make devices compliant; change it with --yes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from baluarte.cli.options import (
    ArtifactsOpt,
    ClientOpt,
    DbOpt,
    DeviceOpt,
    Format,
    FormatOpt,
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
from baluarte.cli.render import print_summary
from baluarte.engine import exit_status, load_inputs
from baluarte.errors import InputError
from baluarte.exitcodes import ExitCode
from baluarte.remediation import ChangeKind, PlannedChange

__all__ = ["register"]

_MARK = {ChangeKind.CHANGE: "[bold yellow]change[/]", ChangeKind.MANUAL: "[cyan]manual[/]",
         ChangeKind.REFUSED: "[bold red]refused[/]"}  # fmt: skip


def print_plan(console: Console, changes: list[PlannedChange], unreachable: dict[str, str]) -> None:
    device = None
    for change in changes:
        if change.device_key != device:
            device = change.device_key
            console.print(f"\n[bold]{escape(device)}[/] ({change.platform})")
        console.print(f"  {_MARK[change.kind]} {escape(change.control)}: {escape(change.summary)}")
        if change.kind is ChangeKind.CHANGE:
            if change.before or change.after:
                console.print(f"      before: {escape(change.before)}", highlight=False)
                console.print(f"      after:  {escape(change.after)}", highlight=False)
            for line in change.diff.splitlines():
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
                text = escape(line)
                console.print(f"      [{style}]{text}[/]" if style else f"      {text}")
            for step in change.steps:
                console.print(f"      - {escape(step.what)}", highlight=False)
                for command in step.commands:
                    console.print(f"          $ {escape(command)}", highlight=False)
        else:
            console.print(f"      {escape(change.reason)}", highlight=False)
    for key, why in unreachable.items():
        console.print(f"\n[bold]{escape(key)}[/]: [red]not checked[/] — {escape(why)}")
    pending = sum(c.kind is ChangeKind.CHANGE for c in changes)
    manual = sum(c.kind is ChangeKind.MANUAL for c in changes)
    refused = sum(c.kind is ChangeKind.REFUSED for c in changes)
    console.print(
        f"\n{pending} change(s) to make, {manual} manual, {refused} refused by a lockout guard"
        + (f", {len(unreachable)} device(s) not checked" if unreachable else "")
    )


def apply_command(
    client: ClientOpt = None,
    site: SiteOpt = None,
    device: DeviceOpt = None,
    tags: TagsOpt = None,
    policy: PolicyOpt = None,
    control: Annotated[
        list[str] | None, typer.Option("--control", help="Only these control ids (repeatable).")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Make the changes (without it nothing changes).")
    ] = False,
    parallel: ParallelOpt = 20,
    timeout: Annotated[
        float, typer.Option(min=1, help="Seconds a device may take for each step.")
    ] = 600.0,
    inventory: InventoryOpt = None,
    policies: PoliciesOpt = None,
    waivers: WaiversOpt = None,
    db: DbOpt = None,
    artifacts: ArtifactsOpt = Path("baluarte-artifacts"),
    output: FormatOpt = Format.TEXT,
) -> None:
    """Plan the changes that make devices compliant; with --yes make them, re-check, store.

    Without --yes nothing changes: exit 0 when nothing is pending, 1 when changes are pending,
    3 when a device could not be checked. With --yes the exit code is that of the re-check
    (0 compliant, 1 drift left, 3 a device could not be checked).
    """
    from baluarte.apply import ApplyOptions, apply
    from baluarte.controls import catalogue

    unknown = sorted(set(control or ()) - set(catalogue()))
    if unknown:
        raise InputError(
            f"--control: unknown control ids: {', '.join(unknown)}",
            code="unknown_control",
            allowed="ids listed by `baluarte controls`",
        )
    inputs = load_inputs(inventory, policies, waivers)
    tag_list = split_tags(tags)
    options = ApplyOptions(
        client=client,
        site=site,
        device=device,
        tags=tag_list,
        policy=policy,
        controls=control,
        yes=yes,
        parallel=parallel,
        command_timeout=timeout,
        artifacts=artifacts,
        scope=scope_of(client, site, device, policy, tag_list),
    )
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

    console = Console()
    store = Store.open(db)
    try:

        def show(changes: list[PlannedChange]) -> None:
            if output is Format.TEXT:
                print_plan(console, changes, {})

        outcome = apply(inputs, store, options, on_plan=show)
    finally:
        store.close()
    if output is Format.JSON:
        from reports.json_report import report_dict

        doc = {
            "plan": [c.model_dump(mode="json") for c in outcome.changes],
            "unreachable": outcome.unreachable,
            "run": report_dict(outcome.run) if outcome.run else None,
        }
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for key, why in outcome.unreachable.items():
            console.print(f"[bold]{escape(key)}[/]: [red]not checked[/] — {escape(why)}")
        if outcome.run is not None:
            console.print("\n[bold]After apply[/]")
            print_summary(console, outcome.run)
        elif outcome.pending:
            console.print("Nothing was changed: run again with --yes to make these changes.")
    if outcome.run is not None:
        raise typer.Exit(exit_status(outcome.run))
    if outcome.unreachable:
        raise typer.Exit(ExitCode.DEVICE_ERROR)
    raise typer.Exit(ExitCode.DRIFT if outcome.pending else ExitCode.COMPLIANT)


def register(app: typer.Typer) -> None:
    app.command("apply")(apply_command)
