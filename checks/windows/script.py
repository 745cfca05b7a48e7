"""The one PowerShell script Baluarte runs on a Windows host, assembled from ``ps/*.ps1``.

The search's time limit (``$baluarteSearchSeconds``), ``_envelope.ps1`` (preamble, helpers,
the per-check try/catch), ``_updates_search.ps1`` (the Windows Update search, started in a
runspace of its own so that it runs beside the checks), then every check of ``document.CHECKS``
as ``$baluarteChecks['<id>'] = Get-CheckResult '<id>' { <id>.ps1 }``, then ``_footer.ps1``,
which prints the document as ONE compressed JSON string. It collects everything, the same on
every host; only the search's time limit depends on the deadline the collector has.

The checks only read. ``changing_commands`` is the gate: a command whose verb changes state
(``Set-``, ``Remove-`` …) fails it, except the allowlisted pairs of ``ALLOWED``:

* ``Remove-TypeData`` in ``_envelope.ps1``: removes the System.Array type data from this
  session only (PowerShell 5.1's array-JSON workaround); nothing on the host changes;
* ``Remove-Item`` in ``password.policy.ps1`` and ``veeam.agent.ps1``: deletes the temporary
  file ``secedit /export`` or ``Veeam.Agent.Configurator.exe -export`` just wrote (the one
  accepted exception to read-only: a file of our own in %TEMP%).

A verb says nothing about a native program (``w32tm /resync`` and ``w32tm /query`` are one
command name), so ``native_commands`` is the second gate: a command that is not a cmdlet or
function name (an executable, a path, a variable) runs only as one of ``NATIVE_READS``, each
named by its file, its program and its first argument, the one that makes it read:
``secedit.exe /export``, ``w32tm.exe /query``, ``$configurator -export`` (Veeam's agent
configurator, exporting its settings), and the script blocks the envelope and the firewall check
define and call (``& $Body``, ``& $Query``: their text is in the gated source).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from checks.windows.document import CHECKS, MARKER

__all__ = [
    "ALLOWED",
    "ASSEMBLED",
    "CHANGING_VERBS",
    "NATIVE_READS",
    "PS_DIR",
    "SEARCH_SECONDS",
    "changing_commands",
    "check_script",
    "native_commands",
]

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
# (file, program, first argument) of each native command a check may run; see the docstring.
NATIVE_READS: frozenset[tuple[str, str, str | None]] = frozenset(
    {
        ("_envelope.ps1", "$body", None),
        ("firewall.rules.ps1", "$query", None),
        ("password.policy.ps1", "secedit.exe", "/export"),
        ("time.sync.ps1", "w32tm.exe", "/query"),
        ("veeam.agent.ps1", "$configurator", "-export"),
    }
)
_CMDLET = re.compile(r"^[A-Za-z]+-[A-Za-z0-9]+$")
# How long the Windows Update search may take by default, from the script's start: the deadline
# the collector gives a host by default (120 s) less a margin for the rest to come back.
SEARCH_SECONDS = 100
# The file name for the assembled script: any allowlisted command is accepted there.
ASSEMBLED = "<assembled>"
_CHANGING = re.compile(rf"^(?:{'|'.join(CHANGING_VERBS)})-\w+$", re.IGNORECASE)


def _read(name: str) -> str:
    return (PS_DIR / name).read_text(encoding="utf-8")


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line.strip() else "" for line in text.splitlines())


@cache
def check_script(search_seconds: int = SEARCH_SECONDS) -> str:
    """The whole script; its first line is ``document.MARKER``. The Windows Update search may
    take until ``search_seconds`` after the script starts (it runs beside the checks)."""
    if search_seconds < 1:
        raise ValueError(f"search_seconds must be positive, not {search_seconds}")
    parts = [
        MARKER,
        f"$baluarteSearchSeconds = {int(search_seconds)}",
        _read("_envelope.ps1").rstrip(),
        _read("_updates_search.ps1").rstrip(),
    ]
    for check_id in CHECKS:
        body = _indent(_read(f"{check_id}.ps1").rstrip())
        parts.append(f"$baluarteChecks['{check_id}'] = Get-CheckResult '{check_id}' {{\n{body}\n}}")
    parts.append(_read("_footer.ps1").rstrip())
    return "\n".join(parts) + "\n"


def _nodes(source: str) -> list[Any]:
    """Every node of a PowerShell text's syntax tree (tree-sitter-powershell)."""
    import tree_sitter
    import tree_sitter_powershell

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    tree = parser.parse(source.encode("utf-8"))
    found: list[Any] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.children)
    return found


def _text(node: Any) -> str:
    return node.text.decode("utf-8") if node.text is not None else ""


def _command_names(source: str) -> list[str]:
    """Every command name in a PowerShell text, as tree-sitter-powershell parses it."""
    return [_text(node) for node in _nodes(source) if node.type == "command_name"]


def native_commands(source: str, file: str) -> list[str]:
    """The native commands ``source`` (the text of ``file``) runs that ``NATIVE_READS`` does not
    allow there, as "program first-argument"."""
    found: list[str] = []
    for node in _nodes(source):
        if node.type != "command":
            continue
        name, first = None, None
        for child in node.children:
            if child.type in ("command_name", "command_name_expr") and name is None:
                name = _text(child).strip("'\"")
            elif child.type == "command_elements":
                args = [a for a in child.children if a.type != "command_argument_sep"]
                first = _text(args[0]) if args else None
        if name is None or _CMDLET.match(name):
            continue  # a cmdlet or function: the verb gate's
        key = (name.lower(), None if first is None else first.lower())
        if (file, *key) in NATIVE_READS or (
            file == ASSEMBLED and any(allowed[1:] == key for allowed in NATIVE_READS)
        ):
            continue
        found.append(name if first is None else f"{name} {first}")
    return found


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
