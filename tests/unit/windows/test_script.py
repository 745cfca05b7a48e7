"""L0: every check script and the assembled script parse, read only, and start with the marker."""

from __future__ import annotations

import pytest
import tree_sitter
import tree_sitter_powershell

from checks.windows.document import CHECKS, MARKER
from checks.windows.script import (
    ASSEMBLED,
    PS_DIR,
    changing_commands,
    check_script,
    native_commands,
)

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
FILES = sorted(p.name for p in PS_DIR.glob("*.ps1"))


def broken_nodes(source: str) -> list[str]:
    tree = PARSER.parse(source.encode("utf-8"))
    bad: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            bad.append(f"{node.type} at {node.start_point}: {node.text[:60]!r}")
        stack.extend(node.children)
    return bad


def test_there_is_one_script_per_check_and_nothing_else():
    shared = ["_envelope.ps1", "_updates_search.ps1", "_footer.ps1"]
    assert sorted(FILES) == sorted([*(f"{c}.ps1" for c in CHECKS), *shared])


@pytest.mark.parametrize("name", FILES)
def test_every_check_script_parses_without_errors(name):
    assert broken_nodes((PS_DIR / name).read_text()) == []


def test_the_assembled_script_parses_and_starts_with_the_marker():
    script = check_script()
    assert script.splitlines()[0] == MARKER
    assert broken_nodes(script) == []
    for check_id in CHECKS:
        assert f"$baluarteChecks['{check_id}'] = Get-CheckResult '{check_id}' {{" in script
    # one output object: the footer's JSON, made ASCII, is the script's last statement
    assert (
        "$json = $document | ConvertTo-Json -Compress -Depth 10\n[regex]::Replace($json," in script
    )
    assert script.rstrip().endswith("-f [int][char]$m.Value })")


@pytest.mark.parametrize("name", FILES)
def test_every_check_script_only_reads(name):
    assert changing_commands((PS_DIR / name).read_text(), name) == []


def test_the_gate_catches_an_injected_change_in_a_check_and_in_the_script():
    body = (PS_DIR / "smb1.ps1").read_text()
    injected = body + "\nSet-SmbServerConfiguration -EnableSMB1Protocol $true -Force\n"
    assert changing_commands(injected, "smb1.ps1") == ["Set-SmbServerConfiguration"]
    assert changing_commands(check_script(), ASSEMBLED) == []
    script = check_script() + "\nRestart-Computer -Force\n"
    assert changing_commands(script, ASSEMBLED) == ["Restart-Computer"]


@pytest.mark.parametrize("name", FILES)
def test_every_check_script_runs_native_programs_only_to_read(name):
    assert native_commands((PS_DIR / name).read_text(), name) == []


def test_the_native_gate_catches_a_program_the_verb_gate_cannot_see():
    # the same program reads with one argument and changes the host with another
    assert native_commands("& w32tm.exe /query /status", "time.sync.ps1") == []
    assert native_commands("w32tm /resync /force", "time.sync.ps1") == ["w32tm /resync"]
    assert native_commands("sc.exe config wuauserv start= disabled", "time.sync.ps1") == [
        "sc.exe config"
    ]
    assert native_commands('& "reg.exe" add HKLM\\SOFTWARE\\X', "smb1.ps1") == ["reg.exe add"]
    assert native_commands("& $tool", "smb1.ps1") == ["$tool"]
    # allowed per file: w32tm /query belongs to time.sync.ps1 only
    assert native_commands("& w32tm.exe /query /source", "smb1.ps1") == ["w32tm.exe /query"]
    assert changing_commands("w32tm /resync", "time.sync.ps1") == []  # what the verb gate misses
    assert native_commands(check_script(), ASSEMBLED) == []
    assert native_commands(check_script() + "\nnetsh advfirewall set allprofiles state off\n",
                           ASSEMBLED) == ["netsh advfirewall"]  # fmt: skip


def test_the_allowlist_is_per_file():
    # Remove-Item is accepted where a temporary export is deleted, nowhere else
    assert changing_commands("Remove-Item -LiteralPath $export -Force", "password.policy.ps1") == []
    assert changing_commands("Remove-Item -LiteralPath $export -Force", "smb1.ps1") == [
        "Remove-Item"
    ]
    assert changing_commands("$o = New-Object -ComObject Microsoft.Update.Session", "x.ps1") == []
    assert changing_commands("New-LocalUser -Name x", "x.ps1") == ["New-LocalUser"]


def test_recovery_passwords_and_exclusions_are_never_read():
    script = check_script()
    assert "RecoveryPassword" not in (PS_DIR / "bitlocker.volumes.ps1").read_text().replace(
        "KeyProtectorType", ""
    )
    assert "KeyProtectorType.ToString()" in script
    defender = (PS_DIR / "defender.status.ps1").read_text()
    assert "ExclusionPath =" not in defender and ".Count" in defender


def test_the_update_search_runs_beside_the_checks_and_only_its_check_waits():
    from checks.windows.collector import search_seconds

    script = check_script(77)
    lines = script.splitlines()
    assert lines[1] == "$baluarteSearchSeconds = 77"
    # started in a runspace of its own before the first check, collected by its own check
    assert script.index("$baluarteSearch.BeginInvoke()") < script.index("$baluarteChecks['")
    pending = script[script.index("Get-CheckResult 'updates.pending' {") :]
    pending = pending[: pending.index("$baluarteChecks['", 1)]
    assert "AsyncWaitHandle.WaitOne(" in pending and "BeginStop(" in pending
    assert "did not finish within {0} s" in pending  # a late search: this check's error alone
    assert "Search(" not in pending  # no second search in the check itself
    assert broken_nodes(script) == []
    # the limit leaves the rest of the answer time to come back within the host's deadline
    assert [search_seconds(d) for d in (120.0, 60.0, 30.0, 6.0, 1.0)] == [100, 50, 25, 5, 1]
    with pytest.raises(ValueError):
        check_script(0)


def _command_arguments(source: str, command: str) -> list[str]:
    """The argument text of each call to ``command`` in a script, as tree-sitter parses it."""
    found: list[str] = []
    stack = [PARSER.parse(source.encode("utf-8")).root_node]
    while stack:
        node = stack.pop()
        if node.type == "command":
            names = [c for c in node.children if c.type == "command_name"]
            if names and names[0].text.decode().lower() == command.lower():
                found += [c.text.decode() for c in node.children if c.type == "command_elements"]
        stack.extend(node.children)
    return found


def test_bitlocker_asks_for_the_system_drive_only():
    # one locked or removable data volume must not cost the system volume's answer
    calls = _command_arguments(
        (PS_DIR / "bitlocker.volumes.ps1").read_text(), "Get-BitLockerVolume"
    )
    assert [c.split() for c in calls] == [["-MountPoint", "$env:SystemDrive"]]


def test_reboot_signals_include_windows_update_s_and_a_pending_domain_join():
    text = (PS_DIR / "reboot.pending.ps1").read_text()
    for signal in ("Services\\Pending", "UpdateExeVolatile", "JoinDomain", "AvoidSpnSet"):
        assert signal in text, signal
    # a rename entry counts only while its file still exists (stale entries are common)
    assert "Test-Path -LiteralPath $_" in text and "$liveRenames.Count -gt 0" in text
