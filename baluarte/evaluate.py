"""Turn a device's collected facts (or the reason there are none) into findings, waivers applied.

The meaning of each control lives in its pure evaluator (``checks/evaluators``); this module only
decides which verdict applies when there is nothing to evaluate, and never turns doubt into pass.
When the device (or the collection of the control's domain) could not be read, the ``error`` is
of kind ``unreadable`` — the only kind that makes a run exit 3; an evaluator's own errors say
which kind they are (``Outcome.error``: read but undetermined; ``Outcome.unreadable``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from baluarte.collected import Collected
from baluarte.controls import EvalContext
from baluarte.errors import DeviceError
from baluarte.findings import Finding, Outcome, Status
from baluarte.plan import DevicePlan, PlannedControl
from baluarte.text import inert_model
from baluarte.timezones import zone
from baluarte.waivers import WaiverSet

__all__ = ["describe_device_error", "evaluate_device"]


def describe_device_error(error: DeviceError) -> str:
    kinds = {
        "Unreachable": "unreachable",
        "AuthFailed": "authentication refused",
        "TimedOut": "timed out",
        "BadAnswer": "unparseable answer",
    }
    kind = kinds.get(type(error).__name__, "could not be checked")
    return f"device {kind}: {error}"


def _outcome(
    planned: PlannedControl,
    platform: str,
    result: Collected | DeviceError | None,
    collected_domains: Collection[str],
    ctx: EvalContext,
) -> Outcome:
    control = planned.control
    if platform not in control.platforms:
        return Outcome.not_applicable(f"{control.id} does not apply to {platform} devices")
    if control.evaluate is None or control.domain not in collected_domains:
        # The catalogue says the control is checked on this platform, so a missing evaluator or
        # collection fragment is a broken installation: that is "could not tell", never n/a.
        part = f"{platform} {control.domain} collection"
        if control.evaluate is None:
            part = "evaluator"
        return Outcome.unreadable(
            f"{control.id} cannot be checked: the {part} is missing from this installation "
            f"of Baluarte (reinstall it)"
        )
    if isinstance(result, DeviceError):
        return Outcome.unreadable(describe_device_error(result))
    if result is None:
        return Outcome.unreadable("no answer from the device")
    facts = result.facts.get(control.domain)
    if facts is None:
        return Outcome.unreadable(
            result.problems.get(control.domain, f"no {control.domain} facts collected")
        )
    try:
        return control.evaluate(facts, planned.params, ctx)
    except Exception as exc:  # an evaluator bug must show up as error, never as pass
        # the device was read; what failed is the judging (undetermined, not unreadable)
        return Outcome.error(f"evaluating {control.id} failed: {type(exc).__name__}: {exc}")


def _noted(evidence: str | None, result: Collected | DeviceError | None, domain: str) -> str | None:
    """The evidence, with what the collector noted about how the domain's answer was read
    (bytes that were not UTF-8, shown as U+FFFD)."""
    note = result.notes.get(domain) if isinstance(result, Collected) else None
    if not note:
        return evidence
    return f"{evidence}\n\n{note}" if evidence else note


def evaluate_device(
    device_plan: DevicePlan,
    result: Collected | DeviceError | None,
    *,
    collected_domains: Collection[str],
    waivers: WaiverSet,
    now: datetime,
) -> list[Finding]:
    ref = device_plan.ref
    ctx = EvalContext(now=now)
    # a waiver applies through its expires day where the client is (its inventory time zone),
    # whatever the zone of the machine that runs the check
    today = now.astimezone(zone(ref.client.timezone)).date()
    findings: list[Finding] = []
    for planned in device_plan.controls:
        mine = replace(ctx, policy=planned.policy)
        outcome = _outcome(planned, ref.platform, result, collected_domains, mine)
        status, reason = outcome.status, outcome.reason
        waiver_ref = None
        waiver = waivers.match(planned.control.id, ref, today)
        if waiver is not None and status is Status.ERROR:
            # A waiver accepts a known failure; it never covers "we could not tell".
            note = (
                f"a waiver (until {waiver.expires.isoformat()}: {waiver.reason}) covers this "
                "control, but not a result that could not be established"
            )
            reason = f"{reason}; {note}" if reason else note
        elif waiver is not None and status is not Status.NOT_APPLICABLE:
            waiver_ref = waiver.to_ref(today)
            if waiver_ref.expired:
                note = f"waiver expired on {waiver_ref.expires.isoformat()} and no longer applies"
                reason = f"{reason}; {note}" if reason else note
            else:
                status = Status.WAIVED
                note = f"waived until {waiver_ref.expires.isoformat()}: {waiver_ref.reason}"
                reason = f"{note} (result without waiver: {outcome.status})"
        findings.append(
            Finding(
                client=ref.client_name,
                site=ref.site_name,
                device=ref.name,
                platform=ref.platform,
                control=planned.control.id,
                policy=planned.policy,
                status=status,
                severity=planned.params.severity or planned.control.severity,
                expected=outcome.expected,
                observed=outcome.observed,
                reason=reason,
                evidence=_noted(outcome.evidence, result, planned.control.domain),
                waiver=waiver_ref,
                error_kind=outcome.error_kind if status is Status.ERROR else None,
            )
        )
    # whatever a device or a file said (an error message, a name) is stored inert
    return [inert_model(f) for f in findings]
