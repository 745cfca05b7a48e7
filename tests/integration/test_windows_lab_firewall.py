"""The Windows lab's firewall, through the real pypsrp client: the firewall fix's host guard, and
a lockout that cuts the next WinRM connection when inbound Block is forced past the guard.

The lab host is office-pc reached on its Private network (inbound Allow, so anything gets in
until the fix turns it to Block); Baluarte is 127.0.0.1 on the lab's port.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from baluarte.lab.windows import WindowsLab, load_state
from baluarte.lab.windows.shipped import shipped_state
from checks.windows.document import MARKER
from deploys.windows.fixes import fix_script, invocation
from tests.unit.windows._states import firewall_rule

CANARY = "canary-Fw3kP9-do-not-leak"
TEAMS = r"C:\Users\ana\AppData\Local\Microsoft\Teams\current\Teams.exe"


def rule(lab: WindowsLab, **over: Any) -> dict[str, Any]:
    """A rule letting WinRM in from 127.0.0.1 on the lab's port, unless ``over`` says otherwise."""
    return firewall_rule(lab.port, "127.0.0.1", **over)


def set_host(lab: WindowsLab, rules: list[dict[str, Any]], private: str = "Allow") -> None:
    """office-pc with only ``rules`` for WinRM, and the Private profile's inbound default."""
    state = copy.deepcopy(shipped_state("office-pc"))
    data = state["output"]["checks"]["firewall.rules"]["data"]
    data["Rules"] = [r for r in data["Rules"] if not r["Name"].startswith("WINRM")] + rules
    for row in state["output"]["checks"]["firewall.profiles"]["data"]:
        if row["Name"] == "Private":
            row["DefaultInboundAction"] = private
    lab.state = load_state(state)


@pytest.fixture
def win() -> Iterator[WindowsLab]:
    with WindowsLab(
        shipped_state("office-pc"),
        users={"baluarte": CANARY},
        auth="ntlm",
        network_profile="Private",
    ) as lab:
        yield lab
    assert lab.internal_errors == []


def run(lab: WindowsLab, script: str) -> list[Any]:
    """One script on a new connection (a new TCP connection: the firewall judges it)."""
    with (
        WSMan(
            lab.host, port=lab.port, username="baluarte", password=CANARY, auth="ntlm",
            ssl=False, no_proxy=True, operation_timeout=5, read_timeout=10, connection_timeout=5,
        ) as conn,
        RunspacePool(conn) as pool,
    ):  # fmt: skip
        ps = PowerShell(pool)
        ps.add_script(script)
        ps.invoke()
        assert not ps.had_errors, ps.streams.error
        return list(ps.output)


def fix(lab: WindowsLab) -> dict[str, Any]:
    params = {
        "Profiles": ["Private", "Public"],
        "WinrmPort": lab.port,
        "BaluarteAddress": "127.0.0.1",
    }
    [answer] = run(lab, invocation(fix_script("firewall-profiles"), params))
    result: dict[str, Any] = json.loads(answer)
    return result


def profiles(lab: WindowsLab) -> dict[str, tuple[str, str]]:
    rows = lab.state.output["checks"]["firewall.profiles"]["data"]
    return {r["Name"]: (r["Enabled"], r["DefaultInboundAction"]) for r in rows}


@pytest.mark.parametrize("program", ["System", "Any"])
def test_a_rule_that_admits_winrm_lets_the_fix_apply_and_baluarte_back_in(
    win: WindowsLab, program: str
) -> None:
    set_host(win, [rule(win, Program=program)])
    answer = fix(win)
    assert answer["changed"] is True and "error" not in answer, answer
    assert answer["winrmRules"] == ["WinRM from the provider (Baluarte)"]
    assert profiles(win)["Private"] == ("True", "Block")
    # the next connection goes through the firewall now filtering: the rule lets it in
    [document] = run(win, MARKER + "\n")
    assert json.loads(document)["checks"]["firewall.profiles"]["ok"] is True
    assert win.refused_connections == []


@pytest.mark.parametrize(
    "over",
    [
        {"Program": TEAMS, "LocalPort": ["Any"], "RemoteAddress": ["Any"]},
        {"RemoteAddress": ["Intranet"]},
    ],
    ids=["program-scoped-tcp-any", "remote-address-intranet"],
)
def test_the_host_guard_refuses_a_rule_that_does_not_prove_winrm_gets_in(
    win: WindowsLab, over: dict[str, Any]
) -> None:
    set_host(win, [rule(win, **over)])
    answer = fix(win)
    assert answer["changed"] is False
    assert "is not provably let in" in answer["error"]
    assert profiles(win)["Private"] == ("True", "Allow")
    run(win, MARKER + "\n")  # still reachable: nothing changed


def test_the_host_guard_refuses_when_a_block_rule_or_the_profile_wins(win: WindowsLab) -> None:
    # on Public only: on Private (this connection's network) it would cut WinRM already
    blocking = rule(win, Name="Block-In", DisplayName="Block", Action="Block", Profile="Public")
    set_host(win, [rule(win), blocking])
    assert "Public: Block rule Block wins" in fix(win)["error"]
    state = copy.deepcopy(win.state.output)
    for row in state["checks"]["firewall.profiles"]["data"]:
        row["AllowInboundRules"] = "False"
    state["checks"]["firewall.rules"]["data"]["Rules"] = [rule(win)]
    win.state = win.state.model_copy(update={"output": state})
    assert "AllowInboundRules False" in fix(win)["error"]
    assert profiles(win)["Public"] == ("False", "NotConfigured")


def test_inbound_block_forced_past_the_guard_cuts_the_next_connection(win: WindowsLab) -> None:
    # as if the fix had run without its guard: Private blocks, and only Teams is allowed in
    set_host(win, [rule(win, Program=TEAMS, LocalPort=["Any"], RemoteAddress=["Any"])], "Block")
    with pytest.raises(requests.exceptions.ConnectionError):
        run(win, MARKER + "\n")
    assert win.refused_connections
    assert "Private: no rule provably lets WinRM in" in win.refused_connections[0]
    # a rule that does let WinRM in reopens it
    set_host(win, [rule(win)], "Block")
    run(win, MARKER + "\n")
