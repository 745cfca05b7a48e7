"""The texts the engine, the transports and apply write into a finding's reason or a remediation
record, read from their source with ``ast``: every string literal and f-string that reaches

- an error a device's findings carry (``DeviceError`` and its kinds, the FortiOS errors, an
  ``InputError`` of a secret or a connection setting, a ``TimeoutError`` the SSH worker raises),
- an ``Outcome`` constructor (``baluarte/evaluate.py``),
- a keyword or parameter that holds such prose (``reason=``, ``detail=``, ``refused=``,
  ``error=``, ``why``…: a ``RemedyOutcome``, a ``RemediationRecord`` note, an SSH answer),
  a variable of that name, a domain's ``problems[…]``,
- or the return of a function that words one (``describe_device_error``, ``reason_for``,
  ``guard``…, ``TEXT_FUNCTIONS``),

followed through local variables, module constants and tables, ``"; ".join`` and helpers of the
same module, with a sample value where the device, a library or the policy gives one (chosen by
the name of what is formatted). Each text is a list of segments marked literal (ours) or not.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ._engine_ast import (
    Function,
    added,
    appended,
    assigned,
    called,
    own_nodes,
    pairs,
    param_names,
    reaching,
    returns,
)
from ._engine_samples import keys_of, sample
from ._evaluator_ast import ROOT, sink_args
from ._evaluator_samples import spec_of

Segment = tuple[str, bool]  # (text, written by us)
Text = tuple[Segment, ...]

# Where the texts are written (relative to the repository).
SOURCES: tuple[str, ...] = (
    "baluarte/evaluate.py",
    "baluarte/collected.py",
    "baluarte/secrets.py",
    "baluarte/apply.py",
    "checks/device_errors.py",
    "checks/linux/collector.py",
    "checks/windows/collector.py",
    "checks/windows/parse.py",
    "checks/fortigate/collector.py",
    "deploys/common.py",
)
FOLDERS = ("baluarte/transports",)
EXECUTORS = "deploys/*/executor*.py"

# Errors whose message becomes a finding's reason (``describe_device_error``) or a record's note.
ERRORS = frozenset(
    {
        "DeviceError",
        "Unreachable",
        "AuthFailed",
        "TimedOut",
        "BadAnswer",
        "FortiOSError",
        "FortiOSAuthError",
        "FortiOSBadAnswer",
        "TlsVerificationFailed",
        "Dropped",
        "InputError",  # a secret or a connection setting: ``settings_error`` passes it on
        "TimeoutError",  # the SSH worker's own: its text is the host's reason
        "_PlanError",  # an operation that could not be planned: the op's error
    }
)
# apply's own InputErrors are the command line's (usage), never stored
NOT_STORED = {"baluarte/apply.py": frozenset({"InputError"})}
# keywords, parameters and variables that hold the prose a reader is shown
WORDS = frozenset(
    {"reason", "detail", "refused", "why", "note", "message", "error", "problem", "undone", "wrong"}
)
KEYWORDS = WORDS | {"text"}  # ``Manual(text=…)``
# functions whose returned text (or a (…, text, …) tuple's texts) is shown
TEXT_FUNCTIONS = frozenset(
    {
        "describe_device_error",
        "reason_for",
        "guard",
        "_stale",
        "_judge",
        "judge",
        "describe",
        "_tls_message",
        "_record_text",
        "_take_backup",
        "_entry_problem",
        "plain_secret_problem",
        "_not_plain",
    }
)


def _holds_prose(target: ast.expr) -> bool:
    """``reason = …``, ``detail += …``, ``problems[domain] = …``."""
    if isinstance(target, ast.Name):
        return target.id in WORDS
    return isinstance(target, ast.Subscript) and keys_of(target.value)[-1:] == ["problems"]


@dataclass(frozen=True)
class Written:
    """One text the engine can store: where, and its segments (sample values marked)."""

    where: str
    segments: Text

    @property
    def text(self) -> str:
        return "".join(s for s, _ in self.segments)


_MAX = 48  # texts kept per expression: enough to use every literal once


def _cover(options: list[list[Text]]) -> list[Text]:
    """Concatenations of one option per position, every option used at least once."""
    if any(not o for o in options):
        return []
    width = min(max(len(o) for o in options), _MAX)
    out = (
        tuple(itertools.chain.from_iterable(o[i % len(o)] for o in options)) for i in range(width)
    )
    return _unique(out)


def _unique(texts: Iterable[Text]) -> list[Text]:
    return list(dict.fromkeys(texts))[:_MAX]


def _literal(value: str) -> Text:
    return ((value, True),)


def _value(value: str) -> Text:
    return ((value, False),)


@dataclass
class _Module:
    name: str
    tree: ast.Module
    functions: dict[str, list[Function]] = field(default_factory=dict)
    constants: dict[str, ast.expr] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> _Module:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
        mod = cls(name, tree)
        for node in ast.walk(tree):  # methods and nested helpers too (apply's ``record``)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                mod.functions.setdefault(node.name, []).append(node)
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        mod.constants[t.id] = node.value
        return mod


def sources() -> list[Path]:
    paths = [ROOT / p for p in SOURCES]
    for folder in FOLDERS:
        paths += sorted((ROOT / folder).rglob("*.py"))
    paths += sorted(ROOT.glob(EXECUTORS))
    return paths


class EngineTexts:
    """The modules of ``sources()`` and the texts they store."""

    def __init__(self, paths: Iterable[Path] | None = None) -> None:
        self.modules = [_Module.read(p) for p in (sources() if paths is None else paths)]

    def written(self) -> list[Written]:
        out: list[Written] = []
        for mod in self.modules:
            for funcs in mod.functions.values():
                for func in funcs:
                    for line, expr in self._sinks(mod, func):
                        where = f"{mod.name}:{line}"
                        out += [Written(where, t) for t in self.texts(expr, mod, func)]
        return list(dict.fromkeys(out))

    # -- where prose is stored ---------------------------------------------------------------

    def _sinks(self, mod: _Module, func: Function) -> Iterator[tuple[int, ast.expr]]:
        """(line, expression) of each text ``func`` stores."""
        errors = ERRORS - NOT_STORED.get(mod.name, frozenset())
        for node in own_nodes(func):
            if isinstance(node, ast.Call):
                yield from ((node.lineno, e) for e in self._arguments(mod, node, errors))
            elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                if node.value is None:
                    continue
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target, value in pairs(targets, node.value):
                    if _holds_prose(target):
                        yield node.lineno, value
            elif isinstance(node, ast.Return) and node.value is not None:
                value = node.value
                if func.name in TEXT_FUNCTIONS:
                    for elt in value.elts if isinstance(value, ast.Tuple) else [value]:
                        yield node.lineno, elt

    def _arguments(
        self, mod: _Module, call: ast.Call, errors: frozenset[str]
    ) -> Iterator[ast.expr]:
        """The arguments of ``call`` that are stored as prose."""
        if called(call) in errors and call.args:
            yield call.args[0]
        for _field, arg in sink_args(call):
            yield arg
        for kw in call.keywords:
            if kw.arg in KEYWORDS:
                yield kw.value
        for params in self._params(mod, call):
            for param, arg in zip(params, call.args, strict=False):
                if param in WORDS:
                    yield arg

    def _params(self, mod: _Module, call: ast.Call) -> list[list[str]]:
        """The parameter names of the module's own function (or method) ``call`` calls."""
        func = call.func
        name = None
        if isinstance(func, ast.Name):
            name = func.id
        elif isinstance(func, ast.Attribute) and keys_of(func.value) == ["self"]:
            name = func.attr
        out = []
        for f in mod.functions.get(name or "", []):
            params = param_names(f)
            out.append(params[1:] if params[:1] == ["self"] else params)
        return out

    # -- what an expression can be -----------------------------------------------------------

    def texts(
        self, node: ast.expr, mod: _Module, func: Function | None, depth: int = 0
    ) -> list[Text]:
        found = self._flow(node, mod, func, depth, frozenset())
        return found if found is not None else [_value(sample(node))]

    def _flow(
        self,
        node: ast.expr,
        mod: _Module,
        func: Function | None,
        depth: int,
        resolving: frozenset[str],
    ) -> list[Text] | None:
        """The texts ``node`` can be, or None when it is not ours to follow (a sample)."""
        if depth > 12:
            return None

        def flow(n: ast.expr) -> list[Text] | None:
            return self._flow(n, mod, func, depth + 1, resolving)

        def either(n: ast.expr) -> list[Text]:
            found = flow(n)
            return found if found is not None else [_value(sample(n))]

        if isinstance(node, ast.Constant):
            return [_literal(node.value)] if isinstance(node.value, str) else []
        if isinstance(node, ast.JoinedStr):
            parts: list[list[Text]] = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    parts.append([_literal(str(v.value))])
                elif isinstance(v, ast.FormattedValue):
                    spec = spec_of(v)
                    found = None if spec else flow(v.value)
                    if found is None:
                        found = [_value(sample(v.value, spec))]
                    if v.conversion == ord("r"):  # a text shown as Python writes it: a value
                        found = [_value(repr("".join(s for s, _ in t))) for t in found]
                    parts.append(found)
            return _cover(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return _cover([either(node.left), either(node.right)])
        if isinstance(node, ast.IfExp):
            return _unique([*either(node.body), *either(node.orelse)])
        if isinstance(node, ast.BoolOp):
            return _unique(t for v in node.values for t in either(v))
        if isinstance(node, ast.List | ast.ListComp):  # lines or parts: each alone
            return self._elements(node, mod, func, depth + 1, resolving)
        if isinstance(node, ast.Dict):  # a table: each of its texts
            return _unique(t for v in node.values if v is not None for t in either(v))
        if isinstance(node, ast.Name):
            return self._name(node, mod, func, depth, resolving)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            table = mod.constants.get(node.value.id)  # TABLE[key]: each of its texts
            return flow(table) if isinstance(table, ast.Dict) else None
        if isinstance(node, ast.Call):
            return self._call(node, mod, func, depth, resolving)
        return None

    def _name(
        self,
        node: ast.Name,
        mod: _Module,
        func: Function | None,
        depth: int,
        resolving: frozenset[str],
    ) -> list[Text] | None:
        name = node.id
        if name in resolving:  # ``x = f"{x}…"`` where no earlier value reaches: a sample
            return None
        inner = resolving | {name}
        if func is not None:
            values = reaching(func, node) or list(assigned(func, name))
            if values:
                out: list[Text] = []
                for v in values:
                    found = self._flow(v, mod, func, depth + 1, inner)
                    out += found if found is not None else [_value(sample(v))]
                return _unique(out)
            if name in param_names(func):
                return None
        const = mod.constants.get(name)
        if const is not None:
            return self._flow(const, mod, None, depth + 1, inner)
        return None

    def _call(
        self,
        node: ast.Call,
        mod: _Module,
        func: Function | None,
        depth: int,
        resolving: frozenset[str],
    ) -> list[Text] | None:
        target = node.func
        if isinstance(target, ast.Attribute):
            if target.attr == "join" and node.args:  # "; ".join(parts): each part alone
                return self._elements(node.args[0], mod, func, depth + 1, resolving)
            if target.attr == "get" and node.args:  # TABLE.get(key, "default")
                table = self._flow(target.value, mod, func, depth + 1, resolving) or []
                default = [
                    t
                    for d in node.args[1:]
                    for t in (self._flow(d, mod, func, depth + 1, resolving) or [])
                ]
                return _unique([*table, *default]) or None
            if target.attr in ("strip", "rstrip", "lstrip"):
                return self._flow(target.value, mod, func, depth + 1, resolving)
        name = target.id if isinstance(target, ast.Name) else None
        if isinstance(target, ast.Attribute) and keys_of(target.value) == ["self"]:
            name = target.attr
        if name in TEXT_FUNCTIONS:
            out: list[Text] = []
            for callee in mod.functions.get(name, []):
                for ret in returns(callee):
                    if not isinstance(ret, ast.Tuple):
                        out += self._flow(ret, mod, callee, depth + 1, frozenset()) or []
            return _unique(out) or None
        return None

    def _elements(
        self,
        node: ast.expr,
        mod: _Module,
        func: Function | None,
        depth: int,
        resolving: frozenset[str],
    ) -> list[Text] | None:
        """The texts a joined list's items can be (each item alone: the pack splits a joined
        text at ``"; "`` and shows each part through ``phrase``)."""
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            out: list[Text] = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    out += self._elements(elt.value, mod, func, depth + 1, resolving) or []
                else:
                    out += self.texts(elt, mod, func, depth + 1)
            return _unique(out)
        if isinstance(node, ast.ListComp | ast.GeneratorExp):
            return self.texts(node.elt, mod, func, depth + 1)
        if isinstance(node, ast.Name) and func is not None:
            out = []
            for value in assigned(func, node.id):
                out += self._elements(value, mod, func, depth + 1, resolving) or []
            for value in added(func, node.id):  # ``problems += [f"…", …]``
                out += self._elements(value, mod, func, depth + 1, resolving) or []
            for value in appended(func, node.id):
                out += self.texts(value, mod, func, depth + 1)
            return _unique(out) or None
        return None
