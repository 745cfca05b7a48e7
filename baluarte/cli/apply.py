"""``baluarte apply``: show what would change to make devices compliant; change it with --yes.

``--out FILE`` saves the plan for review; ``--plan FILE --yes`` makes exactly its changes
(``baluarte.apply_saved``). ``--yes`` needs a selector, ``--all`` or a saved plan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from baluarte.cli.check import interrupted_message
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
from baluarte.cli.render import escape, print_summary  # device text: controls shown, no markup
from baluarte.engine import exit_status, load_inputs
from baluarte.errors import InputError
from baluarte.exitcodes import ExitCode
from baluarte.interrupts import Interrupted, exit_code, handling
from baluarte.operator import current_operator
from baluarte.remediation import ChangeKind, PlannedChange

if TYPE_CHECKING:
    from baluarte.apply import ApplyOutcome

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


def print_verdicts(console: Console, outcome: ApplyOutcome, path: Path) -> None:
    """A saved plan, where it came from, and whether it still holds device by device."""
    saved = outcome.saved
    assert saved is not None
    made = saved.made_from
    scope = ", ".join(f"{k} {v}" for k, v in made.selectors.items()) or "every device"
    controls = f"; controls {', '.join(made.controls)}" if made.controls else ""
    console.print(
        f"[bold]Saved plan[/] {escape(str(path))} (sha256 {outcome.plan_sha256}), made"
        f" {made.made_at:%Y-%m-%d %H:%M} UTC by {escape(made.operator)} for"
        f" {escape(scope + controls)}",
        highlight=False,
    )
    changes = [c for d in saved.devices for c in d.planned_changes()]
    print_plan(console, changes, {d.key: d.not_checked for d in saved.devices if d.not_checked})
    console.print()
    for key, diffs in outcome.differences.items():
        if not diffs:
            console.print(f"[green]holds[/] {escape(key)}: the device is as the plan saw it")
            continue
        console.print(f"[bold red]refused[/] {escape(key)}: the plan no longer holds, nothing"
                      " will run on it:")  # fmt: skip
        for diff in diffs:
            console.print(f"      {escape(diff)}", highlight=False)


def apply_command(
    client: ClientOpt = None,
    site: SiteOpt = None,
    device: DeviceOpt = None,
    tags: TagsOpt = None,
    policy: PolicyOpt = None,
    control: Annotated[
        list[str] | None, typer.Option("--control", help="Only these control ids (repeatable).")
    ] = None,
    all_devices: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Every device of the inventory: what --yes without a selector must say.",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Make the changes (without it nothing changes).")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Save the plan to this file (JSON, mode 0600) for review; nothing changes.",
            dir_okay=False,
        ),
    ] = None,
    saved_plan: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="A plan saved with --out: show whether it still holds; with --yes make exactly"
            " its changes, refusing any device that changed since.",
            dir_okay=False,
        ),
    ] = None,
    ticket: Annotated[
        str | None,
        typer.Option(
            "--ticket",
            help="The change ticket these changes answer to, recorded with each change"
            " (required with --yes when the client's change_control says so).",
        ),
    ] = None,
    approved_by: Annotated[
        str | None,
        typer.Option("--approved-by", help="Who approved the change, recorded with each change."),
    ] = None,
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

    --yes needs a selector, --all or a saved plan (--plan). Without --yes nothing changes:
    exit 0 when nothing is pending, 1 when changes are pending (or a saved plan no longer holds
    somewhere), 3 when a device could not be read. With --yes the exit code is that of the
    re-check (0 compliant, 1 drift left, 3 a device could not be read). Interrupted: 130
    (Ctrl-C) or 143 (SIGTERM); no new change starts, an operation in flight finishes (a second
    signal aborts it), each change is recorded applied, failed or not_run, the run is incomplete.
    """
    from baluarte.apply import ApplyOptions, apply, check_scope
    from baluarte.apply_saved import apply_saved
    from baluarte.controls import catalogue

    unknown = sorted(set(control or ()) - set(catalogue()))
    if unknown:
        raise InputError(
            f"--control: unknown control ids: {', '.join(unknown)}",
            code="unknown_control",
            allowed="ids listed by `baluarte controls`",
        )
    tag_list = split_tags(tags)
    options = ApplyOptions(
        client=client,
        site=site,
        device=device,
        tags=tag_list,
        policy=policy,
        controls=control,
        yes=yes,
        out=out,
        all_devices=all_devices,
        parallel=parallel,
        command_timeout=timeout,
        artifacts=artifacts,
        scope=scope_of(client, site, device, policy, tag_list),
        operator_identity=current_operator(),
        ticket=_one_line(ticket, "--ticket"),
        approved_by=_one_line(approved_by, "--approved-by"),
    )
    check_scope(options, saved_plan=saved_plan is not None)  # before anything is read or stored
    inputs = load_inputs(inventory, policies, waivers)
    from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

    console = Console()
    store = Store.open(db)
    try:

        def show(outcome: ApplyOutcome) -> None:
            if output is not Format.TEXT:
                return
            if saved_plan is not None:
                print_verdicts(console, outcome, saved_plan)
            else:
                print_plan(console, outcome.changes, {})

        with handling():
            if saved_plan is not None:
                outcome = apply_saved(inputs, store, saved_plan, options, on_plan=show)
            else:
                outcome = apply(inputs, store, options, on_plan=show)
    except Interrupted as stop:
        Console(stderr=True).print(interrupted_message(stop), highlight=False, markup=False)
        raise typer.Exit(exit_code(stop.signum)) from None
    finally:
        store.close()
    if output is Format.JSON:
        from baluarte.timezones import run_zone
        from reports.json_report import report_dict

        doc = {
            "plan": [c.model_dump(mode="json") for c in outcome.changes],
            "unreachable": outcome.unreachable,
            "saved_plan": _saved_plan_doc(outcome, out or saved_plan),
            "run": report_dict(outcome.run, timezone=run_zone(outcome.run))
            if outcome.run
            else None,
        }
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for key, why in outcome.unreachable.items():
            console.print(f"[bold]{escape(key)}[/]: [red]not checked[/] — {escape(why)}")
        if outcome.run is not None:
            console.print("\n[bold]After apply[/]")
            print_summary(console, outcome.run)
        elif out is not None:
            console.print(
                f"Plan saved to {escape(str(out))} (sha256 {outcome.plan_sha256}); nothing was"
                f" changed. Review it, then: baluarte apply --plan {escape(str(out))} --yes",
                highlight=False,
            )
        elif saved_plan is not None:
            console.print("Nothing was changed: run again with --yes to make the changes of the"
                          " devices where the plan holds.")  # fmt: skip
        elif outcome.pending:
            console.print("Nothing was changed: run again with --yes to make these changes.")
    if outcome.run is not None:
        raise typer.Exit(exit_status(outcome.run))
    if outcome.unreachable:
        raise typer.Exit(ExitCode.DEVICE_ERROR)
    stale = any(outcome.differences.values())
    raise typer.Exit(ExitCode.DRIFT if outcome.pending or stale else ExitCode.COMPLIANT)


def _one_line(value: str | None, option: str) -> str | None:
    """A change-control value: one line of plain text, at most 200 characters."""
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > 200 or any(ord(c) < 32 for c in text):
        raise InputError(
            f"{value!r} is not a one-line value", code="wrong_value", key=option,
            allowed="one line of text, 1 to 200 characters",
        )  # fmt: skip
    return text


def _saved_plan_doc(outcome: ApplyOutcome, path: Path | None) -> dict[str, Any] | None:
    """The JSON output's ``saved_plan``: the file, and with --plan whether it still holds."""
    if outcome.plan_sha256 is None:
        return None
    doc: dict[str, Any] = {"file": str(path), "sha256": outcome.plan_sha256}
    if outcome.saved is not None:
        doc["made_from"] = outcome.saved.made_from.model_dump(mode="json")
        doc["devices"] = {
            key: {"holds": not diffs, "differences": diffs}
            for key, diffs in outcome.differences.items()
        }
    return doc


def register(app: typer.Typer) -> None:
    app.command("apply")(apply_command)
