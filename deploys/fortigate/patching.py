"""Patching remedy: FortiGuard scheduled updates on (firmware upgrades stay manual)."""

from __future__ import annotations

from baluarte.remediation import Manual, Remedy, RemedyContext
from checks.facts.patching import PatchFacts
from checks.fortigate.snapshot import FortiSnapshot
from checks.policy.base import Required
from deploys.fortigate.common import obj, remedy, unit, write

__all__ = ["automatic_updates"]


def automatic_updates(
    facts: PatchFacts, params: Required, ctx: RemedyContext
) -> Remedy | Manual | None:
    control = "patching.automatic_updates"
    snap = unit(control, facts, params, ctx)
    if not isinstance(snap, FortiSnapshot):
        return snap
    schedule = obj(snap, "system.autoupdate/schedule")
    if schedule is None:
        return Manual(text="system.autoupdate/schedule was not read; nothing is changed")
    data = {"status": "enable"}
    changes = write("system.autoupdate/schedule", None, data, schedule, global_scope=True)
    return remedy("turn on FortiGuard scheduled updates", [changes], control)
