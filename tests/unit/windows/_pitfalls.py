"""Guards for Windows PowerShell 5.1 pitfalls, run on the tree-sitter-powershell syntax tree.

PowerShell cannot run here, so what the scripts do on a Spanish host, with a never-scanned
Defender or with a JSON array is read off their syntax. Each guard takes a script's text and its
file name and returns findings (line:column, what is wrong, the safe form):

* ``convertfrom-json``: 5.1 emits a JSON array as ONE object, so ``@(... | ConvertFrom-Json)``
  is a one-element array holding the array, and a command piped after it gets the whole array
  once. Any other use is flagged too: inputs travel as typed parameters; reading a JSON object
  the project itself wrote is allowlisted with its reason.
* ``int-cast-counter``: ``[int]`` (or ``-as [int]``) of a uint32/uint64 counter (``...Age``,
  Defender's scan and signature ages: 4294967295 when never scanned) overflows; ``[int64]``.
* ``datetime-parse``: ``[datetime]::Parse``/``TryParse``/``ParseExact``/``TryParseExact``
  with no culture, ``$null`` or the current one, and a ``[datetime]`` cast, ``-as [datetime]``,
  ``Get-Date`` or ``ConvertTo-IsoDate`` of text (native command output, file content,
  ``Select-String``, ``$Matches``). A cast of a DateTime (CIM, COM, cmdlet properties, as the
  envelope's ConvertTo-IsoDate does) is left alone: text is traced through the script
  (``_pstree.Flow``) rather than every cast flagged.
* ``localised-regex``: a string literal holding a word, compared (``-match``, ``-like``,
  ``-eq``, ``-replace``, ``[regex]::…``, ``Select-String``) with the output of a native
  executable, which Windows prints in the host's language.
* ``principal-name``: ``NT AUTHORITY\\…``, ``BUILTIN\\…``, ``Everyone``, ``Administrators`` …
  used as identities: localised names; the SID is the safe form.
* ``unguarded-call``: in the check script (``checks/windows/ps/`` and the assembled script, run
  with ``$ErrorActionPreference = 'Stop'``), a call that fails on healthy hosts (Defender
  cmdlets with Defender off, ``Get-Service`` of a missing service, ``Get-WinEvent`` with no
  event, COM) outside a ``try`` that has a ``catch`` and without ``-ErrorAction
  SilentlyContinue``/``Ignore`` costs the whole check, not only the value it feeds.

Verbatim here-strings (``@'…'@``) are scanned as scripts too: the project only uses them for a
script run elsewhere (the update task's), and positions are in the enclosing file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from checks.windows.script import ASSEMBLED
from tests.unit.windows._pstree import (
    DATETIME_TYPES,
    Finding,
    Flow,
    Node,
    Script,
    ancestors,
    assembled_origins,
    command_arguments,
    command_name,
    command_nodes,
    core,
    is_string,
    literals,
    names,
    native_output,
    no_longer_text,
    node_key,
    node_text,
    parameter_values,
    scripts,
    string_value,
    text_value,
    type_name,
    walk,
)

__all__ = [
    "GUARDS",
    "Allowed",
    "Finding",
    "assembled_origins",
    "convertfrom_json",
    "datetime_parse",
    "int_cast_counter",
    "localised_regex",
    "principal_name",
    "scan",
    "unguarded_call",
]


@dataclass(frozen=True)
class Allowed:
    """A use judged safe: ``file`` (a script's name), ``guard``, a substring of the flagged line
    (``None``: every line of that file), and why it is safe."""

    file: str
    guard: str
    needle: str | None
    reason: str

    def covers(self, finding: Finding) -> bool:
        return (
            finding.origin == self.file
            and finding.guard == self.guard
            and (self.needle is None or self.needle in finding.source_line)
        )


# -- 1. ConvertFrom-Json --------------------------------------------------------------------------

_JSON_WRAP = (
    "Windows PowerShell 5.1 emits a JSON array as ONE object: @(...) around a pipeline ending in "
    "ConvertFrom-Json is a one-element array holding the array; pass typed PSRP parameters, or "
    "assign ConvertFrom-Json to a variable and foreach over it"
)
_JSON_PIPE = (
    "Windows PowerShell 5.1 emits a JSON array as ONE object: the next command gets the whole "
    "array once; assign ConvertFrom-Json to a variable first, then foreach over it"
)
_JSON_INPUT = (
    "ConvertFrom-Json of text: inputs travel as typed PSRP parameters (param(...)); allowlist "
    "only a JSON object the project itself wrote"
)


def convertfrom_json(source: str, file: str) -> list[Finding]:
    found: list[Finding] = []
    for script in scripts(source, file):
        for command in command_nodes(script.root):
            name = command_name(command)
            if name is None or name.lower() != "convertfrom-json":
                continue
            chain = command.parent
            elements = [c for c in chain.children if c.type != "|"] if chain is not None else []
            last = not elements or node_key(elements[-1]) == node_key(command)
            holder = chain
            while holder is not None and holder.type in ("pipeline_chain", "pipeline"):
                holder = holder.parent
            wrapped = (
                holder is not None
                and holder.type == "statement_list"
                and holder.parent is not None
                and holder.parent.type == "array_expression"
            )
            if last and wrapped:
                message = _JSON_WRAP
            elif not last:
                message = _JSON_PIPE
            else:
                message = _JSON_INPUT
            found.append(script.finding(command, "convertfrom-json", message))
    return found


# -- 2. [int] of unsigned counters ----------------------------------------------------------------

# uint32/uint64 properties of CIM/WMI objects that exceed Int32 on healthy hosts: Defender's
# ages are 4294967295 (never scanned), sizes are bytes.
COUNTERS = names(
    "QuickScanAge FullScanAge AntivirusSignatureAge AntispywareSignatureAge NISSignatureAge "
    "Size FreeSpace Capacity TotalPhysicalMemory TotalVisibleMemorySize FreePhysicalMemory"
)
_INT32 = frozenset({"int", "int32"})
_AGE = re.compile(r"(?:^|[a-z0-9])Age$")


def _counter(node: Node) -> bool:
    value = core(node)
    if value.type != "member_access":
        return False
    member = next((c for c in value.children if c.type == "member_name"), None)
    name = node_text(member) if member is not None else ""
    return name in COUNTERS or _AGE.search(name) is not None


def int_cast_counter(source: str, file: str) -> list[Finding]:
    message = (
        "[int] of a uint32/uint64 counter overflows (a never-run Defender scan's age is "
        "4294967295): use [int64]"
    )
    found: list[Finding] = []
    for script in scripts(source, file):
        for node in walk(script.root):
            if node.type == "cast_expression" and type_name(node.children[0]) in _INT32:
                if _counter(node.children[-1]):
                    found.append(script.finding(node, "int-cast-counter", message))
            elif node.type == "comparison_expression" and len(node.children) == 3:
                operator = node_text(node.children[1]).lower()
                right = core(node.children[2])
                if (
                    operator == "-as"
                    and right.type == "type_literal"
                    and type_name(right) in _INT32
                    and _counter(node.children[0])
                ):
                    found.append(script.finding(node, "int-cast-counter", message))
    return found


# -- 3. dates parsed from text --------------------------------------------------------------------

# Functions (of the check script's envelope) that cast their argument to [datetime].
DATE_SINKS = frozenset({"convertto-isodate"})
_PARSE = frozenset({"parse", "tryparse"})
_PARSE_EXACT = frozenset({"parseexact", "tryparseexact"})
_SAFE_DATE = (
    "[datetime]::ParseExact/TryParseExact(text, 'format', "
    "[Globalization.CultureInfo]::InvariantCulture, ...), or a DateTime from CIM/COM"
)


_CURRENT = re.compile(r"currentculture|currentuiculture|get-culture|^\$null$", re.IGNORECASE)


def _culture_missing(arguments: Node | None, exact: bool) -> bool:
    """Whether a parse call reads the current culture: no provider argument (the third of
    ``ParseExact``, the second of ``Parse``), ``$null``, or the current culture named."""
    if arguments is None:
        return True
    listed = next((c for c in arguments.children if c.type == "argument_expression_list"), None)
    values = [c for c in listed.children if c.type == "argument_expression"] if listed else []
    index = 2 if exact else 1
    if len(values) <= index:
        return True
    provider = node_text(values[index]).strip()
    return provider.lower().startswith("[ref]") or _CURRENT.search(provider) is not None


def datetime_parse(source: str, file: str) -> list[Finding]:
    found: list[Finding] = []
    for script in scripts(source, file):
        flow = Flow(script.root, text_value, no_longer_text)
        for node in walk(script.root):
            message: str | None = None
            if node.type == "invokation_expression" and node.children[0].type == "type_literal":
                if type_name(node.children[0]) not in DATETIME_TYPES:
                    continue
                member = next((c for c in node.children if c.type == "member_name"), None)
                method = node_text(member).lower() if member is not None else ""
                arguments = next((c for c in node.children if c.type == "argument_list"), None)
                if (
                    member is not None
                    and method in _PARSE | _PARSE_EXACT
                    and _culture_missing(arguments, method in _PARSE_EXACT)
                ):
                    message = (
                        f"{node_text(member)} without a culture, or with the current one, reads "
                        f"the session's or host's date format: use {_SAFE_DATE}"
                    )
            elif node.type == "cast_expression":
                if type_name(node.children[0]) in DATETIME_TYPES and flow.holds(node.children[-1]):
                    message = (
                        "[datetime] cast of text (command output, a file, a capture) parses "
                        f"an invariant-culture string, not the host's format: use {_SAFE_DATE}"
                    )
            elif node.type == "comparison_expression" and len(node.children) == 3:
                right = core(node.children[2])
                if (
                    node_text(node.children[1]).lower() == "-as"
                    and right.type == "type_literal"
                    and type_name(right) in DATETIME_TYPES
                    and flow.holds(node.children[0])
                ):
                    message = f"-as [datetime] of text: use {_SAFE_DATE}"
            elif node.type == "command":
                name = (command_name(node) or "").lower()
                if name in DATE_SINKS | {"get-date"} and any(
                    flow.holds(argument)
                    for argument in command_arguments(node)
                    if argument.type != "command_parameter"
                ):
                    message = (
                        f"{command_name(node)} of text converts it with a culture's rules: "
                        f"parse it first with {_SAFE_DATE}"
                    )
            if message is not None:
                found.append(script.finding(node, "datetime-parse", message))
    return found


# -- 4. regexes over localised output -------------------------------------------------------------

_COMPARE = frozenset(
    {
        f"-{p}{op}"
        for p in ("", "i", "c")
        for op in (
            "match",
            "notmatch",
            "like",
            "notlike",
            "eq",
            "ne",
            "replace",
            "split",
            "contains",
            "notcontains",
            "in",
            "notin",
        )
    }
)
_REGEX_METHODS = frozenset({"match", "matches", "ismatch", "replace", "split"})


def _words(literal: Node) -> bool:
    """Whether a pattern holds a word (three letters or more once escapes are removed)."""
    value = re.sub(r"\\.", " ", string_value(literal))
    return re.search(r"[^\W\d_]{3,}", value) is not None


_LOCALISED = (
    "a word matched against a native program's output, which is printed in the host's "
    "language (Spanish hosts: other labels): read a locale-independent source (registry, "
    "CIM, a cmdlet's properties, a fixed-position field or an export file)"
)


def localised_regex(source: str, file: str) -> list[Finding]:
    return [f for script in scripts(source, file) for f in _localised_in(script)]


def _localised_in(script: Script) -> list[Finding]:
    found: list[Finding] = []
    flow = Flow(script.root, native_output, no_longer_text)
    flagged: set[tuple[int, int, str]] = set()

    def flag(operands: list[Node], literal_side: list[Node]) -> None:
        if not any(flow.holds(operand) for operand in operands):
            return
        for side in literal_side:
            for literal in literals(side):
                if _words(literal) and node_key(literal) not in flagged:
                    flagged.add(node_key(literal))
                    found.append(script.finding(literal, "localised-regex", _LOCALISED))

    for node in walk(script.root):
        if node.type == "comparison_expression" and len(node.children) == 3:
            if node_text(node.children[1]).lower() in _COMPARE:
                left, right = node.children[0], node.children[2]
                flag([left], [right])
                flag([right], [left])
        elif node.type == "invokation_expression" and node.children[0].type == "type_literal":
            member = next((c for c in node.children if c.type == "member_name"), None)
            arguments = next((c for c in node.children if c.type == "argument_list"), None)
            if (
                type_name(node.children[0]) in ("regex", "text.regularexpressions.regex")
                and member is not None
                and node_text(member).lower() in _REGEX_METHODS
                and arguments is not None
            ):
                flag([arguments], [arguments])
        elif node.type == "command" and (command_name(node) or "").lower() == "select-string":
            chain = node.parent
            before: list[Node] = []
            if chain is not None:
                keys = [node_key(c) for c in chain.children if c.type != "|"]
                elements = [c for c in chain.children if c.type != "|"]
                if node_key(node) in keys:
                    before = elements[: keys.index(node_key(node))]
            flag([*before, *command_arguments(node)], command_arguments(node))
    return found


# -- 5. principals by English name ----------------------------------------------------------------

# Well-known principals by their English names, and the SIDs that mean them on every host.
SIDS = {
    "system": "S-1-5-18",
    "localsystem": "S-1-5-18",
    "local service": "S-1-5-19",
    "network service": "S-1-5-20",
    "authenticated users": "S-1-5-11",
    "interactive": "S-1-5-4",
    "everyone": "S-1-1-0",
    "administrators": "S-1-5-32-544",
    "users": "S-1-5-32-545",
    "guests": "S-1-5-32-546",
    "remote desktop users": "S-1-5-32-555",
    "remote management users": "S-1-5-32-580",
    "backup operators": "S-1-5-32-551",
    "administrator": "the account whose SID ends in -500",
    "guest": "the account whose SID ends in -501",
}
# Names that are an identity wherever they are a whole string; the others (System, Users …) are
# also log names and folders, so they count only where an identity is expected.
_ALWAYS_IDENTITY = frozenset(
    {"everyone", "administrators", "authenticated users", "remote desktop users"}
)
_QUALIFIED = re.compile(r"\b(?:NT AUTHORITY|BUILTIN)\\([^\\:'\"]+)", re.IGNORECASE)
_WINNT = re.compile(r"WinNT://[^/]*/([^,/]+)", re.IGNORECASE)
_IDENTITY_PARAMETERS = names(
    "userid user username group groupid member members identity account accountname principal "
    "owner runas"
)
_ACCOUNT_COMMANDS = re.compile(r"^(?:net1?|icacls|takeown)(?:\.exe)?$", re.IGNORECASE)


def _identity(value: str) -> str | None:
    """The English principal name a value names (``Administrators:F`` counts, as icacls has it)."""
    name = value.strip().split(":", 1)[0].strip().lower()
    name = name.rsplit("\\", 1)[-1]
    return name if name in SIDS else None


def principal_name(source: str, file: str) -> list[Finding]:
    return [f for script in scripts(source, file) for f in _principals_in(script)]


def _principals_in(script: Script) -> list[Finding]:
    found: list[Finding] = []
    flagged: set[tuple[int, int, str]] = set()

    def flag(node: Node, name: str) -> None:
        if node_key(node) in flagged:
            return
        flagged.add(node_key(node))
        message = (
            f"principal by its English name ({name!r}): names are localised "
            f"(NT-AUTORITÄT, Administradores); use the SID {SIDS[name.lower()]}"
        )
        found.append(script.finding(node, "principal-name", message))

    for node in walk(script.root):
        if is_string(node):
            value = string_value(node)
            for pattern in (_QUALIFIED, _WINNT):
                for match in pattern.finditer(value):
                    name = match.group(1).strip()
                    if name.lower() in SIDS:
                        flag(node, name)
            if value.strip().lower() in _ALWAYS_IDENTITY:
                flag(node, value.strip())
        elif node.type == "command":
            command = command_name(node) or ""
            values: list[Node] = []
            for parameter, value_node in parameter_values(node):
                local_group = "localgroup" in command.lower() and parameter == "name"
                if value_node is not None and (parameter in _IDENTITY_PARAMETERS or local_group):
                    values.append(value_node)
            if _ACCOUNT_COMMANDS.match(command):
                values += [a for a in command_arguments(node) if a.type != "command_parameter"]
            for value_node in values:
                for leaf in walk(value_node):
                    if leaf.type in ("generic_token", "string_literal"):
                        name = _identity(string_value(leaf))
                        if name is not None:
                            flag(leaf, name)
        elif node.type in ("cast_expression", "invokation_expression") and (
            "ntaccount" in node_text(node.children[0]).lower()
        ):
            for literal in literals(node):
                name = _identity(string_value(literal))
                if name is not None:
                    flag(literal, name)
    for node in command_nodes(script.root):
        if (command_name(node) or "").lower() == "new-object" and "ntaccount" in node_text(
            node
        ).lower():
            for literal in literals(node):
                name = _identity(string_value(literal))
                if name is not None:
                    flag(literal, name)
    return found


# -- 6. calls that fail on healthy hosts, outside a try -------------------------------------------

# Cmdlets that throw on healthy hosts under $ErrorActionPreference = 'Stop': Defender's with
# Defender off or replaced (0x800106ba), Get-Service of a service not installed, Get-WinEvent when
# no event matches, the local accounts cmdlets with an orphaned or Entra ID member.
FRAGILE = names(
    "get-mpcomputerstatus get-mppreference get-service get-winevent get-localgroupmember"
)
_TOLERANT = frozenset({"silentlycontinue", "ignore", "0", "4"})
_PLAIN_METHODS = frozenset({"tostring", "gettype", "equals", "gethashcode"})


def _checked(file: str) -> bool:
    return file == ASSEMBLED or "checks/windows/ps/" in file.replace("\\", "/")


def _in_try(node: Node) -> bool:
    """Inside the body of a try that has a catch (try/finally alone does not stop a failure)."""
    for ancestor in ancestors(node):
        parent = ancestor.parent
        if (
            ancestor.type == "statement_block"
            and parent is not None
            and parent.type == "try_statement"
            and [node_key(c) for c in parent.children].index(node_key(ancestor)) == 1
            and any(c.type == "catch_clauses" for c in parent.children)
        ):
            return True
    return False


def _tolerant(command: Node) -> bool:
    for parameter, value in parameter_values(command):
        if (
            parameter in ("erroraction", "ea")
            and value is not None
            and string_value(value).strip().lower() in _TOLERANT
        ):
            return True
    return False


def _com_object(node: Node, flow: Flow) -> bool:
    if node.type != "command" or (command_name(node) or "").lower() != "new-object":
        return False
    return any(p in ("comobject", "com") for p, _ in parameter_values(node))


def unguarded_call(source: str, file: str) -> list[Finding]:
    if not _checked(file):
        return []
    found: list[Finding] = []
    for script in scripts(source, file):
        # a cast makes a .NET value ([string]$update.Title): no COM call on it
        com = Flow(script.root, _com_object, lambda node: node.type == "cast_expression")
        for node in walk(script.root):
            if _in_try(node):
                continue
            what: str | None = None
            if node.type == "command":
                name = command_name(node) or ""
                if name.lower() in FRAGILE and not _tolerant(node):
                    what = name
                elif _com_object(node, com):
                    what = "New-Object -ComObject"
            elif node.type == "invokation_expression":
                # a method of a COM object held in a variable, or of one a COM call returned;
                # a property's value (a string, a number) is .NET
                receiver = core(node.children[0])
                member = next((c for c in node.children if c.type == "member_name"), None)
                method = node_text(member) if member is not None else ""
                if (
                    receiver.type in ("variable", "invokation_expression")
                    and method.lower() not in _PLAIN_METHODS
                    and com.holds(receiver)
                ):
                    what = f"the COM call .{method}()"
            if what is not None:
                message = (
                    f"{what} can fail on a healthy host and, under ErrorActionPreference "
                    "'Stop', fails the whole check: put it in a try/catch of its own (or "
                    "-ErrorAction SilentlyContinue) and report the value as unreadable"
                )
                found.append(script.finding(node, "unguarded-call", message))
    return found


# -- 7. arrays written while System.Array's type data is loaded -----------------------------------

_ARRAY_TYPE_DATA = (
    'Windows PowerShell 5.1 writes an array as {"value":[...],"Count":n} while the '
    "System.Array type data is loaded: first remove it for the session "
    "(Get-TypeData -TypeName System.Array | Remove-TypeData -ErrorAction SilentlyContinue)"
)


def array_type_data(source: str, file: str) -> list[Finding]:
    """ConvertTo-Json in a script (or a here-string run as one) that has not removed the
    System.Array type data before it."""
    found: list[Finding] = []
    for script in scripts(source, file):
        removed: tuple[int, int] | None = None
        for command in sorted(command_nodes(script.root), key=lambda c: c.start_point):
            name = (command_name(command) or "").lower()
            if name == "remove-typedata" and removed is None:
                removed = command.start_point
            elif name == "convertto-json" and removed is None:
                found.append(script.finding(command, "array-type-data", _ARRAY_TYPE_DATA))
    return found


GUARDS: dict[str, Callable[[str, str], list[Finding]]] = {
    "convertfrom-json": convertfrom_json,
    "int-cast-counter": int_cast_counter,
    "datetime-parse": datetime_parse,
    "localised-regex": localised_regex,
    "principal-name": principal_name,
    "unguarded-call": unguarded_call,
    "array-type-data": array_type_data,
}


def scan(source: str, file: str) -> list[Finding]:
    """Every guard's findings for one script, in file order."""
    found = [finding for guard in GUARDS.values() for finding in guard(source, file)]
    return sorted(found, key=lambda f: (f.line, f.column, f.guard))
