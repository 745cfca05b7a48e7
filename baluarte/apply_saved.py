"""Apply a saved plan: ``baluarte apply --plan FILE [--yes]``, as ``terraform apply PLAN`` does.

The file is the technician's approval, not a script: nothing read from it ever runs. The plan's
devices are collected and planned again; where the fresh plan equals the saved one it runs (so
what runs is what was approved), and a device where anything differs — a before-value, a step,
a change that appeared or went away, the device out of reach — is refused whole and recorded
``refused`` with what changed. The others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from baluarte import __version__
from baluarte.apply import (
    UNHEARD,
    ApplyOptions,
    ApplyOutcome,
    ApplyProgress,
    check_scope,
    execute_plan,
    make_plan,
    only_controls,
)
from baluarte.engine import Inputs, operator_name
from baluarte.errors import InputError
from baluarte.plan import plan
from baluarte.remediation import ChangeKind, PlannedChange
from baluarte.saved_plan import differences, input_changes, load_plan

if TYPE_CHECKING:
    from baluarte.store import Store

__all__ = ["apply_saved"]


def apply_saved(
    inputs: Inputs,
    store: Store,
    path: Path,
    options: ApplyOptions,
    *,
    on_plan: Callable[[ApplyOutcome], None] | None = None,
    progress: ApplyProgress = UNHEARD,
) -> ApplyOutcome:
    """A saved plan, checked against the devices now; with ``options.yes`` its changes made.

    Refused (InputError) when the inputs it was made from changed. Only its devices with
    changes to make are collected again and planned afresh; a device whose fresh plan differs
    from the saved one in anything (``differences``) is refused whole, and nothing runs on it;
    the others run their fresh plan, which is the saved one.
    """
    check_scope(options, saved_plan=True)
    saved, sha256 = load_plan(path)
    made_from = saved.made_from
    stale = input_changes(made_from, inputs.files(), __version__)
    if stale:
        raise InputError(
            f"the plan no longer matches its inputs: {'; '.join(stale)}; make a new plan with"
            " `baluarte apply --out`",
            code="plan_stale",
            file=path,
        )
    pending = {d.key: d for d in saved.devices if d.pending}
    # Device selectors only pick devices; the policy and --control pick each device's controls.
    everything = plan(inputs.inventory, inputs.policies, policy=made_from.selectors.get("policy"))
    plans = [p for p in only_controls(everything, made_from.controls) if p.ref.key in pending]
    collect_options = options.collect_options()
    made = make_plan(plans, inputs, collect_options, progress)
    outcome = made.outcome
    outcome.saved, outcome.plan_sha256 = saved, sha256
    fresh: dict[str, list[PlannedChange]] = {}
    for change in outcome.changes:
        fresh.setdefault(change.device_key, []).append(change)
    found = {p.ref.key for p in plans}
    for key, device in pending.items():
        if key not in found:  # only an inventory change can do this, and that is refused above
            diffs = ["the device is no longer in the inventory"]
        elif key in outcome.unreachable:
            diffs = [f"it could not be checked again: {outcome.unreachable[key]}"]
        else:
            diffs = differences(device.planned_changes(), fresh.get(key, []))
        outcome.differences[key] = diffs
        if diffs:
            fresh[key] = _refuse_device(device.planned_changes(), fresh.get(key, []), diffs)
    outcome.changes = sorted(
        (c for changes in fresh.values() for c in changes), key=lambda c: (c.device_key, c.control)
    )
    if on_plan:
        on_plan(outcome)
    if options.yes:
        operator = options.operator or operator_name()
        # The run's scope says what the plan was made for, and which plan (sha256 of its file).
        scope = {**made_from.selectors, "plan_sha256": sha256}
        outcome.run = execute_plan(
            inputs, store, made, collect_options, operator, scope, options=options,
            progress=progress,
        )  # fmt: skip
    return outcome


def _refuse_device(
    saved: Sequence[PlannedChange], fresh: Sequence[PlannedChange], diffs: Sequence[str]
) -> list[PlannedChange]:
    """Every change the saved or the fresh plan lists for a device, refused: nothing runs."""
    reason = f"the saved plan no longer holds for this device: {'; '.join(diffs)}; nothing runs"
    by_control = {c.control: c for c in saved} | {c.control: c for c in fresh}
    return [
        c.model_copy(update={"kind": ChangeKind.REFUSED, "reason": reason})
        for c in by_control.values()
    ]
