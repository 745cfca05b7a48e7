"""Reading the evaluators' source with ``ast``: the Outcome constructors, a function's
parameters and arguments, and what a variable is set to (``x = …``, ``x += …``, ``x.append``).
Helpers of ``_evaluator_texts``."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).parents[3]

# the Outcome constructors and which of their positional arguments are written text
SINKS: dict[str, tuple[str, ...]] = {
    "passed": ("expected", "observed"),
    "failed": ("expected", "observed", "reason"),
    "error": ("reason", "expected"),
    "unreadable": ("reason", "expected"),
    "not_applicable": ("reason",),
}
FIELDS = ("expected", "observed", "reason")


def container_fields(
    folders: Iterable[Path] = (ROOT / "checks" / "facts", ROOT / "checks" / "policy"),
) -> frozenset[str]:
    """The fields of the facts and policy models that hold a tuple, list, set or dict wherever
    a model declares them (formatted as they are, they read as Python: ``('a', 'b')``)."""
    kinds: dict[str, set[bool]] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    shown = ast.unparse(node.annotation)
                    container = shown.split("[")[0] in ("tuple", "list", "set", "frozenset", "dict")
                    kinds.setdefault(node.target.id, set()).add(container)
    return frozenset(name for name, seen in kinds.items() if seen == {True})


def calls(func: ast.FunctionDef) -> Iterator[ast.Call]:
    for node in ast.walk(func):
        if isinstance(node, ast.Call):
            yield node


def sink_args(call: ast.Call) -> Iterator[tuple[str, ast.expr]]:
    """(field, argument) of an Outcome constructor call."""
    func = call.func
    names: list[str] = []
    if isinstance(func, ast.Attribute) and _is_outcome(func.value) and func.attr in SINKS:
        names = [func.attr]
    elif isinstance(func, ast.IfExp):  # (Outcome.unreadable if … else Outcome.error)(…)
        for branch in (func.body, func.orelse):
            if isinstance(branch, ast.Attribute) and _is_outcome(branch.value):
                names.append(branch.attr)
    elif isinstance(func, ast.Name) and func.id == "Outcome":
        names = ["__init__"]
    if not names:
        return
    positional = SINKS.get(names[0], ())
    for i, arg in enumerate(call.args[: len(positional)]):
        yield positional[i], arg
    for kw in call.keywords:
        if kw.arg in FIELDS:
            yield kw.arg, kw.value


def _is_outcome(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "Outcome"


def param_names(func: ast.FunctionDef) -> list[str]:
    return [a.arg for a in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs)]


def argument(call: ast.Call, func: ast.FunctionDef, index: int) -> ast.expr | None:
    """The argument a call passes for ``func``'s parameter number ``index`` (or its default)."""
    params = param_names(func)
    name = params[index]
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    if index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args):
        return call.args[index]
    positional = [*func.args.posonlyargs, *func.args.args]
    defaults = func.args.defaults
    first = len(positional) - len(defaults)
    if first <= index < len(positional):
        return defaults[index - first]
    return None


def own_nodes(func: ast.FunctionDef) -> Iterator[ast.AST]:
    """The nodes of ``func``, not of the functions defined inside it."""
    todo: list[ast.AST] = list(reversed(func.body))  # in the order they are written
    while todo:
        node = todo.pop()
        yield node
        children = [c for c in ast.iter_child_nodes(node)]
        todo += [c for c in reversed(children) if not isinstance(c, ast.FunctionDef | ast.Lambda)]


def assigned(func: ast.FunctionDef, name: str) -> Iterator[ast.expr]:
    for node in own_nodes(func):
        if isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                yield node.value
        elif isinstance(node, ast.AnnAssign | ast.NamedExpr):
            target = node.target
            if isinstance(target, ast.Name) and target.id == name and node.value is not None:
                yield node.value


def added_to(func: ast.FunctionDef, name: str) -> Iterator[ast.expr]:
    for node in own_nodes(func):
        if (
            isinstance(node, ast.AugAssign)
            and isinstance(node.op, ast.Add)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ):
            yield node.value


def appended_to(func: ast.FunctionDef, name: str) -> Iterator[ast.expr]:
    for node in own_nodes(func):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
            and node.args
        ):
            yield node.args[0]


def is_empty(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and not node.value


def same_block(func: ast.FunctionDef, value: ast.expr, added: list[ast.expr]) -> list[ast.expr]:
    """The ``x += …`` that follow ``x = value`` in its own block: they always run after it."""
    for node in [func, *own_nodes(func)]:
        for block in (getattr(node, "body", None), getattr(node, "orelse", None)):
            if not isinstance(block, list):
                continue
            at = [
                i for i, st in enumerate(block) if isinstance(st, ast.Assign) and st.value is value
            ]
            if at:
                return [
                    st.value
                    for st in block[at[0] + 1 :]
                    if isinstance(st, ast.AugAssign) and any(st.value is a for a in added)
                ]
    return []


def returns(func: ast.FunctionDef) -> Iterator[ast.expr]:
    for node in own_nodes(func):
        if isinstance(node, ast.Return) and node.value is not None:
            yield node.value
