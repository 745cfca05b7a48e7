"""The remediation words a reader sees — remedy summaries, manual instructions, step names,
refusals and apply's own notes — found in their declarations, for the report catalogues.

Remediation records keep this text in English as apply wrote it (signed, hashed): the pack
translates it when it renders (``phrases.py``), by exact match on a catalogued msgid. So the
msgids are read where the text is written, without running anything: the source of
``deploys/`` and ``baluarte/apply.py`` is parsed (``ast``) and every string literal in a
remediation-text position is collected — a ``summary=``/``text=``/``reason=``/``detail=``
argument (also by position, to a function of the same module naming its parameter so), a
Step's ``what=``, a step's name (``op("…", …)``), a ``summary``/``text``/``reason`` variable,
a module constant they name, and the ``MANUAL`` tables. Text built at run time (an f-string,
``.format``) cannot match a msgid: it is reported as such (``built``), not guessed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RemedyText", "remedy_texts", "sources"]

ROOT = Path(__file__).resolve().parents[2]
# parameters and variables holding prose (``what`` only as a Step's: helpers use it for nouns)
_WORDS = ("summary", "text", "reason", "detail")
_STEP_FUNCTIONS = ("op",)  # op(name, module, function, …): the step's name comes first


@dataclass(frozen=True)
class RemedyText:
    where: str  # "deploys/linux/access.py:168"
    text: str | None  # the English text (the msgid); None when built at run time

    @property
    def built(self) -> bool:
        return self.text is None


def sources() -> list[Path]:
    return [*sorted((ROOT / "deploys").rglob("*.py")), ROOT / "baluarte" / "apply.py"]


def remedy_texts() -> list[RemedyText]:
    """Every remediation text of the declarations, in file and line order (repeats kept)."""
    modules = [_Module(path) for path in sources()]
    # a helper imported from a sibling module (fortigate's ``remedy(summary, …)``) maps its
    # positional arguments too; a module's own function of the same name comes first
    shared: dict[str, list[str]] = {}
    for m in modules:
        shared |= {k: v for k, v in m.params.items() if not k.startswith("_")}
    out: list[RemedyText] = []
    for m in modules:
        m.params = shared | m.params
        out += m.texts()
    return out


class _Module:
    def __init__(self, path: Path) -> None:
        self.name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
        self.tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        self.constants: dict[str, list[str]] = {}  # module name → its string value(s)
        self.params: dict[str, list[str]] = {}  # module function → its parameter names
        for node in self.tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                values = _strings(node.value)
                if isinstance(node.value, ast.Dict):
                    values = [s for v in node.value.values for s in _strings(v) or []]
                for t in targets:
                    if isinstance(t, ast.Name) and values:
                        self.constants[t.id] = values
        for fn in ast.walk(self.tree):  # nested helpers too (apply's ``record``)
            if isinstance(fn, ast.FunctionDef):
                self.params[fn.name] = [a.arg for a in fn.args.args]

    def texts(self) -> list[RemedyText]:
        found: list[RemedyText] = []
        for manual in ("MANUAL",):
            for s in self.constants.get(manual, []):
                found.append(RemedyText(f"{self.name}:{manual}", s))
        for node in ast.walk(self.tree):
            for value in self._prose(node):
                texts = self._texts(value)
                if _file_content(node):  # ``text = …`` may be a file's content, never shown
                    texts = [t for t in texts if not t.built]
                found += texts
        return sorted(found, key=lambda t: (t.where.split(":")[0], _line(t.where)))

    def _prose(self, node: ast.AST) -> Iterator[ast.expr]:
        """The expressions of ``node`` that hold remediation prose."""
        if isinstance(node, ast.Call):
            name = _called(node)
            for kw in node.keywords:
                if kw.arg in _WORDS or (kw.arg == "what" and name == "Step"):
                    yield kw.value
            if name in _STEP_FUNCTIONS and node.args:
                yield node.args[0]
            elif name in self.params:
                for param, arg in zip(self.params[name], node.args, strict=False):
                    if param in _WORDS:
                        yield arg
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in _WORDS for t in node.targets
        ):
            yield node.value

    def _texts(self, value: ast.expr) -> list[RemedyText]:
        """The text(s) ``value`` can be: literals, the module constants it names (a table's
        every value), both branches of a choice; a text built at run time is ``built``."""
        where = f"{self.name}:{value.lineno}"
        if isinstance(value, ast.Constant):
            return [RemedyText(where, value.value)] if isinstance(value.value, str) else []
        if isinstance(value, ast.Name):  # a module constant; a local is read where it is set
            return [RemedyText(where, s) for s in self.constants.get(value.id, [])]
        if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
            return self._texts(value.value)
        if isinstance(value, ast.IfExp):
            return self._texts(value.body) + self._texts(value.orelse)
        if isinstance(value, ast.BoolOp):  # ``text or "the default"``
            return [t for v in value.values for t in self._texts(v)]
        if isinstance(value, ast.Attribute | ast.Call) and not _formats(value):
            return []  # another object's text (remedy.summary): read where that is set
        return [RemedyText(where, None)]


def _file_content(node: ast.AST) -> bool:
    return isinstance(node, ast.Assign) and all(
        isinstance(t, ast.Name) and t.id == "text" for t in node.targets
    )


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _formats(node: ast.expr) -> bool:
    """``"…".format(…)`` or ``CONSTANT.format(…)``: text built from a template."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    )


def _strings(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    return None


def _line(where: str) -> int:
    tail = where.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0
