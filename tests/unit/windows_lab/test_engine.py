"""The lab's script answers: the check script by marker, handlers, faults, "not recognized"."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from baluarte.lab.windows import Fault, ScriptCall, ScriptResult, load_state
from baluarte.lab.windows.engine import DEFAULT_HANDLERS, apply_faults, run_script
from baluarte.lab.windows.faults import Faults
from checks.windows.document import MARKER
from tests.unit.windows_lab.sample_state import sample_state


def _call(script: str) -> ScriptCall:
    return ScriptCall(script=script, state=load_state(sample_state()), now=datetime.now(UTC))


def test_check_script_answers_one_json_document() -> None:
    result = run_script(_call(MARKER + "\n$ErrorActionPreference = 'Stop'"), DEFAULT_HANDLERS)
    assert result.terminating_error is None
    assert len(result.output) == 1
    assert json.loads(result.output[0])["host"]["ComputerName"] == "PC-PRUEBA"


def test_other_scripts_are_not_recognized_by_first_command() -> None:
    result = run_script(_call("# comment\nGet-Foo -Bar 1 | Out-String"), DEFAULT_HANDLERS)
    assert result.output == ()
    assert result.terminating_error is not None
    assert result.terminating_error.startswith("The term 'Get-Foo' is not recognized")
    assert result.error_id == "CommandNotFoundException"


def test_longest_registered_marker_wins() -> None:
    handlers = {
        **DEFAULT_HANDLERS,
        "# fix": lambda call: ScriptResult(output=("short",)),
        "# fix smb1": lambda call: ScriptResult(output=("long",)),
    }
    assert run_script(_call("# fix smb1\n..."), handlers).output == ("long",)
    assert run_script(_call("# fix rdp\n..."), handlers).output == ("short",)


def test_pipeline_faults_change_the_answer_and_are_used_up() -> None:
    faults = Faults()
    faults.add(Fault("ps_error", message="half broken"))
    faults.add(Fault("slow", polls=2))
    base = ScriptResult(output=("{}",))
    result, polls = apply_faults(base, faults.take_script(MARKER + "\n"))
    assert (result.output, result.errors, polls) == (("{}",), ("half broken",), 2)
    assert apply_faults(base, faults.take_script(MARKER)) == (base, 0)


def test_pipeline_faults_only_hit_their_script_and_request_faults_their_action() -> None:
    faults = Faults()
    faults.add(Fault("ps_terminating", times=None))
    faults.add(Fault("wsman_fault", action="Command", times=None))
    assert faults.take_script("Get-Date") == []
    assert [f.kind for f in faults.take_script(MARKER)] == ["ps_terminating"]
    assert faults.take_request("Receive") == (0.0, None)
    assert faults.take_request("Command")[1] is not None
