"""Apply: collect → evaluate → plan the changes → (with --yes) change → re-verify → store.

The plan is what a technician approves, so it must be what happens: each planned change carries
the exact steps its platform's executor previewed on the device, apply runs those remedies and
records what actually ran beside what was planned. Nothing changes without ``yes``; waived and
passing controls are never touched; a guard's refusal is shown as such and nothing runs for it.

Interrupted (Ctrl-C, SIGTERM: ``baluarte.interrupts``) while planning, nothing was changed and
no run is stored. While applying, no new change starts: an operation in flight finishes (a
second signal aborts it), every approved change is recorded ``applied``, ``failed`` or
``not_run``, the re-check is skipped and the run is left incomplete (``Interrupted``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from baluarte import __version__
from baluarte.collected import Collected, CollectOptions
from baluarte.controls import EvalContext
from baluarte.engine import CheckOptions, Inputs, collect_plans, exit_status, operator_name
from baluarte.errors import DeviceError, InputError
from baluarte.evaluate import describe_device_error, evaluate_device
from baluarte.exitcodes import ExitCode
from baluarte.findings import Finding, Status
from baluarte.interrupts import Interrupted, requested
from baluarte.plan import DevicePlan, PlannedControl
from baluarte.remediation import (
    ChangeKind,
    Manual,
    PlannedChange,
    Refused,
    RemediationRecord,
    RemediationResult,
    Remedy,
    RemedyContext,
    Step,
)
from baluarte.run import RunKind, RunRecord
from baluarte.saved_plan import SavedPlan, save_plan

if TYPE_CHECKING:
    from baluarte.store import Store

__all__ = [
    "DEPLOYS",
    "UNHEARD",
    "ApplyOptions",
    "ApplyOutcome",
    "ApplyProgress",
    "DeviceWork",
    "Executor",
    "MadePlan",
    "RemedyOutcome",
    "apply",
    "check_change_control",
    "check_reached_directly",
    "check_scope",
    "command_lines",
    "execute_plan",
    "exit_status_of",
    "make_plan",
    "only_controls",
]

_OUT_WITH_YES = (
    "a saved plan is for review first: make it with --out, then apply it with"
    " `baluarte apply --plan FILE --yes`"
)

_UNSCOPED_YES = (
    "no devices named: alone it would change every device of the inventory. Name them"
    " with --client, --site, --device or --tags (or the controls with --policy or --control),"
    " give --all to mean every device, or apply a reviewed plan with --plan FILE --yes"
)

# Per platform, the package with its remedies (REMEDIES, MANUAL) and its EXECUTOR.
DEPLOYS: dict[str, str] = {
    "linux": "deploys.linux",
    "windows": "deploys.windows",
    "fortigate": "deploys.fortigate",
}


@dataclass
class ApplyOptions(CheckOptions):
    controls: Sequence[str] | None = None  # only these control ids
    yes: bool = False  # without it nothing changes
    out: Path | None = None  # save the plan here for review (never together with yes)
    all_devices: bool = False  # --all: yes without selectors means every device, knowingly
    ticket: str | None = None  # change control: recorded on every change (--ticket)
    approved_by: str | None = None  # who approved the change (--approved-by)


@dataclass(frozen=True)
class DeviceWork:
    """The remedies to preview or run on one device, in order."""

    plan: DevicePlan
    remedies: tuple[tuple[str, Remedy], ...]  # (control id, remedy)


@dataclass(frozen=True)
class RemedyOutcome:
    """One remedy on one device, previewed or run."""

    control: str
    will_change: bool  # preview: the executor found something to do
    steps: tuple[Step, ...]  # what it would run (preview) or ran (execute)
    success: bool | None = None  # execute only; None: not run (an earlier step failed)
    detail: str = ""  # output of a failure, or why it could not be previewed
    # preview only: a lockout guard that needs the device's answer (e.g. the FortiGate
    # management path Baluarte arrives on) refuses the remedy, saying why
    refused: str = ""
    # preview only: the control whose step could not be planned, which this remedy comes after
    # on the device (its steps were not planned at all); that control's detail says why
    blocked_by: str = ""


class ApplyProgress(Protocol):
    """Hears how far apply has got: each phase ("checking", "planning", "applying",
    "re-checking") with its number of devices, then each device as it is done with what failed
    on it in that phase (controls not passing when checking, changes not applied when applying).
    """

    def phase(self, name: str, total: int) -> None: ...

    def device_done(self, key: str, failures: int) -> None: ...


class _Unheard:
    """The progress nobody listens to (``--format json``, the service, the tests)."""

    def phase(self, name: str, total: int) -> None:
        pass

    def device_done(self, key: str, failures: int) -> None:
        pass


UNHEARD: ApplyProgress = _Unheard()


class Executor(Protocol):
    """A platform's way of previewing and running remedies (``deploys/<platform>``)."""

    def preview(
        self, work: Sequence[DeviceWork], options: CollectOptions
    ) -> Iterator[tuple[str, list[RemedyOutcome] | DeviceError]]: ...

    def execute(
        self, work: Sequence[DeviceWork], options: CollectOptions
    ) -> Iterator[tuple[str, list[RemedyOutcome] | DeviceError]]: ...


@dataclass
class ApplyOutcome:
    changes: list[PlannedChange]  # the plan, in device then control order
    unreachable: dict[str, str] = field(default_factory=dict)  # device key -> why not checked
    run: RunRecord | None = None  # the stored apply run (with yes)
    # each device's findings when the plan was made: the state of devices apply leaves alone
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    plan_sha256: str | None = None  # the saved plan written (--out) or followed (--plan)
    saved: SavedPlan | None = None  # the plan followed (--plan)
    # --plan: per device with changes to make, how its plan now differs (empty: it holds)
    differences: dict[str, list[str]] = field(default_factory=dict)

    @property
    def pending(self) -> list[PlannedChange]:
        return [c for c in self.changes if c.kind is ChangeKind.CHANGE]


def _deploys(platform: str) -> Any | None:
    name = DEPLOYS.get(platform)
    return importlib.import_module(name) if name else None


def only_controls(plans: list[DevicePlan], controls: Sequence[str] | None) -> list[DevicePlan]:
    if not controls:
        return plans
    wanted = set(controls)
    return [
        DevicePlan(p.ref, tuple(c for c in p.controls if c.control.id in wanted)) for p in plans
    ]


def _change(
    device_plan: DevicePlan, planned: PlannedControl, kind: ChangeKind, **values: Any
) -> PlannedChange:
    ref = device_plan.ref
    return PlannedChange(
        client=ref.client_name,
        site=ref.site_name,
        device=ref.name,
        platform=ref.platform,
        control=planned.control.id,
        policy=planned.policy,
        kind=kind,
        **values,
    )


def _remedies(
    device_plan: DevicePlan, result: Collected, findings: Sequence[Finding], now: datetime
) -> tuple[list[PlannedChange], list[tuple[str, Remedy]]]:
    """Manual and refused changes now, and the remedies to preview on the device."""
    deploys = _deploys(device_plan.ref.platform)
    remedies: dict[str, Any] = getattr(deploys, "REMEDIES", {})
    manual: dict[str, str] = getattr(deploys, "MANUAL", {})
    failing = {f.control for f in findings if f.status is Status.FAIL}
    context = RemedyContext(
        device=device_plan.ref.device,
        collected=result,
        ctx=EvalContext(now),
        params={p.control.id: p.params for p in device_plan.controls},
    )
    changes: list[PlannedChange] = []
    to_preview: list[tuple[str, Remedy]] = []
    for planned in device_plan.controls:
        cid = planned.control.id
        if cid not in failing:
            continue
        function = remedies.get(cid)
        facts = result.facts.get(planned.control.domain)
        remedy: Remedy | Manual | Refused | None = None
        if function is not None and facts is not None:
            remedy = function(facts, planned.params, context)
        if isinstance(remedy, Remedy):
            to_preview.append((cid, remedy))
        elif isinstance(remedy, Refused):
            changes.append(
                _change(device_plan, planned, ChangeKind.REFUSED, summary=remedy.summary,
                        reason=remedy.reason)
            )  # fmt: skip
        else:
            text = remedy.text if isinstance(remedy, Manual) else manual.get(cid, "")
            text = text or "no automatic remediation: see the finding's expected value"
            changes.append(_change(device_plan, planned, ChangeKind.MANUAL, reason=text))
    return changes, to_preview


def _preview_changes(
    work: DeviceWork, outcomes: list[RemedyOutcome] | DeviceError
) -> list[PlannedChange]:
    by_control = {p.control.id: p for p in work.plan.controls}
    changes: list[PlannedChange] = []
    for i, (cid, remedy) in enumerate(work.remedies):
        planned = by_control[cid]
        common = {"summary": remedy.summary, "before": remedy.before, "after": remedy.after}
        if isinstance(outcomes, DeviceError):
            reason = f"could not be planned: {describe_device_error(outcomes)}"
            changes.append(_change(work.plan, planned, ChangeKind.MANUAL, reason=reason, **common))
            continue
        outcome = outcomes[i]
        if outcome.refused:
            changes.append(
                _change(work.plan, planned, ChangeKind.REFUSED, reason=outcome.refused, **common)
            )
        elif outcome.blocked_by:
            # the cause is said once, on the control it happened to; this one points to it
            reason = f"not planned: it comes after {outcome.blocked_by}, which could not be planned"
            changes.append(_change(work.plan, planned, ChangeKind.MANUAL, reason=reason, **common))
        elif outcome.detail and not outcome.will_change:
            reason = f"could not be planned: {outcome.detail}"
            changes.append(_change(work.plan, planned, ChangeKind.MANUAL, reason=reason, **common))
        elif not outcome.will_change:
            # The control fails but the remedy finds nothing to change: saying "will fix"
            # would be a lie, so a technician has to look.
            reason = "the automatic remediation finds nothing to change on the device"
            changes.append(_change(work.plan, planned, ChangeKind.MANUAL, reason=reason, **common))
        else:
            changes.append(
                _change(work.plan, planned, ChangeKind.CHANGE, diff=remedy.diff,
                        steps=outcome.steps, **common)
            )  # fmt: skip
    return changes


def command_lines(commands: Sequence[str], indent: str = "") -> list[str]:
    """Commands as a transcript: ``$ `` starts each one, its further lines indented by two."""
    out: list[str] = []
    for command in commands:
        first, *rest = command.split("\n")
        out.append(f"{indent}$ {first}")
        out += [f"{indent}  {line}" for line in rest]
    return out


def _action(change: PlannedChange) -> str:
    lines = [change.summary] if change.summary else []
    for step in change.steps:
        lines.append(f"- {step.what}")
        lines += command_lines(step.commands, "    ")
    return "\n".join(lines)


def _ran(steps: Sequence[Step]) -> list[str]:
    return [c for s in steps for c in s.commands]


def apply(
    inputs: Inputs,
    store: Store,
    options: ApplyOptions,
    *,
    on_plan: Callable[[ApplyOutcome], None] | None = None,
    progress: ApplyProgress = UNHEARD,
) -> ApplyOutcome:
    """Plan (and with ``options.out`` save the plan); with ``options.yes`` apply, re-verify and
    store an APPLY run."""
    check_scope(options)
    if options.out is not None and not options.out.parent.is_dir():  # before any device is read
        raise InputError("no such folder to save the plan in", code="missing_file",
                         file=options.out.parent, key="--out")  # fmt: skip
    plans = only_controls(options.plans(inputs), options.controls)
    check_reached_directly(plans)
    if options.yes:
        check_change_control(plans, options)  # before any device is read
    collect_options = options.collect_options()
    made = make_plan(plans, inputs, collect_options, progress)
    outcome = made.outcome
    operator = options.operator or operator_name()
    if options.out is not None:
        saved = SavedPlan.of(
            inputs,
            [p.ref for p in plans],
            outcome.changes,
            outcome.unreachable,
            operator=operator,
            selectors=options.scope,
            controls=options.controls,
        )
        outcome.plan_sha256 = save_plan(saved, options.out)
    if on_plan:
        on_plan(outcome)
    if options.yes:
        outcome.run = execute_plan(
            inputs, store, made, collect_options, operator, options.scope, options=options,
            progress=progress,
        )  # fmt: skip
    return outcome


def check_scope(options: ApplyOptions, *, saved_plan: bool = False) -> None:
    """No change without someone having seen it or named what it is for (InputError).

    ``saved_plan``: the options go with ``--plan``, whose plan is the whole scope.
    """
    selectors = [f"--{k}" for k in options.scope] + ["--control"] * bool(options.controls)
    if saved_plan:
        given = selectors + ["--all"] * options.all_devices + ["--out"] * (options.out is not None)
        if given:
            raise InputError(f"the saved plan is the scope: --plan does not go with"
                             f" {', '.join(given)}", code="usage", key="--plan")  # fmt: skip
        return
    if options.out is not None and options.yes:
        raise InputError(_OUT_WITH_YES, code="usage", key="--out")
    if options.all_devices and selectors:
        raise InputError(f"it means every device of the inventory, so it does not go with"
                         f" {', '.join(selectors)}", code="usage", key="--all")  # fmt: skip
    if options.yes and not selectors and not options.all_devices:
        raise InputError(_UNSCOPED_YES, code="usage", key="--yes")


def check_reached_directly(plans: Sequence[DevicePlan]) -> None:
    """InputError when a selected device's site names a site collector: collectors only read
    (they send facts, never take changes), and reaching such a device from here would bypass
    the path its inventory declares."""
    bound = sorted({f"{p.ref.client_name}/{p.ref.site_name}" for p in plans if p.ref.collector})
    if bound:
        raise InputError(
            f"apply does not go through site collectors: site(s) {', '.join(bound)} name one."
            " Select other devices (--client/--site/--device), or apply from a machine inside"
            " the site with an inventory that reaches it directly",
            code="usage",
            key="--site",
        )


def check_change_control(plans: Sequence[DevicePlan], options: ApplyOptions) -> None:
    """InputError when a client in scope requires a ticket and approver for changes
    (``change_control: {require_ticket: true}``) and --ticket or --approved-by is missing."""
    if options.ticket and options.approved_by:
        return
    strict = sorted(
        {p.ref.client.name for p in plans if p.ref.client.change_control.require_ticket}
    )
    if strict:
        missing = " and ".join(
            name
            for name, given in (
                ("--ticket", options.ticket),
                ("--approved-by", options.approved_by),
            )
            if not given
        )
        raise InputError(
            f"client {', '.join(strict)} requires a change ticket and its approver for every"
            f" change (change_control.require_ticket in the inventory): give {missing}",
            code="usage",
            key="--ticket" if not options.ticket else "--approved-by",
        )


@dataclass
class MadePlan:
    """A plan as made: the devices, what is planned for them, and the remedies behind it."""

    plans: list[DevicePlan]
    outcome: ApplyOutcome
    work: dict[str, list[DeviceWork]]  # per platform


def make_plan(
    plans: list[DevicePlan],
    inputs: Inputs,
    collect_options: CollectOptions,
    progress: ApplyProgress = UNHEARD,
) -> MadePlan:
    """Collect, evaluate and plan ``plans``; each executor previews its remedies on the device."""
    now = datetime.now(UTC)
    outcome = ApplyOutcome(changes=[])
    work: dict[str, list[DeviceWork]] = {}
    progress.phase("checking", len(plans))
    for device_plan, result, findings in _checked(plans, inputs, collect_options):
        if requested() is not None:
            break
        ref = device_plan.ref
        outcome.findings[ref.key] = findings
        progress.device_done(ref.key, _not_passing(findings))
        if result is None:  # nothing its collector can answer: nothing to remedy either
            continue
        if not isinstance(result, Collected):
            outcome.unreachable[ref.key] = describe_device_error(result)
            continue
        changes, remedies = _remedies(device_plan, result, findings, now)
        outcome.changes += changes
        if remedies:
            work.setdefault(ref.platform, []).append(DeviceWork(device_plan, tuple(remedies)))
    by_key: dict[str, DeviceWork] = {w.plan.ref.key: w for ws in work.values() for w in ws}
    if by_key:
        progress.phase("planning", len(by_key))
    for platform, items in work.items():
        _stop_if_asked()
        executor: Executor = _deploys(platform).EXECUTOR  # type: ignore[union-attr]
        for key, previewed in executor.preview(items, collect_options):
            outcome.changes += _preview_changes(by_key[key], previewed)
            progress.device_done(key, 0)
    _stop_if_asked()  # a preview cut short is no plan to approve
    outcome.changes.sort(key=lambda c: (c.device_key, c.control))
    return MadePlan(plans, outcome, work)


def _not_passing(findings: Sequence[Finding]) -> int:
    return sum(f.status in (Status.FAIL, Status.ERROR) for f in findings)


def _stop_if_asked() -> None:
    signum = requested()
    if signum is not None:
        raise Interrupted(signum)


def _checked(
    plans: Sequence[DevicePlan], inputs: Inputs, options: CollectOptions
) -> Iterator[tuple[DevicePlan, Collected | DeviceError | None, list[Finding]]]:
    """Every device collected (platforms at once) and evaluated, waivers applied."""
    for device_plan, result, domains in collect_plans(plans, options):
        findings = evaluate_device(
            device_plan,
            result,
            collected_domains=domains,
            waivers=inputs.waivers,
            now=datetime.now(UTC),
        )
        yield device_plan, result, findings


def execute_plan(
    inputs: Inputs,
    store: Store,
    made: MadePlan,
    collect_options: CollectOptions,
    operator: str,
    scope: dict[str, str],
    *,
    options: ApplyOptions | None = None,
    progress: ApplyProgress = UNHEARD,
) -> RunRecord:
    plans, outcome, work = made.plans, made.outcome, made.work
    options = options or ApplyOptions()
    check_reached_directly(plans)
    check_change_control(plans, options)  # before the run starts: nothing has changed yet
    run_id = store.start_run(
        kind=RunKind.APPLY,
        operator=operator,
        operator_identity=options.operator_identity,
        tool_version=__version__,
        inventory_sha256=inputs.inventory.sha256,
        files=inputs.files(),
        scope=scope,
        devices_total=len(plans),
    )
    planned = {(c.device_key, c.control): c for c in outcome.changes}

    def record(
        change: PlannedChange, result: RemediationResult, detail: str = ""
    ) -> RemediationRecord:
        return RemediationRecord(
            client=change.client,
            site=change.site,
            device=change.device,
            platform=change.platform,
            control=change.control,
            policy=change.policy,
            result=result,
            before=change.before,
            action=_action(change) if change.kind is ChangeKind.CHANGE else change.reason,
            detail=detail,
            ticket=options.ticket,
            approved_by=options.approved_by,
        )

    # Stored as soon as known, so an interrupted apply still says what it did; each record's
    # verification comes from this run's re-check findings when the run is read back.
    store.add_remediations(
        run_id,
        [
            record(c, RemediationResult.REFUSED if c.kind is ChangeKind.REFUSED else
                   RemediationResult.MANUAL, c.reason)
            for c in outcome.changes
            if c.kind is not ChangeKind.CHANGE
        ],
    )  # fmt: skip
    touched: set[str] = set()  # devices some approved remedy was sent to
    changing = {w.plan.ref.key for ws in work.values() for w in ws for cid, _remedy in w.remedies
                if planned[(w.plan.ref.key, cid)].kind is ChangeKind.CHANGE}  # fmt: skip
    progress.phase("applying", len(changing))
    for platform, items in work.items():
        # Only the remedies the plan lists as changes run: what the technician approved.
        approved = [
            DeviceWork(
                w.plan,
                tuple(
                    (cid, r)
                    for cid, r in w.remedies
                    if planned[(w.plan.ref.key, cid)].kind is ChangeKind.CHANGE
                ),
            )
            for w in items
        ]
        approved = [w for w in approved if w.remedies]
        if requested() is not None:  # interrupted: what has not started does not start
            store.add_remediations(
                run_id,
                [
                    record(planned[(w.plan.ref.key, cid)], RemediationResult.NOT_RUN,
                           "not run: the apply was interrupted before it started")
                    for w in approved
                    for cid, _remedy in w.remedies
                ],
            )  # fmt: skip
            continue
        executor: Executor = _deploys(platform).EXECUTOR  # type: ignore[union-attr]
        by_key = {w.plan.ref.key: w for w in approved}
        touched.update(by_key)
        for key, ran in executor.execute(approved, collect_options):
            done: list[RemediationRecord] = []
            for i, (cid, _remedy) in enumerate(by_key[key].remedies):
                change = planned[(key, cid)]
                if isinstance(ran, DeviceError):
                    done.append(
                        record(change, RemediationResult.FAILED, describe_device_error(ran))
                    )
                    continue
                result = ran[i]
                detail = "\n".join(command_lines(_ran(result.steps)))
                if _ran(result.steps) != _ran(change.steps) and result.success is not None:
                    detail += "\n(the commands run differ from the plan's)"
                if result.success is None:
                    done.append(
                        record(change, RemediationResult.NOT_RUN, result.detail or "not run")
                    )
                elif result.success:
                    # what the device reported back (e.g. a fix script's before/after)
                    applied = f"{detail}\n{result.detail}".strip() if result.detail else detail
                    done.append(record(change, RemediationResult.APPLIED, applied))
                else:
                    failed = f"{result.detail}\n{detail}".strip()
                    done.append(record(change, RemediationResult.FAILED, failed))
            store.add_remediations(run_id, done)
            progress.device_done(key, sum(r.result is not RemediationResult.APPLIED for r in done))
    signum = requested()
    if signum is not None:
        # no re-check: the run stays incomplete, its remediations saying what ran
        raise Interrupted(signum, run_id, len(touched), len(plans))
    # The run's findings are the state after apply: devices something ran on are collected
    # again; the others have not changed since the plan was made seconds ago.
    for key, findings in outcome.findings.items():
        if key not in touched:
            store.add_findings(run_id, findings)
    rechecked = [p for p in plans if p.ref.key in touched]
    if rechecked:
        progress.phase("re-checking", len(rechecked))
    for plan_, _result, findings in _checked(rechecked, inputs, collect_options):
        store.add_findings(run_id, findings)
        progress.device_done(plan_.ref.key, _not_passing(findings))
    store.finish_run(run_id)
    return store.get_run(run_id)


def exit_status_of(outcome: ApplyOutcome) -> int:
    """README's exit codes for apply: 3 when a device could not be read; else 1 when anything
    is left to do or was not done — with ``yes`` a change not applied (failed, refused,
    not_run, manual) or not verified by the re-check, or a control still failing; without it a
    change pending, manual work, a refusal, a saved plan that no longer holds, or a control
    failing; else 0 (nothing failing, nothing left to change)."""
    if outcome.run is not None:
        code = exit_status(outcome.run)
        if code == ExitCode.COMPLIANT and any(
            r.result is not RemediationResult.APPLIED or r.verification is not Status.PASS
            for r in outcome.run.remediations
        ):
            return ExitCode.DRIFT
        return code
    findings = [f for found in outcome.findings.values() for f in found]
    if outcome.unreachable or any(f.unreadable for f in findings):
        return ExitCode.DEVICE_ERROR
    if outcome.changes or any(outcome.differences.values()) or _not_passing(findings):
        return ExitCode.DRIFT
    return ExitCode.COMPLIANT
