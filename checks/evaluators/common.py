"""Verdict rules every domain's evaluators share: stamps from a wrong clock, controls a policy
turns off with ``required: false``.

Not a domain: the catalogue reads only ``checks/evaluators/<domain>.py``.
"""

from __future__ import annotations

from datetime import datetime

from baluarte.controls import EvalContext
from baluarte.findings import Outcome

__all__ = ["CLOCK_SLACK_HOURS", "ahead_of_run", "not_required"]

# How far a device's stamp may run ahead of this run's clock before it proves nothing: clock
# skew, and local log times read in today's UTC offset across a DST change (one hour).
CLOCK_SLACK_HOURS = 2.0


def _when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M %Z}".strip()


def ahead_of_run(what: str, at: datetime, now: datetime) -> str | None:
    """Why ``at`` cannot date anything, when it lies more than CLOCK_SLACK_HOURS ahead of this
    run's clock: the clock that stamped it was wrong, and its negative age would pass any
    limit (a stamp from 2030 would pass for years). None when it is not ahead."""
    ahead = (at - now).total_seconds() / 3600
    if ahead <= CLOCK_SLACK_HOURS:
        return None
    return (
        f"{what} is dated {_when(at)}, {ahead:.1f} hours ahead of this run's clock: the clock "
        "that stamped it was wrong, so its real age cannot be told"
    )


def not_required(what: str, ctx: EvalContext, setting: str = "required: false") -> Outcome:
    """``not_applicable`` for a control its policy switches off: nothing was verified, so it is
    never a ``pass`` (a pass on nothing would count towards compliance)."""
    policy = f"policy {ctx.policy}" if ctx.policy else "the policy"
    return Outcome.not_applicable(f"{what} not required by {policy} ({setting})")
