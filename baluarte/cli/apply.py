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
from rich.text import Text

from baluarte.cli.apply_progress import ApplyBar
from baluarte.cli.changes import print_changes
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
from baluarte.cli.plan_view import print_plan, print_verdicts
from baluarte.cli.render import plain, print_summary  # device text: inert, never markup
from baluarte.cli.shapes import comment, write_lines
from baluarte.engine import load_inputs
from baluarte.errors import InputError
from baluarte.interrupts import Interrupted, exit_code, handling
from baluarte.operator import current_operator

if TYPE_CHECKING:
    from baluarte.apply import ApplyOutcome

__all__ = ["register"]


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
    show_scripts: Annotated[
        bool,
        typer.Option(
            "--show-scripts",
            help="Show the exact commands of each step (Windows fix scripts, shell commands,"
            " FortiOS requests) in the plan; a saved plan (--out) always keeps them.",
        ),
    ] = False,
) -> None:
    """Plan the changes that make devices compliant; with --yes make them, re-check, store.

    --yes needs a selector, --all or a saved plan (--plan). With --yes, after the plan: every
    change with its result (applied, failed, not_run, refused, manual), the control's status
    when re-checked and, when not applied, why; each configuration backup taken (path, sha256);
    then the state after apply. In a pipe: one tab-separated line per change.

    Exit codes without --yes (nothing changes): 0 nothing to change and nothing failing; 1
    changes pending, manual work left, a control failing, or a saved plan no longer holding
    somewhere; 3 a device could not be read. With --yes: 0 every change applied and passing
    when re-checked, nothing failing; 1 a change failed, was refused or not run, manual work
    left, or a control still failing; 3 a device could not be read. Interrupted: 130 (Ctrl-C)
    or 143 (SIGTERM); no new change starts, an operation in flight finishes (a second signal
    aborts it), each change is recorded applied, failed or not_run, the run is incomplete.
    """
    from baluarte.apply import ApplyOptions, apply, check_scope, exit_status_of
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
                print_verdicts(console, outcome, saved_plan, show_scripts=show_scripts)
            else:
                print_plan(console, outcome.changes, {}, show_scripts=show_scripts)

        # progress on standard error when it is a terminal, aside while the plan prints
        with handling(), ApplyBar(Console(stderr=True), enabled=output is Format.TEXT) as bar:
            if saved_plan is not None:
                outcome = apply_saved(
                    inputs, store, saved_plan, options, on_plan=bar.aside(show), progress=bar
                )
            else:
                outcome = apply(inputs, store, options, on_plan=bar.aside(show), progress=bar)
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
        _print_outcome(console, outcome, out, saved_plan)
    raise typer.Exit(exit_status_of(outcome))


def _print_outcome(
    console: Console, outcome: ApplyOutcome, out: Path | None, saved_plan: Path | None
) -> None:
    """After the plan: what each change did and the state after apply (--yes), or what to do
    next. Outside a terminal every line but the records is a ``# `` line."""
    for key, why in outcome.unreachable.items():
        not_checked = Text.assemble(plain(key, "bold"), ": ", ("not checked", "red"), " — ")
        _say(console, not_checked.append_text(plain(why)))
    if outcome.run is not None:
        print_changes(console, outcome.run)
        _say(console, Text("\nAfter apply" if console.is_terminal else "after apply:", "bold"))
        print_summary(console, outcome.run)
    elif out is not None:
        saved = Text.assemble(
            "Plan saved to ", plain(out), f" (sha256 {outcome.plan_sha256}); nothing was changed."
            " Review it, then: baluarte apply --plan ", plain(out), " --yes",
        )  # fmt: skip
        _say(console, saved)
    elif saved_plan is not None:
        _say(console, Text("Nothing was changed: run again with --yes to make the changes of the"
                           " devices where the plan holds."))  # fmt: skip
    elif outcome.pending:
        _say(console, Text("Nothing was changed: run again with --yes to make these changes."))


def _say(console: Console, line: Text) -> None:
    """A line about the outcome: as it is on a terminal, a ``# `` line in a pipe or a file."""
    if console.is_terminal:
        console.print(line, soft_wrap=True, highlight=False)
    else:
        write_lines(console.file, [comment(line.plain)])


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
