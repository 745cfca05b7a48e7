"""End to end through the CLI: `baluarte apply` on the Windows lab server (office-pc state).

The lab runs in this process (NTLM over HTTP, message encryption); `baluarte` runs as a
subprocess with the real pypsrp client. The lab answers Baluarte's fix scripts like a host
would and changes its state, so the re-verification sees what the fixes did. The plan changes
nothing; apply runs exactly the planned scripts; a second apply has nothing to do; the WinRM
guard refuses the firewall change on a host whose rules do not keep WinRM reachable; a fix
that fails is recorded failed and stops the device's later fixes.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from baluarte.lab.windows import Fault, WindowsLab, load_state
from baluarte.lab.windows.remediations import FIX_MARKER, updates_install
from baluarte.lab.windows.shipped import shipped_state
from checks.windows.document import MARKER
from deploys.windows.fixes import invocation
from tests.integration.cli import CANARY, assert_no_canary, baluarte
from tests.integration.test_apply_linux import changes, transcript
from tests.integration.test_check_windows import USER, winrm_settings, write_inputs
from tests.unit.windows._states import firewall_rule

FIXED = {
    "patching.security_updates_pending",
    "patching.updates_pending",
    "firewall.enabled",
    "firewall.default_inbound_deny",
    "endpoint.realtime_protection",
    "endpoint.signatures_current",
    "access.insecure_admin_protocols",
}
FIREWALL = {"firewall.enabled", "firewall.default_inbound_deny"}


def office(
    lab: WindowsLab,
    *,
    baluarte_rule: bool,
    shipped_winrm_rule: bool = True,
    program: str = "System",
) -> None:
    """office-pc, optionally with a rule letting Baluarte's WinRM in (the lab's port, loopback),
    reached on its Private network: the lab's firewall judges every new connection."""
    state = copy.deepcopy(shipped_state("office-pc"))
    rules = state["output"]["checks"]["firewall.rules"]["data"]["Rules"]
    if not shipped_winrm_rule:
        rules[:] = [r for r in rules if not r["Name"].startswith("WINRM")]
    if baluarte_rule:
        rules.append(firewall_rule(lab.port, "127.0.0.1", Program=program))
    lab.state = load_state(state)
    lab.network_profile = "Private"


@pytest.fixture
def win(tmp_path: Path) -> Iterator[WindowsLab]:
    with WindowsLab(shipped_state("office-pc"), users={USER: CANARY}, auth="ntlm") as server:
        write_inputs(tmp_path, {"pc1": (server, winrm_settings(server, "ntlm-http"))})
        yield server
        assert server.internal_errors == []


def apply(tmp: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = baluarte(tmp, "apply", "--format", "json", *args)
    assert_no_canary(result.stdout, result.stderr)
    return result, json.loads(result.stdout)


def fixes(lab: WindowsLab) -> list[str]:
    """Each fix the lab ran, as the plan shows it: the script with the PSRP parameters it got
    (the text carries none: they travel typed, beside it)."""
    ran = zip(lab.scripts, lab.parameters, strict=True)
    calls = [(script, params) for script, params in ran if script.startswith(FIX_MARKER)]
    assert all("$baluarteParameters" not in script for script, _ in calls)
    return [invocation(script, params) for script, params in calls]


def check_data(lab: WindowsLab, check: str) -> Any:
    return lab.state.output["checks"][check]["data"]


def test_plan_changes_nothing_then_apply_fixes_verifies_and_records(
    tmp_path: Path, win: WindowsLab
) -> None:
    office(win, baluarte_rule=True)
    planned, plan = apply(tmp_path)
    assert planned.returncode == 1, planned.stderr
    pending = changes(plan, "change")
    assert set(pending) == FIXED, plan["plan"]
    assert plan["run"] is None
    manual = changes(plan, "manual")
    assert (
        "endpoint.disk_encryption" in manual
        and "BitLocker" in manual["endpoint.disk_encryption"]["reason"]
    )
    # Planning ran only the check script: nothing changed on the host.
    assert [s.splitlines()[0] for s in win.scripts] == [MARKER]
    assert check_data(win, "defender.status")["RealTimeProtectionEnabled"] is False

    applied, doc = apply(tmp_path, "--yes", "--all")
    assert applied.returncode == 1, applied.stderr  # manual controls (BitLocker, Veeam…) still fail
    run = doc["run"]
    records = {r["control"]: r for r in run["remediations"]}
    assert {c for c, r in records.items() if r["result"] == "applied"} == FIXED
    assert {records[c]["verification"] for c in FIXED} == {"pass"}
    # Honest plan: every record ran exactly its planned script, and the lab saw exactly those.
    listed = []
    for control in FIXED:
        commands = [c for step in pending[control]["steps"] for c in step["commands"]]
        assert transcript(records[control]["detail"]) == commands, control
        listed += commands
    assert sorted(fixes(win)) == sorted(listed)
    # typed on the wire: the update fixes' IDs arrive lists of text, their time limit a number
    updates = [p for p in win.parameters if "UpdateIds" in p]
    assert updates
    for update in updates:
        assert isinstance(update["UpdateIds"], list) and update["UpdateIds"]
        assert all(isinstance(i, str) for i in update["UpdateIds"])
        assert type(update["TimeoutSeconds"]) is int
    assert [s.splitlines()[0] for s in win.scripts].count(MARKER) == 3  # plan, apply, verify
    # One shell per check, and ONE for all the fixes (one connection, one authentication).
    assert [r.action for r in win.requests].count("Create") == 3 + 1
    # The lab host changed as the fixes say.
    assert check_data(win, "defender.status")["RealTimeProtectionEnabled"] is True
    profiles = {p["Name"]: p for p in check_data(win, "firewall.profiles")}
    assert profiles["Public"]["Enabled"] == "True"
    assert profiles["Private"]["DefaultInboundAction"] == "Block"
    assert check_data(win, "updates.pending")["PendingCount"] == 0
    assert win.refused_connections == []  # the rule let every later connection in
    assert check_data(win, "smb1")["ServerEnableSMB1Protocol"] is False

    again, second = apply(tmp_path)
    assert not set(changes(second, "change")) & FIXED, second["plan"]
    assert changes(second, "manual")  # BitLocker, Veeam…: a technician's work is left
    assert again.returncode == 1
    assert len(fixes(win)) == len(listed)


def test_winrm_guard_refuses_the_firewall_change_and_nothing_runs_for_it(
    tmp_path: Path, win: WindowsLab
) -> None:
    office(win, baluarte_rule=False, shipped_winrm_rule=False)
    _result, doc = apply(tmp_path, "--yes", *(f"--control={c}" for c in sorted(FIREWALL)))
    refused = changes(doc, "refused")
    assert set(refused) == FIREWALL
    assert all("lock Baluarte out" in c["reason"] for c in refused.values())
    records = {r["control"]: r for r in doc["run"]["remediations"]}
    assert {r["result"] for r in records.values()} == {"refused"}
    assert fixes(win) == []
    assert check_data(win, "firewall.profiles")[2]["Enabled"] == "False"


def test_winrm_guard_refuses_a_program_scoped_rule_that_would_not_let_winrm_in(
    tmp_path: Path, win: WindowsLab
) -> None:
    # the right port and address, but scoped to one program (as an "Allow access" click is)
    teams = r"C:\Users\ana\AppData\Local\Microsoft\Teams\current\Teams.exe"
    office(win, baluarte_rule=True, shipped_winrm_rule=False, program=teams)
    _result, doc = apply(tmp_path, "--yes", *(f"--control={c}" for c in sorted(FIREWALL)))
    refused = changes(doc, "refused")
    assert set(refused) == FIREWALL
    assert all(f"program {teams} (WinRM is System)" in c["reason"] for c in refused.values())
    assert fixes(win) == []
    assert check_data(win, "firewall.profiles")[1]["DefaultInboundAction"] == "Allow"
    assert win.refused_connections == []


def test_a_failing_fix_is_recorded_failed_and_stops_the_later_ones(
    tmp_path: Path, win: WindowsLab
) -> None:
    office(win, baluarte_rule=True)
    message = "Set-MpPreference: Operation failed with 0x800106ba"
    win.faults.add(
        Fault("ps_terminating", script=f"{FIX_MARKER}defender-realtime", message=message)
    )
    controls = ["endpoint.realtime_protection", "endpoint.signatures_current"]
    result, doc = apply(tmp_path, "--yes", *(f"--control={c}" for c in controls))
    records = {r["control"]: r for r in doc["run"]["remediations"]}
    first = records["endpoint.realtime_protection"]
    assert first["result"] == "failed" and message in first["detail"]
    assert first["verification"] == "fail"
    assert records["endpoint.signatures_current"]["result"] == "not_run"
    assert result.returncode == 1
    # The failed fix changed nothing; the stopped one never reached the host.
    assert check_data(win, "defender.status")["RealTimeProtectionEnabled"] is False
    assert [fix_line(s) for s in fixes(win)] == ["defender-realtime"]


def fix_line(script: str) -> str:
    return script.splitlines()[0].removeprefix(FIX_MARKER)


NET_UPDATE = "2c41e9d7-6a58-4f3b-b0e2-93d1c7a5f612"  # office-pc's pending KB5070012


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ({"gone": [NET_UPDATE]}, "1 of 2 updates not found by Windows Update"),
        ({"failing": [NET_UPDATE]}, "1 of 2 updates installed"),
    ],
    ids=["superseded-since-the-check", "installation-fails"],
)
def test_an_update_fix_that_installs_less_than_planned_is_recorded_failed(
    tmp_path: Path, win: WindowsLab, host: dict[str, list[str]], message: str
) -> None:
    office(win, baluarte_rule=True)
    win.handlers[f"{FIX_MARKER}updates-install\n"] = updates_install(**host)
    result, doc = apply(tmp_path, "--yes", "--control=patching.security_updates_pending")
    [record] = doc["run"]["remediations"]
    assert record["result"] == "failed", record
    assert message in record["detail"] and NET_UPDATE in record["detail"]
    assert record["verification"] == "fail"  # KB5070012 is still pending
    assert result.returncode == 1
    pending = [u["UpdateID"] for u in check_data(win, "updates.pending")["Updates"]]
    assert NET_UPDATE in pending
