"""Reading the engine's source with ``ast``: a function's own nodes and parameters, what a
variable is set to (and which of those values can reach a use of it), what a list is appended.
Helpers of ``_engine_texts``."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from ._engine_samples import keys_of

Function = ast.FunctionDef | ast.AsyncFunctionDef


def own_nodes(func: Function) -> Iterator[ast.AST]:
    """The nodes of ``func``, not of the functions defined inside it."""
    todo: list[ast.AST] = list(reversed(func.body))
    while todo:
        node = todo.pop()
        yield node
        children = list(ast.iter_child_nodes(node))
        todo += [c for c in reversed(children) if not isinstance(c, Function | ast.Lambda)]


def param_names(func: Function) -> list[str]:
    """Every parameter name, positional and keyword."""
    return [a.arg for a in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs)]


def called(call: ast.Call) -> str | None:
    """The name a call calls: ``f(…)`` and ``x.f(…)`` both ``f``."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def pairs(targets: Sequence[ast.expr], value: ast.expr) -> Iterator[tuple[ast.expr, ast.expr]]:
    """(target, value) of an assignment, ``a, b = x, y`` element by element."""
    for target in targets:
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            yield from zip(target.elts, value.elts, strict=False)
        else:
            yield target, value


def assigned(func: Function, name: str) -> Iterator[ast.expr]:
    """What ``name`` is set to in ``func`` (``x = …``, ``a, x = …, …``, ``x: T = …``)."""
    for node in own_nodes(func):
        if isinstance(node, ast.Assign):
            for target, value in pairs(node.targets, node.value):
                if isinstance(target, ast.Name) and target.id == name:
                    yield value
        elif isinstance(node, ast.AnnAssign | ast.NamedExpr):
            target = node.target
            if isinstance(target, ast.Name) and target.id == name and node.value is not None:
                yield node.value


def reaching(func: Function, use: ast.Name) -> list[ast.expr]:
    """The values of ``use``'s variable that can reach it: going back from the statement that
    holds it, block by block outwards, the assignments inside earlier statements (a branch may
    set it) until one made at the block's own level (it always runs)."""
    parents = _parents(func)
    out: list[ast.expr] = []
    node: ast.AST = use
    while node is not func:
        parent = parents.get(id(node))
        if parent is None:
            return out
        for block in (getattr(parent, f, None) for f in ("body", "orelse", "finalbody")):
            if not isinstance(block, list) or node not in block:
                continue
            for stmt in reversed(block[: block.index(node)]):
                direct = [v for t, v in _targets(stmt) if named(t, use.id)]
                if direct:
                    return out + direct
                out += [v for inner in ast.walk(stmt) for t, v in _targets(inner)
                        if named(t, use.id)]  # fmt: skip
        node = parent
    return out


def _parents(func: Function) -> dict[int, ast.AST]:
    return {id(child): node for node in ast.walk(func) for child in ast.iter_child_nodes(node)}


def _targets(stmt: ast.AST) -> list[tuple[ast.expr, ast.expr]]:
    if isinstance(stmt, ast.Assign):
        return list(pairs(stmt.targets, stmt.value))
    if isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        return [(stmt.target, stmt.value)]
    return []


def named(target: ast.expr, name: str) -> bool:
    return isinstance(target, ast.Name) and target.id == name


def appended(func: Function, name: str) -> Iterator[ast.expr]:
    """What ``name.append(…)`` adds in ``func``."""
    for node in own_nodes(func):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and keys_of(node.func.value) == [name]
            and node.args
        ):
            yield node.args[0]


def returns(func: Function) -> Iterator[ast.expr]:
    """What ``func`` returns (not its inner functions)."""
    for node in own_nodes(func):
        if isinstance(node, ast.Return) and node.value is not None:
            yield node.value


def added(func: Function, name: str) -> Iterator[ast.expr]:
    """What ``name += …`` adds in ``func``."""
    for node in own_nodes(func):
        if isinstance(node, ast.AugAssign) and named(node.target, name):
            yield node.value
