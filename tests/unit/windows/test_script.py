"""L0: every check script and the assembled script parse, read only, and start with the marker."""

from __future__ import annotations

import pytest
import tree_sitter
import tree_sitter_powershell

from checks.windows.document import CHECKS, MARKER
from checks.windows.script import ASSEMBLED, PS_DIR, changing_commands, check_script

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
    assert sorted(FILES) == sorted([*(f"{c}.ps1" for c in CHECKS), "_envelope.ps1", "_footer.ps1"])


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
