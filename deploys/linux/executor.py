"""Linux remedies through the SSH worker: a pyinfra dry run to plan, the same operations to apply.

Each device's remedies become one list of pyinfra operations (``OpSpec``), previewed in one
connection (``execute=False``: pyinfra works out what would change and the exact commands,
nothing runs) and later applied in one connection. Outcomes map back to remedies by position.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from baluarte.apply import DeviceWork, RemedyOutcome
from baluarte.collected import CollectOptions
from baluarte.errors import DeviceError, InputError
from baluarte.remediation import Step
from baluarte.transports.ssh import DeployAnswer, DeployJob, OpOutcome, run_deploys
from checks.linux.collector import target_for, to_device_error

__all__ = ["EXECUTOR", "LinuxExecutor"]

# What the SSH worker answers for every operation after one that could not be planned
# (baluarte/transports/ssh_deploy.py): not a cause of its own.
_AFTER_FAILURE = "not planned: an earlier operation could not be planned"


class LinuxExecutor:
    def preview(
        self, work: Sequence[DeviceWork], options: CollectOptions
    ) -> Iterator[tuple[str, list[RemedyOutcome] | DeviceError]]:
        return self._run(work, options, execute=False)

    def execute(
        self, work: Sequence[DeviceWork], options: CollectOptions
    ) -> Iterator[tuple[str, list[RemedyOutcome] | DeviceError]]:
        return self._run(work, options, execute=True)

    def _run(
        self, work: Sequence[DeviceWork], options: CollectOptions, *, execute: bool
    ) -> Iterator[tuple[str, list[RemedyOutcome] | DeviceError]]:
        jobs: list[DeployJob] = []
        by_key: dict[str, DeviceWork] = {}
        for item in work:
            ref = item.plan.ref
            try:
                target = target_for(ref)
            except InputError as exc:  # a secret reference that cannot be read
                yield ref.key, DeviceError(f"credentials unavailable: {exc.message}")
                continue
            ops = tuple(op for _cid, remedy in item.remedies for op in remedy.ops)
            jobs.append(DeployJob(target=target, ops=ops, execute=execute))
            by_key[ref.key] = item
        answers = run_deploys(
            jobs, parallel=options.parallel, command_timeout=options.command_timeout
        )
        for answer in answers:
            yield answer.id, _outcomes(by_key[answer.id], answer, execute=execute)


def _outcomes(
    item: DeviceWork, answer: DeployAnswer, *, execute: bool
) -> list[RemedyOutcome] | DeviceError:
    if answer.failure is not None and not answer.ops:
        return to_device_error(answer.failure, answer.reason or "unknown failure")
    ops = list(answer.ops)
    out: list[RemedyOutcome] = []
    failed = ""  # the first control with a step that could not be planned
    for cid, remedy in item.remedies:
        mine, ops = ops[: len(remedy.ops)], ops[len(remedy.ops) :]
        missing = len(remedy.ops) - len(mine)
        out.append(_remedy_outcome(cid, mine, execute=execute, missing=missing, after=failed))
        if not execute and not failed and _causes(mine):
            failed = cid
    return out


def _causes(ops: list[OpOutcome]) -> list[str]:
    """Why steps could not be planned, each named; not the steps only planned after them."""
    return [f"{o.name}: {o.error}" for o in ops if o.error and o.error != _AFTER_FAILURE]


def _remedy_outcome(
    control: str, ops: list[OpOutcome], *, execute: bool, missing: int, after: str = ""
) -> RemedyOutcome:
    if execute:
        steps = tuple(Step(what=o.name, commands=o.commands) for o in ops if o.commands)
        failed = [o for o in ops if o.success is False]
        if failed:
            first = failed[0]
            detail = f"{first.name} failed: {first.error or ''} {first.stderr}".strip()
            return RemedyOutcome(control, True, steps, success=False, detail=detail)
        if missing or any(o.success is None for o in ops):
            # an interrupt says so on the op; otherwise an earlier step failed
            why = next((o.error for o in ops if o.success is None and o.error), None)
            detail = why or "not run: an earlier step failed"
            return RemedyOutcome(control, True, steps, success=None, detail=detail)
        return RemedyOutcome(control, True, steps, success=True)
    if causes := _causes(ops):
        return RemedyOutcome(control, False, (), detail="; ".join(causes))
    unplanned = missing or any(o.error for o in ops)
    if unplanned and after:
        # planning stopped at an earlier control's step: that control says why, once
        return RemedyOutcome(control, False, (), blocked_by=after)
    if unplanned:
        problems = [f"{o.name}: {o.error}" for o in ops if o.error]
        detail = "; ".join(problems) or "the device did not plan every step"
        return RemedyOutcome(control, False, (), detail=detail)
    steps = tuple(Step(what=o.name, commands=o.commands) for o in ops if o.will_change)
    return RemedyOutcome(control, bool(steps), steps)


EXECUTOR = LinuxExecutor()
