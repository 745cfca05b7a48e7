"""The lab's "PowerShell engine": it never runs PowerShell, it recognises scripts by marker.

A script starting with ``checks.windows.document.MARKER`` is Baluarte's check script: its
answer is ONE output object, the JSON text of the state's document (timestamps shifted to
lab time unless frozen). Other markers can be registered (Baluarte's fix scripts are, by default:
``remediations.FIX_HANDLERS``):

    win.handlers["# baluarte-windows-fix smb1"] = lambda call: ScriptResult(output=["{...}"])

Anything else fails like an unknown command does on Windows: a terminating
CommandNotFoundException, "The term '…' is not recognized …", PipelineState Failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from baluarte.lab.windows.faults import Fault
from baluarte.lab.windows.state import WindowsState, document_text
from checks.windows.document import MARKER

__all__ = [
    "DEFAULT_HANDLERS",
    "Handler",
    "ScriptCall",
    "ScriptResult",
    "apply_faults",
    "check_script",
    "not_recognized",
    "run_script",
]


@dataclass(frozen=True)
class ScriptCall:
    """One pipeline to answer: the script text, its pipeline input, the host it runs on."""

    script: str
    state: WindowsState
    now: datetime
    freeze_time: bool = False
    input: tuple[Any, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)  # bound as PSRP parameters


@dataclass(frozen=True)
class ScriptResult:
    """What the pipeline emits: output objects, non-terminating errors, warnings, then its end.

    ``terminating_error`` set: the pipeline ends Failed with that message (``error_id`` and
    ``category`` fill the ErrorRecord); otherwise it ends Completed.
    """

    output: tuple[Any, ...] = ()
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    terminating_error: str | None = None
    error_id: str = "RuntimeException"
    category: str = "NotSpecified"  # an ErrorCategory name
    exception_type: str = "System.Management.Automation.RuntimeException"
    # the host after the script (a fix changed it): served from then on, unless a fault hit
    state: WindowsState | None = None


Handler = Callable[[ScriptCall], ScriptResult]


def check_script(call: ScriptCall) -> ScriptResult:
    """Baluarte's check script: the recorded document as one JSON string."""
    return ScriptResult(output=(document_text(call.state, call.now, call.freeze_time),))


DEFAULT_HANDLERS: Mapping[str, Handler] = {MARKER: check_script}

_FIRST_WORD = re.compile(r"[^\s;|&(){}]+")


def not_recognized(script: str) -> ScriptResult:
    """What Windows PowerShell says for a command it does not have."""
    lines = [line for line in script.splitlines() if line.strip() and line.lstrip()[:1] != "#"]
    match = _FIRST_WORD.search(lines[0]) if lines else None
    name = match.group(0) if match else script.strip()[:40]
    return ScriptResult(
        terminating_error=(
            f"The term '{name}' is not recognized as the name of a cmdlet, function, script "
            "file, or operable program. Check the spelling of the name, or if a path was "
            "included, verify that the path is correct and try again."
        ),
        error_id="CommandNotFoundException",
        category="ObjectNotFound",
        exception_type="System.Management.Automation.CommandNotFoundException",
    )


def run_script(call: ScriptCall, handlers: Mapping[str, Handler]) -> ScriptResult:
    """The handler of the longest marker the script starts with, else "not recognized"."""
    text = call.script.lstrip()
    for marker in sorted(handlers, key=len, reverse=True):
        if text.startswith(marker):
            return handlers[marker](call)
    return not_recognized(call.script)


def apply_faults(result: ScriptResult, faults: list[Fault]) -> tuple[ScriptResult, int]:
    """The result as the armed pipeline faults change it, and how many polls to stall first."""
    polls = 0
    for fault in faults:
        if fault.kind == "slow":
            polls += max(fault.polls, 0)
        elif fault.kind == "ps_terminating":
            result = ScriptResult(terminating_error=fault.message)
        elif fault.kind == "ps_error":
            result = replace(result, errors=(*result.errors, fault.message))
        elif fault.kind == "bad_output":
            result = replace(result, output=(fault.message,))
    return result, polls
