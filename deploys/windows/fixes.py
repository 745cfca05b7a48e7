"""Windows fix scripts (``ps/<fix-id>.ps1``) and the exact text apply runs for one of them.

Each script starts with ``# baluarte-windows-fix id=<fix-id>`` (how the lab server knows it),
declares its inputs in ``param(...)`` and prints ONE JSON string ``{changed, before, after,
rebootRequired?, error?}``. Apply binds the inputs as typed PSRP parameters (serialised
strings, numbers, booleans and lists: nothing the script parses, no JSON). The plan shows the
same call as PowerShell text: the marker line, the parameters as a hashtable of literals, then
the script as a script block splatted with it (``invocation``), which the lab also reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from baluarte.remediation import Remedy

__all__ = [
    "FIX_IDS",
    "FIX_MARKER",
    "PS_DIR",
    "QUOTES",
    "fix_id",
    "fix_script",
    "invocation",
    "literal",
    "remedy_text",
]

PS_DIR = Path(__file__).resolve().parent / "ps"
FIX_MARKER = "# baluarte-windows-fix id="
FIX_IDS = (
    "defender-realtime",
    "defender-signatures",
    "firewall-profiles",
    "insecure-protocols",
    "updates-install",
)
PARAMETERS = "$baluarteParameters"
# PowerShell ends a single-quoted string at any of these, not only at ': inside one, each is
# doubled (a value a device reported must not close the literal and run as code)
QUOTES = "'\u2018\u2019\u201a\u201b"


@cache
def fix_script(fix: str) -> str:
    """The script of one fix, as shipped (its first line is the marker)."""
    if fix not in FIX_IDS:
        raise ValueError(f"no Windows fix script {fix!r}")
    return (PS_DIR / f"{fix}.ps1").read_text(encoding="utf-8")


def fix_id(script: str) -> str:
    """The fix id a script's marker line names."""
    first = script.split("\n", 1)[0].strip()
    if not first.startswith(FIX_MARKER):
        raise ValueError("not a Baluarte fix script: no marker line")
    return first.removeprefix(FIX_MARKER)


def literal(value: Any) -> str:
    """A PowerShell literal for a JSON-like value: strings single-quoted, lists as @(...)."""
    if isinstance(value, bool):
        return "$true" if value else "$false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + "".join(c * 2 if c in QUOTES else c for c in value) + "'"
    if isinstance(value, Sequence):
        return "@(" + ", ".join(literal(v) for v in value) + ")"
    raise TypeError(f"no PowerShell literal for {type(value).__name__}")


def invocation(script: str, parameters: Mapping[str, Any]) -> str:
    """The text one pipeline runs: marker, the parameters, the script splatted with them."""
    marker, _, body = script.partition("\n")
    lines = [marker, f"{PARAMETERS} = @{{"]
    lines += [f"    {name} = {literal(value)}" for name, value in parameters.items()]
    lines += ["}", "& {", body.rstrip("\n"), f"}} @{PARAMETERS.removeprefix('$')}"]
    return "\n".join(lines) + "\n"


def remedy_text(remedy: Remedy) -> str:
    return invocation(remedy.script, remedy.parameters)
