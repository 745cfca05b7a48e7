"""``baluarte validate``: check inventory, policies and waivers without touching any device."""

from __future__ import annotations

import typer
from rich.console import Console

from baluarte.cli.options import InventoryOpt, PoliciesOpt, WaiversOpt
from baluarte.cli.render import escape
from baluarte.engine import load_inputs
from baluarte.plan import plan

__all__ = ["register"]


def validate_command(
    inventory: InventoryOpt = None,
    policies: PoliciesOpt = None,
    waivers: WaiversOpt = None,
) -> None:
    """Validate the inputs; every error is shown with file:line:column. Exit 2 on any error."""
    inputs = load_inputs(inventory, policies, waivers)
    plans = plan(inputs.inventory, inputs.policies)
    controls = sum(len(p.controls) for p in plans)
    uncovered = [p.ref.key for p in plans if not p.controls]
    console = Console()
    console.print(
        f"[green]valid[/]: {len(plans)} devices, {len(inputs.policies.policies)} policies, "
        f"{len(inputs.waivers.waivers)} waivers; {controls} device controls planned"
    )
    for key in uncovered:
        console.print(f"[yellow]note[/]: no policy applies to {escape(key)}")


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_command)
