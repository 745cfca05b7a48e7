"""The tree-sitter-powershell syntax tree of a script, read for the pitfall guards.

Helpers over nodes, the scripts a file holds (itself and its verbatim here-strings, which the
project only uses for a script run elsewhere), and ``Flow``: which variables hold a value of one
kind (text a native program printed, a COM object), followed through assignments, ``foreach``
and pipelines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import tree_sitter
import tree_sitter_powershell

from checks.windows.document import CHECKS
from checks.windows.script import ASSEMBLED

__all__ = [
    "DATETIME_TYPES",
    "NATIVE",
    "PARSER",
    "Finding",
    "Flow",
    "Node",
    "Script",
    "ancestors",
    "assembled_origins",
    "command_arguments",
    "command_name",
    "command_nodes",
    "core",
    "invoked_variable",
    "is_string",
    "literals",
    "names",
    "native_output",
    "no_longer_text",
    "node_key",
    "node_text",
    "parameter_values",
    "parse",
    "scope_of",
    "scripts",
    "string_value",
    "text_value",
    "type_name",
    "var_name",
    "walk",
]

Node = tree_sitter.Node
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


@dataclass(frozen=True)
class Finding:
    file: str
    line: int  # 1-based, in the file scanned
    column: int  # 1-based, in characters
    guard: str
    text: str  # the flagged code (its first line)
    message: str
    source_line: str  # the whole line: what an allowlist needle matches
    origin: str  # the script file the line comes from (differs for the assembled script)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        if self.origin != self.file.rsplit("/", 1)[-1]:
            where += f" (from {self.origin})"
        return f"{where}: [{self.guard}] {self.message}: {self.text}"


def names(words: str) -> frozenset[str]:
    return frozenset(words.split())


# -- the syntax tree ------------------------------------------------------------------------------

# Expression layers the grammar nests every value in; a chain of them with one child is the child.
_WRAPPERS = names(
    "pipeline pipeline_chain statement_list logical_expression bitwise_expression "
    "comparison_expression additive_expression multiplicative_expression format_expression "
    "range_expression array_literal_expression unary_expression "
    "expression_with_unary_operator parenthesized_expression argument_expression "
    "logical_argument_expression bitwise_argument_expression comparison_argument_expression "
    "additive_argument_expression multiplicative_argument_expression "
    "format_argument_expression range_argument_expression"
)


def node_text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def node_key(node: Node) -> tuple[int, int, str]:
    return (node.start_byte, node.end_byte, node.type)


def walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def ancestors(node: Node) -> Iterator[Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def core(node: Node) -> Node:
    """The value a chain of one-child expression layers (and parentheses) stands for."""
    while node.type in _WRAPPERS and node.named_child_count == 1:
        child = node.named_children[0]
        if child is None:
            break
        node = child
    return node


def type_name(type_literal: Node) -> str:
    name = node_text(type_literal).strip("[] ").lower()
    return name.removeprefix("system.")


def var_name(variable: Node) -> str:
    name = node_text(variable).lower().lstrip("$@").strip("{}")
    for scope in ("script:", "global:", "local:", "private:"):
        name = name.removeprefix(scope)
    return name


def command_name(command: Node) -> str | None:
    """A command's name as written (``w32tm.exe``, ``Get-Service``), or None for ``& $x``."""
    for child in command.children:
        if child.type == "command_name":
            return node_text(child)
        if child.type == "command_name_expr":
            inner = child.named_children[0] if child.named_child_count else None
            if inner is not None and inner.type == "command_name":
                return node_text(inner)
            return None
    return None


def invoked_variable(command: Node) -> str | None:
    """The variable ``& $x`` invokes."""
    for child in command.children:
        if child.type == "command_name_expr":
            for node in walk(child):
                if node.type == "variable":
                    return var_name(node)
    return None


def command_arguments(command: Node) -> list[Node]:
    """A command's elements after its name: parameters and arguments, separators left out."""
    for child in command.children:
        if child.type == "command_elements":
            return [c for c in child.named_children if c.type != "command_argument_sep"]
    return []


def parameter_values(command: Node) -> list[tuple[str, Node | None]]:
    """(parameter name lower-cased without the dash, its value node) pairs, switches with None."""
    elements = command_arguments(command)
    pairs: list[tuple[str, Node | None]] = []
    for index, element in enumerate(elements):
        if element.type != "command_parameter":
            continue
        value = elements[index + 1] if index + 1 < len(elements) else None
        if value is not None and value.type == "command_parameter":
            value = None
        pairs.append((node_text(element).lstrip("-").rstrip(":").lower(), value))
    return pairs


def is_string(node: Node) -> bool:
    return node.type == "string_literal"


def string_value(node: Node) -> str:
    text = node_text(node)
    if text[:2] in ("@'", '@"'):
        return text[2:-2].strip("\r\n")
    return text[1:-1] if text[:1] in ("'", '"') else text


def literals(node: Node) -> Iterator[Node]:
    for child in walk(node):
        if is_string(child):
            yield child


def command_nodes(root: Node) -> Iterator[Node]:
    for node in walk(root):
        if node.type == "command":
            yield node


@dataclass(frozen=True)
class Script:
    """One script to scan: the main text or a here-string inside it, with its position."""

    root: Node
    lines: tuple[str, ...]  # the enclosing file's lines
    row: int  # where row 0 of ``root`` is in the file
    column: int  # where column 0 of ``root``'s first row is in the file (bytes)
    file: str
    origins: tuple[str, ...]  # per file line: the script it comes from

    def finding(self, node: Node, guard: str, message: str) -> Finding:
        row, byte = node.start_point
        line = self.row + row
        if row == 0:
            byte += self.column
        source = self.lines[line] if line < len(self.lines) else ""
        column = len(source.encode("utf-8")[:byte].decode("utf-8", errors="replace")) + 1
        text = node_text(node).splitlines()[0] if node_text(node) else ""
        return Finding(
            file=self.file,
            line=line + 1,
            column=column,
            guard=guard,
            text=text.strip(),
            message=message,
            source_line=source,
            origin=self.origins[line] if line < len(self.origins) else self.file,
        )


@cache
def parse(source: str) -> Node:
    return PARSER.parse(source.encode("utf-8")).root_node


def assembled_origins(script: str) -> tuple[str, ...]:
    """For each line of the assembled check script, the ``ps/`` file it was taken from."""
    header = re.compile(r"^\$baluarteChecks\['([^']+)'\] = Get-CheckResult '[^']+' \{$")
    origins: list[str] = []
    current = "_envelope.ps1"
    for line in script.splitlines():
        match = header.match(line)
        if match is not None and match.group(1) in CHECKS:
            current = f"{match.group(1)}.ps1"
        origins.append(current)
        if line == "}" and current not in ("_envelope.ps1", "_footer.ps1"):
            current = "_footer.ps1"
    return tuple(origins)


def scripts(source: str, file: str) -> Iterator[Script]:
    lines = tuple(source.splitlines())
    name = file.replace("\\", "/").rsplit("/", 1)[-1]
    origins = assembled_origins(source) if file == ASSEMBLED else (name,) * len(lines)
    root = parse(source)
    yield Script(root, lines, 0, 0, file, origins)
    for node in walk(root):
        if node.type == "verbatim_here_string_characters":
            body = node_text(node)[2:-2]
            newline = body.find("\n")
            if newline < 0:
                continue
            inner = body[newline + 1 :].removesuffix("\n").removesuffix("\r")
            yield Script(parse(inner), lines, node.start_point[0] + 1, 0, file, origins)


# -- data flow: which values are text of a given kind --------------------------------------------

_PIPELINE_BLOCKS = frozenset({"foreach-object", "%", "where-object", "?", "where", "foreach"})


def scope_of(node: Node) -> Node:
    """The scope a variable of ``node`` lives in: a function or a script block invoked apart
    (``& { }``, ``Get-CheckResult 'id' { }``), not a ForEach-Object/Where-Object block."""
    for ancestor in ancestors(node):
        if ancestor.type in ("function_statement", "program"):
            return ancestor
        if ancestor.type == "script_block_expression":
            command = next((a for a in ancestors(ancestor) if a.type == "command"), None)
            name = command_name(command) if command is not None else None
            if name is None or name.lower() not in _PIPELINE_BLOCKS:
                return ancestor
    return node


class Flow:
    """Which variables (per scope) and pipeline items (``$_``) hold values of one kind,
    starting from the nodes ``source`` accepts and following assignments, ``foreach`` loops
    and pipelines, to a fixed point. Expressions whose result is no longer that value (a
    ``[datetime]`` cast or parse, the ``-match`` operator's Boolean) stop it."""

    def __init__(
        self,
        root: Node,
        source: Callable[[Node, Flow], bool],
        stops: Callable[[Node], bool] = lambda node: False,
    ) -> None:
        self.root = root
        self.source = source
        self.stops = stops
        self.variables: set[tuple[tuple[int, int, str], str]] = set()
        self.items: set[tuple[int, int, str]] = set()
        self._solve()

    def _solve(self) -> None:
        assignments = [n for n in walk(self.root) if n.type == "assignment_expression"]
        loops = [n for n in walk(self.root) if n.type == "foreach_statement"]
        chains = [
            n
            for n in walk(self.root)
            if n.type in ("pipeline", "pipeline_chain") and any(c.type == "|" for c in n.children)
        ]
        changed = True
        while changed:
            size = (len(self.variables), len(self.items))
            for node in assignments:
                target = node.child_by_field_name("left") or node.children[0]
                value = node.children[-1]
                if self.holds(value):
                    scope = node_key(scope_of(node))
                    for variable in walk(target):
                        if variable.type == "variable":
                            self.variables.add((scope, var_name(variable)))
            for node in loops:
                item = next((c for c in node.children if c.type == "variable"), None)
                collection = next((c for c in node.children if c.type == "pipeline"), None)
                if item is not None and collection is not None and self.holds(collection):
                    self.variables.add((node_key(scope_of(node)), var_name(item)))
            for node in chains:
                elements = [c for c in node.children if c.type != "|"]
                for index, element in enumerate(elements[1:], start=1):
                    if any(self.holds(e) for e in elements[:index]):
                        for item in walk(element):
                            if item.type == "variable" and var_name(item) in ("_", "psitem"):
                                self.items.add(node_key(item))
            changed = size != (len(self.variables), len(self.items))

    def variable(self, node: Node) -> bool:
        if node_key(node) in self.items:
            return True
        name = var_name(node)
        scopes = [node, *ancestors(node)]
        return any((node_key(s), name) in self.variables for s in scopes)

    def holds(self, node: Node) -> bool:
        """Whether the value of ``node`` (or a part of it) is of the kind."""
        if self.source(node, self):
            return True
        if self.stops(node):
            return False
        if node.type == "variable":
            return self.variable(node)
        # A command's output is not its arguments (a function may turn text into a DateTime);
        # what is piped into it flows on through the pipeline instead.
        if node.type in ("command", "script_block_expression", "function_statement"):
            return False
        return any(self.holds(child) for child in node.children)


DATETIME_TYPES = frozenset({"datetime", "datetimeoffset"})
_BOOLEAN_OPERATORS = frozenset(
    {
        f"-{p}{op}"
        for p in ("", "i", "c")
        for op in ("match", "notmatch", "like", "notlike", "eq", "ne", "contains", "notcontains")
    }
)


def no_longer_text(node: Node) -> bool:
    if node.type == "cast_expression":
        return type_name(node.children[0]) in DATETIME_TYPES
    if node.type == "invokation_expression":
        target = node.children[0]
        return target.type == "type_literal" and type_name(target) in DATETIME_TYPES
    if node.type == "comparison_expression":
        operator = next((c for c in node.children if c.type == "comparison_operator"), None)
        return operator is not None and node_text(operator).lower() in _BOOLEAN_OPERATORS
    return False


# Native programs whose output is text in the host's language (labels, dates, messages).
NATIVE = names(
    "w32tm netsh secedit manage-bde wevtutil net net1 auditpol systeminfo ipconfig schtasks "
    "sc gpresult bcdedit powercfg dism whoami quser query cmd reg wmic certutil tzutil route "
    "nltest dsregcmd fsutil icacls vssadmin wbadmin winrm tasklist netstat mpcmdrun"
)


def native_output(node: Node, flow: Flow) -> bool:
    """A native program's output: ``w32tm ...``, ``& w32tm.exe ...``, ``& $exe ...`` where
    ``$exe`` is assigned a path ending in ``.exe`` in the script."""
    if node.type != "command":
        return False
    name = command_name(node)
    if name is not None:
        base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
        return base.endswith((".exe", ".com", ".cmd")) or base in NATIVE
    variable = invoked_variable(node)
    if variable is None:
        return False
    for assignment in walk(flow.root):
        if assignment.type != "assignment_expression":
            continue
        left = node_text(assignment.children[0])
        if left.strip().lower() == f"${variable}" and re.search(
            r"\.exe\b", node_text(assignment), re.I
        ):
            return True
    return False


_TEXT_COMMANDS = frozenset({"get-content", "select-string", "import-csv", "read-host"})


def text_value(node: Node, flow: Flow) -> bool:
    """Text: native output, a file's lines, ``Select-String``, a regex capture (``$Matches``)."""
    if native_output(node, flow):
        return True
    if node.type == "command":
        name = command_name(node)
        return name is not None and name.lower() in _TEXT_COMMANDS
    return node.type == "variable" and var_name(node) == "matches"
