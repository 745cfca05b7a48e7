"""A plan a person can review (issue 16, part 4): `baluarte apply` without --yes, as read.

One line per change says what it does in words; before, after and diff below it, a multi-line
value keeping its indentation; the exact commands only with --show-scripts (the saved plan
always keeps them); every manual item says what to do; a step that could not be planned names
its cause once and the changes after it point to it; a pipe gets plain text, one line per
change. The Windows and FortiGate labs run in this process; the Linux case is a netns host
without systemd as PID 1 (the planning failure it shows is the one of a container).
"""

from __future__ import annotations

import functools
import importlib
import io
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from baluarte.apply import DEPLOYS
from baluarte.cli.plan_view import print_plan
from baluarte.controls import catalogue
from baluarte.lab.fortigate import FortigateLab
from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab
from baluarte.lab.windows import WindowsLab
from baluarte.lab.windows.shipped import shipped_state
from baluarte.remediation import ChangeKind, PlannedChange, Step
from deploys.windows.fixes import FIX_MARKER, fix_id, fix_script
from tests.integration import cli
from tests.integration.cli import CANARY, assert_no_canary, baluarte
from tests.integration.test_apply_fortigate import inputs as fortigate_inputs
from tests.integration.test_apply_fortigate import office_state
from tests.integration.test_check_windows import USER, winrm_settings, write_inputs
from tests.terminal import run_in_terminal

ANSI = re.compile(r"\x1b\[")
HINT = re.compile(r"^(\d+) step\(s\) hidden: --show-scripts shows the exact commands$", re.M)
# what a PowerShell script's lines look like; none of them is words for a person
POWERSHELL = re.compile(r"\$baluarteParameters|param\(|\$ErrorActionPreference|^\s*\$ ", re.M)


@pytest.fixture(scope="module")
def windows(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shipped office-pc, its inputs in the returned folder."""
    tmp = tmp_path_factory.mktemp("windows")
    with WindowsLab(shipped_state("office-pc"), users={USER: CANARY}, auth="ntlm") as server:
        write_inputs(tmp, {"pc1": (server, winrm_settings(server, "ntlm-http"))})
        yield tmp
        assert server.internal_errors == []


@pytest.fixture(scope="module")
def fortigate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("fortigate")
    with FortigateLab(office_state(), tokens={CANARY: "baluarte-rw"}) as unit:
        fortigate_inputs(tmp, unit)
        yield tmp


@functools.cache
def plan(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`baluarte apply` in a pipe, plan only (the same plan twice is run once: planning
    changes nothing on the labs)."""
    result = baluarte(tmp, "apply", "--artifacts", str(tmp / "artifacts"), *args)
    assert_no_canary(result.stdout, result.stderr)
    assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr
    return result


def made(tmp: Path) -> tuple[str, list[dict[str, Any]]]:
    """The plan as shown in a pipe, and its items as saved with --out."""
    path = tmp / "plan.json"
    text = plan(tmp, "--out", str(path)).stdout
    saved = json.loads(path.read_text())
    return text, [c for d in saved["devices"] for c in d["changes"]]


def item_lines(text: str, kind: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"  {kind} ")]


def words(line: str) -> tuple[str, str, str, str]:
    """(kind, device, control, what it does) of a change's line."""
    kind, device, control, said = line.strip().split(None, 3)
    return kind, device, control, said


def commands(items: list[dict[str, Any]]) -> list[str]:
    return [c for item in items for step in item["steps"] for c in step["commands"]]


def test_the_windows_plan_says_each_change_in_words_without_powershell(windows: Path) -> None:
    text, items = made(windows)
    changes = [i for i in items if i["kind"] == "change"]
    assert changes and all(any(s["commands"] for s in c["steps"]) for c in changes)
    assert not POWERSHELL.search(text), text
    assert len(text.splitlines()) < 60, text
    # one line per change, whole in a pipe: its words are the summary, the control id kept
    lines = item_lines(text, "change")
    assert len(lines) == len(changes)
    said = {words(line)[2]: words(line) for line in lines}
    for change in changes:
        assert said[change["control"]] == ("change", "pc1", change["control"], change["summary"])
    assert said["endpoint.realtime_protection"][3] == "turn on Defender real-time protection"
    assert "      before: RealTimeProtectionEnabled False" in text.splitlines()
    hidden = HINT.findall(text)
    assert hidden == [str(sum(bool(s["commands"]) for c in changes for s in c["steps"]))]
    assert not ANSI.search(text) and "━" not in text and "│" not in text
    # the firewall is refused for two controls at once: the second item points to the first
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if " firewall.enabled " in line)
    assert lines[at + 1].strip() == "the same as firewall.default_inbound_deny", text


def test_the_saved_plan_keeps_the_full_commands(windows: Path, fortigate: Path) -> None:
    _text, items = made(windows)
    scripts = commands(items)
    assert len(scripts) >= 5
    for script in scripts:  # the whole fix script, as shipped, after its parameters
        body = fix_script(fix_id(script)).partition("\n")[2].rstrip("\n")
        assert body in script and script.startswith(FIX_MARKER), script[:200]
    _text, items = made(fortigate)
    writes = commands(items)
    assert len(writes) >= 10
    for write in writes:  # the exact request: method, path and its JSON body
        method, path, body = write.split(" ", 2)
        assert method == "PUT" and path.startswith("/api/v2/cmdb/") and json.loads(body)


def test_show_scripts_shows_every_command_of_the_plan_in_full(windows: Path) -> None:
    _text, items = made(windows)
    text = plan(windows, "--show-scripts").stdout
    shown = text.splitlines()
    assert POWERSHELL.search(text) and not HINT.search(text)
    for command in commands(items):
        first, *rest = command.split("\n")
        block = [f"          $ {first}", *(f"            {r}".rstrip() for r in rest)]
        starts = [i for i, line in enumerate(shown) if line == block[0]]
        assert any(shown[i : i + len(block)] == block for i in starts), command[:200]


def test_a_saved_plan_is_shown_by_the_same_printer(windows: Path) -> None:
    text, _items = made(windows)
    path = str(windows / "plan.json")
    shown = plan(windows, "--plan", path).stdout
    assert HINT.search(shown) and not POWERSHELL.search(shown)
    assert item_lines(shown, "change") == item_lines(text, "change")
    assert item_lines(shown, "manual") == item_lines(text, "manual")
    full = plan(windows, "--plan", path, "--show-scripts").stdout
    assert POWERSHELL.search(full) and not HINT.search(full)


def test_no_manual_item_is_bare() -> None:
    """Every control a platform can list as manual has a text saying what to do."""
    for platform, module in DEPLOYS.items():
        deploys = importlib.import_module(module)
        for control in catalogue().values():
            if platform not in control.platforms:
                assert control.id not in deploys.MANUAL, (platform, control.id)
            elif control.id not in deploys.REMEDIES:
                assert deploys.MANUAL.get(control.id, "").strip(), (platform, control.id)


def test_every_manual_item_of_a_plan_says_what_to_do(windows: Path) -> None:
    text, items = made(windows)
    manual = [i for i in items if i["kind"] == "manual"]
    assert len(manual) >= 10
    lines = item_lines(text, "manual")
    assert len(lines) == len(manual)
    for item, line in zip(manual, lines, strict=True):
        assert item["reason"].strip() and "see the finding" not in item["reason"]
        assert words(line) == ("manual", "pc1", item["control"], item["reason"])


def _change(before: str, **values: Any) -> PlannedChange:
    fields: dict[str, Any] = {
        "client": "acme", "site": "hq", "device": "srv1", "platform": "linux",
        "control": "access.ssh_root_login", "kind": ChangeKind.CHANGE,
        "summary": "restrict SSH root login", "before": before, "after": "no",
        "steps": (Step(what="write it", commands=("true",)),),
    }  # fmt: skip
    return PlannedChange(**{**fields, **values})


@pytest.mark.parametrize("terminal", [False, True])
def test_a_multi_line_value_keeps_its_indentation(terminal: bool) -> None:
    before = "Match User backup\n    PermitRootLogin yes\n\tX11Forwarding yes"
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=60, color_system=None)
    print_plan(console, [_change(before, diff="--- a\n+++ b\n-    old\n+    new\n")], {})
    lines = out.getvalue().splitlines()
    at = lines.index("      before:")
    assert lines[at + 1 : at + 4] == [
        "        Match User backup",
        "            PermitRootLogin yes",
        "        " + "\tX11Forwarding yes".expandtabs(8),
    ]
    assert "      -    old" in lines and "      +    new" in lines


def test_a_long_change_line_wraps_under_its_words_on_a_terminal_only() -> None:
    said = " ".join(["word"] * 30)
    out = io.StringIO()
    print_plan(Console(file=out, force_terminal=False, width=60), [_change("x", summary=said)], {})
    assert "  change   srv1  access.ssh_root_login  " + said in out.getvalue().splitlines()
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=60, color_system=None)
    print_plan(console, [_change("x", summary=said)], {})
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    at = lines.index("  change   srv1  access.ssh_root_login  word word word word")
    wrapped = lines[at + 1 : lines.index("      before: x")]
    assert len(wrapped) == 7 and all(line.startswith(" " * 40 + "word") for line in wrapped)


def test_on_a_terminal_the_plan_is_coloured(windows: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["apply", "--db", str(windows / "tty.db"), "--inventory", str(windows /
            "inventory.yaml"), "--policies", str(windows / "policies"), "--waivers",
            str(windows / "waivers.yaml")]  # fmt: skip
    monkeypatch.setenv("BALUARTE_TEST_CANARY", CANARY)
    code, text = run_in_terminal(args, cwd=windows, columns=4000)
    assert code == 1, text[-2000:]
    assert ANSI.search(text)
    assert "turn on Defender real-time protection" in text
    assert not POWERSHELL.search(text)


# -- Linux: a step that cannot be planned ------------------------------------------------------

POLICY = """\
id: plan-view
version: "1"
title: Plan view (test)
applies_to: {platform: linux}
firewall:
  allowed_inbound:
    services:
      - {name: ssh, port: 22, protocol: tcp}
access:
  ssh_password_authentication: {required: true}
"""
# sshd accepting passwords; no ufw, so the firewall is nftables, enabled at boot with systemd;
# systemd installed but not PID 1, as in a container: its systemctl answers what Debian's does
NO_SYSTEMD = r"""
rm -f /usr/sbin/ufw
cat > /usr/local/bin/systemctl <<'END'
#!/bin/sh
echo "System has not been booted with systemd as init system (PID 1). Can't operate." >&2
echo "Failed to connect to bus: Host is down" >&2
exit 1
END
chmod 755 /usr/local/bin/systemctl
sed -i '/^PasswordAuthentication\|^KbdInteractiveAuthentication/d' \
    /etc/ssh/sshd_config.d/*.conf /etc/ssh/sshd_config
printf 'PasswordAuthentication yes\n' >> /etc/ssh/sshd_config
"""


def test_a_step_that_cannot_be_planned_names_its_cause_once(
    tmp_path: Path, lab: LinuxHostLab, linux_host: LinuxHost
) -> None:
    """No systemd as PID 1 on the host: the firewall's "enable nftables at boot" cannot be
    planned, and pyinfra plans nothing after it (sshd's reload included)."""
    linux_host.run(NO_SYSTEMD)
    cli.write_inputs(tmp_path, lab, [linux_host], policy=POLICY)
    text, saved = made(tmp_path)
    items = {i["control"]: i for i in saved}
    root, after = items["firewall.allowed_inbound"], items["access.ssh_password_authentication"]
    assert root["kind"] == after["kind"] == "manual"
    cause = root["reason"].removeprefix("could not be planned: ")
    assert cause != root["reason"] and "earlier operation" not in cause
    assert after["reason"] == (
        "not planned: it comes after firewall.allowed_inbound, which could not be planned"
    )
    assert text.count(cause) == 1 and "earlier operation" not in text
    assert "      not planned: it comes after firewall.allowed_inbound" in text
