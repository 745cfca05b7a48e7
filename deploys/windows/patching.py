"""Windows Update remedies: install exactly the pending updates the check listed.

One fix script registers a one-off scheduled task running as SYSTEM (the Windows Update Agent
refuses remote tokens), which searches, downloads and installs the updates whose UpdateIDs the
plan lists — pinned to what was checked, as on Linux — and writes its result; the script
polls for it, then unregisters the task. Updates are chosen by UpdateID, never by title: titles
are in the language of whoever searched (the check's user, not SYSTEM). An update the task does
not find, or fewer installed than asked, fails the fix. The host is not rebooted: the result
says when it needs one, and patching.reboot_required reports it.
"""

from __future__ import annotations

from baluarte.remediation import Manual, Refused, Remedy, RemedyContext
from checks.facts.patching import PatchFacts, PendingUpdate
from checks.policy.patching import MaxCount, SecurityUpdates
from deploys.common import needed, state_diff
from deploys.windows.fixes import fix_script

__all__ = ["TIMEOUT_SECONDS", "security_updates_pending", "updates_pending"]

TIMEOUT_SECONDS = 3300  # how long the task may take; the WinRM call waits a little longer


def _security(facts: PatchFacts, params: SecurityUpdates) -> tuple[PendingUpdate, ...]:
    """The updates the control counts, chosen as its evaluator chooses them."""
    pending = facts.pending or ()
    if params.origins:
        return tuple(u for u in pending if any(o in params.origins for o in u.origins))
    return tuple(u for u in pending if u.security)


def _shown(u: PendingUpdate) -> str:
    kb = ", ".join(k for k in u.kb if k != "-")
    return u.name if not kb or kb in u.name else f"{u.name} ({kb})"


def _remedy(updates: tuple[PendingUpdate, ...], what: str) -> Remedy | Refused:
    unknown = [_shown(u) for u in updates if not u.update_id]
    if unknown:
        return Refused(
            reason=f"{len(unknown)} of the pending updates have no Windows Update ID in the "
            f"check's answer ({'; '.join(unknown)}): the fix selects updates by ID, never by "
            "title (titles are localised per user); check the host again with this version "
            "of Baluarte, then apply",
            summary=f"install pending {what}updates with Windows Update",
        )
    listed = [_shown(u) for u in updates]
    plural = "s" if len(updates) > 1 else ""
    return Remedy(
        summary=f"install {len(updates)} pending {what}update{plural} with Windows Update "
        "(one-off SYSTEM scheduled task)",
        before=f"{len(updates)} pending: " + "; ".join(listed),
        after="installed: " + "; ".join(listed),
        diff=state_diff("pending updates", listed, []),
        script=fix_script("updates-install"),
        parameters={
            "UpdateIds": [u.update_id for u in updates if u.update_id],
            "TimeoutSeconds": TIMEOUT_SECONDS,
        },
    )


def security_updates_pending(
    facts: PatchFacts, params: SecurityUpdates, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("patching.security_updates_pending", facts, params, ctx)
    if state is not True:
        return state
    return _remedy(_security(facts, params), "security ")


def updates_pending(
    facts: PatchFacts, params: MaxCount, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("patching.updates_pending", facts, params, ctx)
    if state is not True:
        return state
    return _remedy(facts.pending or (), "")
