"""The texts the evaluators write as a Finding's expected, observed and reason, read from their
source with ``ast``: every string literal and f-string that reaches ``Outcome.passed/failed/
error/unreadable/not_applicable`` (or ``Outcome(expected=…)``), followed through local
variables (``observed += …``), lists joined with ``"; ".join``, module constants and the
evaluators' own helpers (``common.ahead_of_run``, ``not_required``), with a sample value where
the device or the policy gives one (chosen by the name of what is formatted).

Each text is a list of segments, each marked literal (written in ``checks/evaluators``) or not
(a sample value), so a test can tell our words from the device's.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ._evaluator_ast import (
    ROOT,
    added_to,
    appended_to,
    argument,
    assigned,
    calls,
    is_empty,
    param_names,
    returns,
    same_block,
    sink_args,
)
from ._evaluator_samples import sample_of, spec_of

EVALUATORS = ROOT / "checks" / "evaluators"

_MAX = 64  # candidates kept per expression: enough to cover every literal once

Segment = tuple[str, bool]  # (text, written by the evaluator)
Text = tuple[Segment, ...]


@dataclass(frozen=True)
class Written:
    """One text an evaluator can write: where, into which field, with sample values."""

    where: str
    field: str
    segments: Text

    @property
    def text(self) -> str:
        return "".join(s for s, _ in self.segments)


def _cover(options: list[list[Text]]) -> list[Text]:
    """Concatenations of one option per position such that every option is used at least
    once (not the whole product: a dozen choices in a row would be millions of texts)."""
    options = [o for o in options]
    if any(not o for o in options):
        return []
    width = min(max(len(o) for o in options), _MAX)
    return _unique(
        tuple(itertools.chain.from_iterable(o[i % len(o)] for o in options)) for i in range(width)
    )


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
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    constants: dict[str, ast.expr] = field(default_factory=dict)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # alias → (mod, name)


@dataclass(frozen=True)
class _Scope:
    module: _Module
    function: ast.FunctionDef | None
    bound: tuple[tuple[str, ast.expr, _Scope], ...] = ()  # a call's arguments, by parameter
    depth: int = 0
    resolving: frozenset[tuple[int, str]] = frozenset()  # variables being read: ``x = f"{x}"``

    def binding(self, name: str) -> tuple[ast.expr, _Scope] | None:
        for n, expr, scope in self.bound:
            if n == name:
                return expr, scope
        return None


class Evaluators:
    """The evaluators' modules, and the texts they write."""

    def __init__(self, folder: Path = EVALUATORS) -> None:
        self.modules: dict[str, _Module] = {}
        # each value formatted into a written text, as written: "module.py:line expression"
        self.formatted: dict[str, ast.expr] = {}
        for path in sorted(folder.glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            mod = _Module(path.stem, tree)
            for node in tree.body:
                if isinstance(node, ast.FunctionDef):
                    mod.functions[node.name] = node
                elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    if isinstance(target, ast.Name):
                        mod.constants[target.id] = node.value
                elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "checks.evaluators"
                ):
                    for alias in node.names:
                        where = (node.module or "").rpartition(".")[2]
                        if node.module == "checks.evaluators":  # a module imported by name
                            mod.imports[alias.asname or alias.name] = (alias.name, None)
                        else:
                            mod.imports[alias.asname or alias.name] = (where, alias.name)
            self.modules[mod.name] = mod

    # -- the sinks ---------------------------------------------------------------------------

    def written(self) -> list[Written]:
        out: list[Written] = []
        for mod in self.modules.values():
            for func in mod.functions.values():
                scope = _Scope(mod, func)
                for call in calls(func):
                    for field_name, arg in sink_args(call):
                        where = f"checks/evaluators/{mod.name}.py:{call.lineno}"
                        for text in self.texts(arg, scope):
                            out.append(Written(where, field_name, text))
                out += self._judged(mod, func)
        return list(dict.fromkeys(out))

    def _judged(self, mod: _Module, func: ast.FunctionDef) -> list[Written]:
        """A judge defined inside a control (``endpoint._judge``'s argument): the text of the
        (verdict, text) it returns is what the control observes."""
        out: list[Written] = []
        for inner in ast.walk(func):
            if not (isinstance(inner, ast.FunctionDef) and inner is not func):
                continue
            scope = _Scope(mod, inner, depth=1)
            for ret in returns(inner):
                if isinstance(ret, ast.Tuple) and len(ret.elts) == 2:
                    where = f"checks/evaluators/{mod.name}.py:{ret.lineno}"
                    for text in self._flow(ret.elts[1], scope) or []:
                        out.append(Written(where, "observed", text))
        return out

    # -- expressions -------------------------------------------------------------------------

    def texts(self, node: ast.expr, scope: _Scope) -> list[Text]:
        """The texts ``node`` can be: followed where it is ours, a sample where it is not."""
        found = self._flow(node, scope)
        return found if found is not None else [_value(sample_of(node))]

    def _flow(self, node: ast.expr, scope: _Scope) -> list[Text] | None:
        if scope.depth > 12:
            return None
        if isinstance(node, ast.Constant):
            return [_literal(node.value)] if isinstance(node.value, str) else None
        if isinstance(node, ast.JoinedStr):
            parts: list[list[Text]] = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    parts.append([_literal(str(v.value))])
                elif isinstance(v, ast.FormattedValue):
                    parts.append(self._formatted(v, scope))
            return _cover(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self._flow(node.left, scope), self._flow(node.right, scope)
            if left is None and right is None:
                return None
            return _cover(
                [left or [_value(sample_of(node.left))], right or [_value(sample_of(node.right))]]
            )
        if isinstance(node, ast.IfExp):
            return self._union([node.body, node.orelse], scope)
        if isinstance(node, ast.BoolOp):
            return self._union(node.values, scope)
        if isinstance(node, ast.NamedExpr):
            return self._flow(node.value, scope)
        if isinstance(node, ast.Name):
            return self._name(node.id, scope)
        if isinstance(node, ast.Subscript):
            return self._dict_values(node.value, scope)
        if isinstance(node, ast.Call):
            return self._call(node, scope)
        return None

    def _union(self, nodes: list[ast.expr], scope: _Scope) -> list[Text] | None:
        found = [self._flow(n, scope) for n in nodes]
        if all(f is None for f in found):
            return None
        followed = [n for n, f in zip(nodes, found, strict=True) if f and not is_empty(n)]
        out: list[Text] = []
        for n, f in zip(nodes, found, strict=True):
            if is_empty(n):  # ``x if x else ""``: nothing, unless it stands beside our text
                out += [_literal("")] if followed else []
            elif f is not None:
                out += f
            else:
                out.append(_value(sample_of(n)))
        return _unique(out)

    def _formatted(self, node: ast.FormattedValue, scope: _Scope) -> list[Text]:
        spec = spec_of(node)
        found = None if spec else self._flow(node.value, scope)
        if found is not None:
            return found
        self.formatted[f"{scope.module.name}.py:{node.lineno} {ast.unparse(node.value)}"] = (
            node.value
        )
        sample = sample_of(node.value, spec)
        if node.conversion == ord("r"):
            sample = repr(sample)
        return [_value(sample)]

    def _name(self, name: str, scope: _Scope) -> list[Text] | None:
        scope = replace(scope, depth=scope.depth + 1)  # ``x = f"{x}…"`` ends
        bound = scope.binding(name)
        if bound is not None:
            expr, outer = bound
            return self._flow(expr, outer)
        func = scope.function
        if func is not None:
            values = list(assigned(func, name))
            added = list(added_to(func, name))
            if (id(func), name) in scope.resolving:
                return None  # its own earlier value: a sample stands for it
            if values or added:
                inner = replace(scope, resolving=scope.resolving | {(id(func), name)})
                return self._variable(values, added, inner)
            unpacked = self._unpacked(func, name, scope)
            if unpacked is not None:
                return unpacked
            if name in param_names(func):
                return self._from_callers(func, name, scope)
        const = scope.module.constants.get(name)
        if const is not None:
            return self._flow(const, _Scope(scope.module, None, depth=scope.depth + 1))
        return None

    def _variable(
        self, values: list[ast.expr], added: list[ast.expr], scope: _Scope
    ) -> list[Text] | None:
        """``x = …`` (each), followed by the ``x += …`` of its own block (always), then by
        the other ``x += …`` (none, each one, all of them)."""
        if len(values) > 1:  # ``x = ""`` before the branches that set it: not a text
            values = [v for v in values if not is_empty(v)]
        func = scope.function
        owned: dict[int, list[ast.expr]] = {}
        if func is not None:
            for value in values:
                owned[id(value)] = same_block(func, value, added)
        bases: list[Text] = []
        followed = False
        for value in values or [ast.Constant("")]:
            found = self._flow(value, scope)
            followed |= found is not None
            base = found if found is not None else [_value(sample_of(value))]
            mine = [self.texts(a, scope) for a in owned.get(id(value), [])]
            bases += _cover([base, *mine])
        if not followed and values:
            return None
        always = {id(a) for own in owned.values() for a in own}
        suffixes = [self.texts(a, scope) for a in added if id(a) not in always]
        out = list(bases)
        for suffix in suffixes:
            out += _cover([bases, suffix])
        if len(suffixes) > 1:
            out += _cover([bases, *suffixes])
        return _unique(out)

    def _unpacked(self, func: ast.FunctionDef, name: str, scope: _Scope) -> list[Text] | None:
        """``a, b = helper(…)``: the helper's returned tuples at ``name``'s index."""
        for node in ast.walk(func):
            if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple)):
                continue
            names = [t.id if isinstance(t, ast.Name) else "" for t in node.targets[0].elts]
            if name not in names or not isinstance(node.value, ast.Call):
                continue
            callee = self._callee(node.value, scope)
            if callee is None:
                return None
            index = names.index(name)
            inner = self._enter(callee, node.value, scope)
            out: list[Text] = []
            for ret in returns(callee[1]):
                if isinstance(ret, ast.Tuple) and index < len(ret.elts):
                    out += self._flow(ret.elts[index], inner) or []
                    out += self._elements(ret.elts[index], inner) or []
            return _unique(out) or None
        return None

    def _from_callers(self, func: ast.FunctionDef, name: str, scope: _Scope) -> list[Text] | None:
        """A parameter of a helper read on its own: what each call site passes."""
        index = param_names(func).index(name)
        out: list[Text] = []
        followed = False
        for mod in self.modules.values():
            for caller in mod.functions.values():
                caller_scope = _Scope(mod, caller, depth=scope.depth + 1)
                for call in calls(caller):
                    callee = self._callee(call, caller_scope)
                    if callee is None or callee[1] is not func:
                        continue
                    arg = argument(call, func, index)
                    if arg is None:
                        continue
                    found = self._flow(arg, caller_scope)
                    followed |= found is not None
                    out += found if found is not None else [_value(sample_of(arg))]
        return _unique(out) if followed else None

    def _dict_values(self, node: ast.expr, scope: _Scope) -> list[Text] | None:
        target = node
        if isinstance(node, ast.Name):
            target = scope.module.constants.get(node.id) or node
            if scope.function is not None:
                local = list(assigned(scope.function, node.id))
                target = local[0] if local else target
        if isinstance(target, ast.Dict):
            return self._union([v for v in target.values if v is not None], scope)
        return None

    def _call(self, node: ast.Call, scope: _Scope) -> list[Text] | None:
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr == "join" and isinstance(func.value, ast.Constant) and node.args:
                if func.value.value == "\n":
                    return None  # evidence lines, not a finding's text
                return self._elements(node.args[0], scope)
            if func.attr == "get" and isinstance(func.value, ast.Name):
                found = self._dict_values(func.value, scope)
                if found is not None:
                    default = self._union(node.args[1:], scope) if len(node.args) > 1 else []
                    return _unique(found + (default or []))
                if len(node.args) > 1:  # problems.get(key, "fixed text")
                    return self._union([node.args[0], node.args[1]], scope)
                return None
            if func.attr in ("replace", "strip", "removeprefix") and isinstance(
                func.value, ast.Name | ast.Call | ast.JoinedStr
            ):
                base = self._flow(func.value, scope)
                args = [a.value for a in node.args if isinstance(a, ast.Constant)]
                if base is None or len(args) != len(node.args):
                    return None
                return [_method(text, func.attr, args) for text in base]
        callee = self._callee(node, scope)
        if callee is None:
            return None
        inner = self._enter(callee, node, scope)
        rets = [r for r in returns(callee[1]) if not isinstance(r, ast.Tuple)]
        returned = [self._flow(r, inner) for r in rets]
        if all(f is None for f in returned):
            return None
        return _unique(t for f in returned if f for t in f)

    def _elements(self, node: ast.expr, scope: _Scope) -> list[Text] | None:
        """The texts a list's items can be (each item alone is a one-item join)."""
        if scope.depth > 12:
            return None
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            out: list[Text] = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    out += self._elements(elt.value, scope) or []
                else:
                    out += self.texts(elt, scope)
            return _unique(out)
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            return self.texts(node.elt, scope)
        if isinstance(node, ast.Subscript):
            return self._elements(node.value, scope)
        if isinstance(node, ast.BinOp):
            return self._union_elements([node.left, node.right], scope)
        if isinstance(node, ast.IfExp):
            return self._union_elements([node.body, node.orelse], scope)
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in ("sorted", "list", "tuple"):
                return self._elements(node.args[0], scope) if node.args else None
            callee = self._callee(node, scope)
            if callee is None:
                return None
            inner = self._enter(callee, node, scope)
            return self._union_elements(list(returns(callee[1])), inner)
        if isinstance(node, ast.Name):
            scope = replace(scope, depth=scope.depth + 1)
            bound = scope.binding(node.id)
            if bound is not None:
                return self._elements(bound[0], bound[1])
            func = scope.function
            if func is None:
                return None
            items = list(assigned(func, node.id)) + list(added_to(func, node.id))
            appended = list(appended_to(func, node.id))
            found = self._union_elements(items, scope) or []
            for item in appended:
                found += self.texts(item, scope)
            found += self._filled_by_callees(func, node.id, scope)
            if not found and node.id in param_names(func):
                return self._from_callers_elements(func, node.id, scope)
            return _unique(found) or None
        return None

    def _filled_by_callees(self, func: ast.FunctionDef, name: str, scope: _Scope) -> list[Text]:
        out: list[Text] = []
        for call in calls(func):
            callee = self._callee(call, scope)
            if callee is None:
                continue
            for i, param in enumerate(param_names(callee[1])):
                arg = argument(call, callee[1], i)
                if isinstance(arg, ast.Name) and arg.id == name:
                    inner = self._enter(callee, call, scope)
                    for item in appended_to(callee[1], param):
                        out += self.texts(item, inner)
        return out

    def _union_elements(self, nodes: list[ast.expr], scope: _Scope) -> list[Text] | None:
        found = [self._elements(n, scope) for n in nodes]
        if all(f is None for f in found):
            return None
        return _unique(t for f in found if f for t in f)

    def _from_callers_elements(
        self, func: ast.FunctionDef, name: str, scope: _Scope
    ) -> list[Text] | None:
        index = param_names(func).index(name)
        out: list[Text] = []
        for mod in self.modules.values():
            for caller in mod.functions.values():
                caller_scope = _Scope(mod, caller, depth=scope.depth + 1)
                for call in calls(caller):
                    callee = self._callee(call, caller_scope)
                    if callee is None or callee[1] is not func:
                        continue
                    arg = argument(call, func, index)
                    if arg is not None:
                        out += self._elements(arg, caller_scope) or []
        return _unique(out) or None

    # -- calls -------------------------------------------------------------------------------

    def _callee(self, call: ast.Call, scope: _Scope) -> tuple[_Module, ast.FunctionDef] | None:
        func = call.func
        mod = scope.module
        if isinstance(func, ast.Name):
            if func.id in mod.functions:
                return mod, mod.functions[func.id]
            imported = mod.imports.get(func.id)
            if imported and imported[1] and imported[0] in self.modules:
                other = self.modules[imported[0]]
                if imported[1] in other.functions:
                    return other, other.functions[imported[1]]
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            imported = mod.imports.get(func.value.id)
            if imported and imported[1] is None and imported[0] in self.modules:
                other = self.modules[imported[0]]
                if func.attr in other.functions:
                    return other, other.functions[func.attr]
        return None

    def _enter(
        self, callee: tuple[_Module, ast.FunctionDef], call: ast.Call, scope: _Scope
    ) -> _Scope:
        mod, func = callee
        params = param_names(func)
        bound: list[tuple[str, ast.expr, _Scope]] = []
        for i, name in enumerate(params):
            arg = argument(call, func, i)
            if arg is not None:
                bound.append((name, arg, scope))
        return _Scope(mod, func, tuple(bound), scope.depth + 1)


def _method(text: Text, name: str, args: Sequence[object]) -> Text:
    """``str.replace/strip/removeprefix`` with constant arguments, on a text of segments."""
    words = [str(a) for a in args]
    if name == "replace":
        return tuple((s.replace(words[0], words[1]), lit) for s, lit in text)
    if not text:
        return text
    segments = [list(seg) for seg in text]
    if name == "strip":
        segments[0][0] = str(segments[0][0]).lstrip()
        segments[-1][0] = str(segments[-1][0]).rstrip()
    else:
        segments[0][0] = str(segments[0][0]).removeprefix(words[0])
    return tuple((str(s), bool(lit)) for s, lit in segments)
