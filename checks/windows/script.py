"""The one PowerShell script Baluarte runs on a Windows host, assembled from ``ps/*.ps1``.

``_envelope.ps1`` (preamble, helpers, the per-check try/catch), then every check of
``document.CHECKS`` as ``$baluarteChecks['<id>'] = Get-CheckResult '<id>' { <id>.ps1 }``, then
``_footer.ps1``, which prints the document as ONE compressed JSON string. The script takes no
parameters: it collects everything, the same on every host.

The checks only read. ``changing_commands`` is the gate: a command whose verb changes state
(``Set-``, ``Remove-`` …) fails it, except the allowlisted pairs of ``ALLOWED``:

* ``Remove-TypeData`` in ``_envelope.ps1``: removes the System.Array type data from this
  session only (PowerShell 5.1's array-JSON workaround); nothing on the host changes;
* ``Remove-Item`` in ``password.policy.ps1`` and ``veeam.agent.ps1``: deletes the temporary
  file ``secedit /export`` or ``Veeam.Agent.Configurator.exe -export`` just wrote (the one
  accepted exception to read-only: a file of our own in %TEMP%).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from checks.windows.document import CHECKS, MARKER

__all__ = ["ALLOWED", "ASSEMBLED", "CHANGING_VERBS", "PS_DIR", "changing_commands", "check_script"]

PS_DIR = Path(__file__).resolve().parent / "ps"

# Verbs that change state; New-Object (COM and .NET objects) is the one New- allowed.
CHANGING_VERBS = (
    "Set",
    "Remove",
    "New",
    "Install",
    "Uninstall",
    "Enable",
    "Disable",
    "Start",
    "Stop",
    "Restart",
    "Suspend",
    "Resume",
    "Add",
    "Clear",
    "Update",
    "Register",
    "Unregister",
    "Reset",
    "Rename",
    "Move",
    "Copy",
    "Write",
    "Out",
    "Export",
    "Import",
    "Grant",
    "Revoke",
    "Block",
    "Unblock",
    "Mount",
    "Dismount",
    "Initialize",
    "Format",
    "Publish",
    "Unpublish",
    "Save",
    "Send",
    "Invoke",
)
# Read-only uses of otherwise changing verbs, anywhere in the script.
_ALWAYS = frozenset({"new-object", "out-null", "out-string", "write-output"})
# (file, command) pairs allowed; see the module docstring for why each is safe.
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("_envelope.ps1", "remove-typedata"),
        ("password.policy.ps1", "remove-item"),
        ("veeam.agent.ps1", "remove-item"),
    }
)
# The file name for the assembled script: any allowlisted command is accepted there.
ASSEMBLED = "<assembled>"
_CHANGING = re.compile(rf"^(?:{'|'.join(CHANGING_VERBS)})-\w+$", re.IGNORECASE)


def _read(name: str) -> str:
    return (PS_DIR / name).read_text(encoding="utf-8")


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line.strip() else "" for line in text.splitlines())


@cache
def check_script() -> str:
    """The whole script; its first line is ``document.MARKER``."""
    parts = [MARKER, _read("_envelope.ps1").rstrip()]
    for check_id in CHECKS:
        body = _indent(_read(f"{check_id}.ps1").rstrip())
        parts.append(f"$baluarteChecks['{check_id}'] = Get-CheckResult '{check_id}' {{\n{body}\n}}")
    parts.append(_read("_footer.ps1").rstrip())
    return "\n".join(parts) + "\n"


def _command_names(source: str) -> list[str]:
    """Every command name in a PowerShell text, as tree-sitter-powershell parses it."""
    import tree_sitter
    import tree_sitter_powershell

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    tree = parser.parse(source.encode("utf-8"))
    names: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "command_name" and node.text is not None:
            names.append(node.text.decode("utf-8"))
        stack.extend(node.children)
    return names


def changing_commands(source: str, file: str) -> list[str]:
    """The state-changing commands ``source`` (the text of ``file``) runs, allowlist applied."""
    anywhere = {command for _, command in ALLOWED} if file == ASSEMBLED else set()
    found: list[str] = []
    for name in _command_names(source):
        low = name.lower()
        if low in _ALWAYS or (file, low) in ALLOWED or low in anywhere:
            continue
        if _CHANGING.match(name):
            found.append(name)
    return found
