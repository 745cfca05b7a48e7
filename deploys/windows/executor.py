"""Windows remedies over WinRM: the plan shows each fix script's text, apply runs that text.

Preview needs no round trip: a fix script checks and changes in one go, so the plan lists the
call apply will make, as PowerShell text (``fixes.invocation``). Execute opens one shell per
device and runs one pipeline per remedy in it, in order, the script with its parameters bound
as typed PSRP parameters; a remedy's one JSON answer decides success, and a
failure stops the device's later remedies (``success=None``). Devices run side by side.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any

from baluarte.apply import DeviceWork, RemedyOutcome
from baluarte.collected import CollectOptions
from baluarte.errors import DeviceError, InputError
from baluarte.evaluate import describe_device_error
from baluarte.remediation import Remedy, Step
from baluarte.transports.winrm import ScriptAnswer, WinrmClient
from checks.device_errors import plain_device_error, settings_error
from checks.windows.collector import target_for
from deploys.windows.fixes import fix_id, remedy_text

__all__ = ["EXECUTOR", "WindowsExecutor", "judge"]

log = logging.getLogger(__name__)
_NOT_RUN = "not run: an earlier remedy on this device failed"


def _step(remedy: Remedy) -> Step:
    return Step(
        what=f"run fix {fix_id(remedy.script)}: {remedy.summary}", commands=(remedy_text(remedy),)
    )


def judge(answer: ScriptAnswer) -> tuple[bool, str]:
    """(success, what to record) from one fix script's answer."""
    if answer.terminating is not None:
        return False, f"the fix script stopped with an error: {answer.terminating}"
    if len(answer.output) != 1:
        errors = f"; errors: {' | '.join(answer.errors[:3])}" if answer.errors else ""
        return False, f"{len(answer.output)} output objects, one JSON answer expected{errors}"
    try:
        result: Any = json.loads(answer.output[0])
    except ValueError:
        return False, f"the fix script's answer is not JSON: {answer.output[0][:200]!r}"
    if not isinstance(result, dict) or "changed" not in result:
        return False, "the fix script's answer has no changed field"
    if result.get("error"):
        return False, str(result["error"])
    said = [f"changed {str(bool(result['changed'])).lower()}"]
    said.append(f"before {json.dumps(result.get('before'), sort_keys=True)}")
    said.append(f"after {json.dumps(result.get('after'), sort_keys=True)}")
    if result.get("rebootRequired"):
        said.append("a reboot is needed to complete it")
    return True, "; ".join(said)


def _deadline(work: DeviceWork, options: CollectOptions) -> float:
    """The WinRM deadline for all of a device's fixes (they share one shell): the collection's,
    plus the time a fix that waits (Windows Update) may take."""
    waits = [float(r.parameters.get("TimeoutSeconds", 0)) for _cid, r in work.remedies]
    return options.command_timeout + sum(w + 120 for w in waits if w)


class WindowsExecutor:
    def preview(
        self, work: Sequence[DeviceWork], options: CollectOptions
    ) -> Iterator[tuple[str, list[RemedyOutcome] | DeviceError]]:
        for item in work:
            outcomes = [RemedyOutcome(cid, True, (_step(r),)) for cid, r in item.remedies]
            yield item.plan.ref.key, outcomes

    def execute(
        self, work: Sequence[DeviceWork], options: CollectOptions
    ) -> Iterator[tuple[str, list[RemedyOutcome] | DeviceError]]:
        if not work:
            return
        pool = ThreadPoolExecutor(max_workers=max(1, options.parallel), thread_name_prefix="winrm")
        try:
            running: dict[Future[list[RemedyOutcome] | DeviceError], str] = {
                pool.submit(_device, item, options): item.plan.ref.key for item in work
            }
            for done in as_completed(running):
                yield running[done], done.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _device(item: DeviceWork, options: CollectOptions) -> list[RemedyOutcome] | DeviceError:
    """Every remedy of one device, in order, until one fails. Never raises."""
    try:
        client = WinrmClient(target_for(item.plan.ref.device, timeout=_deadline(item, options)))
    except InputError as exc:  # a secret that cannot be read, clear text refused
        return settings_error(exc)
    steps = [_step(remedy) for _cid, remedy in item.remedies]
    # One shell for all of the device's fixes; a fix's script runs only when its answer is
    # asked for, so after a failure the rest never run.
    # each script with its parameters bound as typed PSRP parameters; the plan shows the same
    # call as PowerShell text (fixes.invocation)
    answers = client.run_scripts((r.script, r.parameters) for _cid, r in item.remedies)
    out: list[RemedyOutcome] = []
    failed = False
    try:
        for (cid, _remedy), step in zip(item.remedies, steps, strict=True):
            if failed:
                out.append(RemedyOutcome(cid, True, (step,), success=None, detail=_NOT_RUN))
                continue
            try:
                ok, detail = judge(next(answers))
            except DeviceError as exc:
                ok, detail = False, describe_device_error(plain_device_error(exc))
            except InputError as exc:  # e.g. a CA bundle that cannot be read
                ok, detail = False, exc.message
            except Exception as exc:  # a bug of ours must not cost the other devices their run
                log.exception("fix %s on %s failed", cid, item.plan.ref.key)
                ok, detail = False, f"internal error: {type(exc).__name__}: {exc}"
            out.append(RemedyOutcome(cid, True, (step,), success=ok, detail=detail))
            failed = not ok
    finally:
        answers.close()  # deletes the shell
    return out


EXECUTOR = WindowsExecutor()
