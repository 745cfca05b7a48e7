"""The lab's answer to the updates-install fix: by UpdateID, and failing as the script fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from baluarte.lab.windows import WindowsState, load_state
from baluarte.lab.windows.engine import Handler, ScriptCall, ScriptResult
from baluarte.lab.windows.remediations import FIX_HANDLERS, FIX_MARKER, updates_install
from baluarte.lab.windows.shipped import shipped_state
from deploys.windows.fixes import fix_script, invocation

CU = "8f6a3c52-1b7e-4d0a-9c31-5e2f7a9b4d01"  # office-pc's pending KB5070001
NET = "2c41e9d7-6a58-4f3b-b0e2-93d1c7a5f612"  # and KB5070012
HANDLER = FIX_HANDLERS[f"{FIX_MARKER}updates-install\n"]


def run(
    ids: list[str], handler: Handler = HANDLER, state: WindowsState | None = None
) -> tuple[ScriptResult, dict[str, Any]]:
    script = invocation(fix_script("updates-install"), {"UpdateIds": ids, "TimeoutSeconds": 60})
    host = state or load_state(shipped_state("office-pc"))
    call = ScriptCall(script=script, state=host, now=datetime.now(UTC))
    result = handler(call)
    return result, json.loads(result.output[0]) if result.output else {}


def pending(result: ScriptResult) -> list[str]:
    assert result.state is not None
    updates = result.state.output["checks"]["updates.pending"]["data"]["Updates"]
    return [u["UpdateID"] for u in updates]


def test_installs_exactly_the_update_ids_asked_for() -> None:
    result, answer = run([CU, NET.upper()])
    assert "error" not in answer and answer["changed"] is True
    assert answer["after"]["installed"] == [CU, NET] and answer["after"]["notFound"] == []
    assert CU not in pending(result) and NET not in pending(result)
    assert result.state is not None
    installed = result.state.output["checks"]["updates.installed"]["data"]
    assert [h["UpdateID"] for h in installed["History"][:2]] == [CU, NET]


def test_an_update_no_longer_offered_is_an_error_though_the_others_install() -> None:
    result, answer = run([CU, NET], updates_install(gone=[NET]))
    assert answer["after"]["notFound"] == [NET] and answer["after"]["installed"] == [CU]
    assert answer["error"].startswith("1 of 2 updates not found by Windows Update")
    assert NET in answer["error"] and NET in pending(result) and CU not in pending(result)


def test_an_update_installed_since_the_check_counts_as_done() -> None:
    first, _ = run([CU])  # another fix of the same run installed it
    _result, answer = run([CU, NET], state=first.state)
    assert "error" not in answer, answer
    assert answer["after"]["alreadyInstalled"] == [CU] and answer["after"]["installed"] == [NET]


def test_fewer_installed_than_asked_is_an_error() -> None:
    _result, answer = run([CU, NET], updates_install(failing=[NET]))
    assert answer["after"]["installed"] == [CU] and answer["after"]["notFound"] == []
    assert answer["after"]["resultCode"] == 3
    assert answer["error"].startswith("1 of 2 updates installed")
    assert f"{NET} (ResultCode 4)" in answer["error"]


def test_titles_or_anything_but_guids_are_refused() -> None:
    result, _ = run(["2026-11 Cumulative Update for Windows 11 (KB5070001)"])
    assert result.terminating_error is not None
    assert "not a Windows Update ID (GUID)" in result.terminating_error
