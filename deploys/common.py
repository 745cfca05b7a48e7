"""What every platform's remedies share: whether a control still fails, and diffs for the plan."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any, Literal

from baluarte.controls import get_control
from baluarte.findings import Status
from baluarte.remediation import Manual, RemedyContext

__all__ = ["file_diff", "needed", "state_diff"]


def needed(
    control_id: str, facts: Any, params: Any, ctx: RemedyContext
) -> Literal[True] | Manual | None:
    """True when the control fails now; None when it passes; Manual when it cannot be judged.

    The control's own evaluator decides, so a remedy is planned exactly when the finding fails
    and a second plan after a successful apply is empty.
    """
    control = get_control(control_id)
    assert control is not None and control.evaluate is not None, control_id
    outcome = control.evaluate(facts, params, ctx.ctx)
    if outcome.status is Status.FAIL:
        return True
    if outcome.status is Status.ERROR:
        return Manual(
            text=f"Baluarte could not read what {control_id} needs ({outcome.reason}); nothing "
            "is changed until a check can read it."
        )
    return None


def _lines(text: str) -> list[str]:
    return [line + "\n" for line in text.splitlines()]


def file_diff(path: str, before: str, after: str) -> str:
    """Unified diff of a file Baluarte writes (``before`` = its content as far as known)."""
    return "".join(difflib.unified_diff(_lines(before), _lines(after), path, path))


def state_diff(label: str, before: Iterable[str], after: Iterable[str]) -> str:
    """Unified diff of a state shown as lines (settings, firewall rules), labelled now/after."""
    old = [line + "\n" for line in before]
    new = [line + "\n" for line in after]
    return "".join(difflib.unified_diff(old, new, f"{label} (now)", f"{label} (after)"))
