"""Reading one YAML input file: plain data plus where each key sits, for file:line:column errors.

PyYAML's ``compose()`` gives a node tree with positions; we build the plain data from that same
tree, so every key of ``.data`` can be located. Everything that can go wrong while reading
(missing or unreadable file, bytes that are not UTF-8, syntax, tabs, duplicate keys, an empty
document) becomes an ``InputError`` naming file, line and column.

YAML dates (``expires: 2027-01-31``) stay ``datetime.date`` objects, as SafeLoader builds them;
pydantic accepts those (and ISO strings) for ``date`` fields.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from baluarte.errors import InputError, InputErrors

__all__ = ["Loc", "YamlDoc", "dotted", "load_yaml", "yaml_files"]

Loc = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class YamlDoc:
    """One YAML file as read: its plain data, path, SHA-256 of its bytes and its node tree."""

    path: Path
    data: Any
    sha256: str
    node: Node = field(repr=False, compare=False)

    def locate(self, loc: Sequence[str | int]) -> tuple[int, int]:
        """1-based (line, column) of the key at ``loc``; the nearest existing parent otherwise."""
        node: Node = self.node
        mark = node.start_mark
        for part in loc:
            found = _child(node, part)
            if found is None:
                break
            key_node, node = found
            mark = (key_node or node).start_mark
        return mark.line + 1, mark.column + 1


def _child(node: Node, part: str | int) -> tuple[Node | None, Node] | None:
    """(key node, value node) of ``part`` under ``node``; the last one wins, like the data."""
    if isinstance(node, MappingNode) and not isinstance(part, int):
        hit = None
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == part:
                hit = (key_node, value_node)
        return hit
    if isinstance(node, MappingNode) and isinstance(part, int):
        # An integer key in YAML (``22: ssh``) composes to the scalar "22".
        return _child(node, str(part))
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item: Node = node.value[part]
        return None, item
    return None


def load_yaml(path: Path) -> YamlDoc:
    """Read ``path`` as one YAML document. Raises InputError with file:line:column."""
    raw = _read_bytes(path)
    text = _decode(raw, path)
    node = _compose(text, path)
    if node is None:
        raise InputError(
            "the file is empty (no YAML document in it)",
            code="empty_file",
            file=path,
            line=1,
            column=1,
        )
    _refuse_duplicate_keys(node, path)
    loader = yaml.SafeLoader("")
    try:
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, path, text) from exc
    finally:
        loader.dispose()
    return YamlDoc(path=path, data=data, sha256=hashlib.sha256(raw).hexdigest(), node=node)


def _read_bytes(path: Path) -> bytes:
    if path.is_dir():
        raise InputError(
            "is a directory, not a file",
            code="unreadable_file",
            file=path,
        )
    if not path.exists():
        hint = " (the link points nowhere)" if path.is_symlink() else ""
        raise InputError(f"no such file{hint}", code="missing_file", file=path)
    try:
        return path.read_bytes()
    except PermissionError as exc:
        raise InputError("permission denied", code="unreadable_file", file=path) from exc
    except OSError as exc:
        raise InputError(
            f"cannot read: {exc.strerror or exc}", code="unreadable_file", file=path
        ) from exc


def _decode(raw: bytes, path: Path) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise InputError(
            f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; save the file as UTF-8",
            code="not_utf8",
            file=path,
            line=line,
            column=column,
        ) from exc
    # A UTF-8 byte-order mark is harmless; editors on Windows add it.
    return text.removeprefix("\ufeff")


def _compose(text: str, path: Path) -> Node | None:
    try:
        node: Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, path, text) from exc
    except yaml.YAMLError as exc:  # unmarked: rare, e.g. a reader error on control characters
        raise InputError(f"not valid YAML: {exc}", code="yaml_syntax", file=path) from exc
    return node


def _syntax_error(exc: yaml.MarkedYAMLError, path: Path, text: str) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    column = mark.column + 1 if mark else None
    problem = exc.problem or "not valid YAML"
    if "'\\t'" in problem:
        # PyYAML's "found character '\t' that cannot start any token" hides the real cause.
        src_line = (
            text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
        )
        tab_at = src_line.find("\t")
        return InputError(
            "tabs are not allowed for indentation; use spaces",
            code="tab",
            file=path,
            line=line,
            column=tab_at + 1 if tab_at >= 0 else column,
        )
    message = problem
    if exc.context and exc.context_mark and mark is not exc.context_mark:
        message += f" ({exc.context} started at line {exc.context_mark.line + 1})"
    elif exc.context:
        message += f" ({exc.context})"
    message = message.replace("<stream end>", "the end of the file")
    if "mapping values are not allowed here" in problem:
        message += "; a value containing ': ' must be quoted"
    return InputError(message, code="yaml_syntax", file=path, line=line, column=column)


def _refuse_duplicate_keys(root: Node, path: Path) -> None:
    """PyYAML keeps the last of two equal keys silently; we refuse instead (all of them at once)."""
    errors: list[InputError] = []
    stack: list[tuple[Node, Loc]] = [(root, ())]
    seen_nodes: set[int] = set()
    while stack:
        node, loc = stack.pop()
        if id(node) in seen_nodes:  # aliases may share nodes (and recurse)
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            first: dict[Hashable, Node] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                    stack.append((value_node, loc))
                    continue
                key = key_node.value
                stack.append((value_node, (*loc, key)))
                if key in first:
                    earlier = first[key].start_mark.line + 1
                    errors.append(
                        InputError(
                            f"duplicate key '{key}' (already set at line {earlier} in the same"
                            " mapping; YAML would silently keep only the last: remove one)",
                            code="duplicate_key",
                            file=path,
                            line=key_node.start_mark.line + 1,
                            column=key_node.start_mark.column + 1,
                            key=dotted((*loc, key)),
                        )
                    )
                first[key] = key_node
        elif isinstance(node, SequenceNode):
            stack.extend((item, (*loc, i)) for i, item in enumerate(node.value))
    errors.sort(key=lambda e: (e.line or 0, e.column or 0))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors(errors)


def dotted(loc: Sequence[str | int]) -> str:
    """A key path as people read it: ``clients[0].sites[0].devices[1].platform``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def yaml_files(paths: Sequence[Path], *, what: str, skip: Sequence[str] = ()) -> list[Path]:
    """Files named by ``paths``: a directory means its *.yaml and *.yml files, sorted.

    Raises InputError for a path that does not exist or a directory without YAML files.
    """
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.suffix in (".yaml", ".yml") and p.name not in skip and not p.is_dir()
            )
            if not found:
                raise InputError(
                    f"no {what} files (*.yaml, *.yml) in this directory",
                    code="missing_file",
                    file=path,
                )
            out.extend(found)
        elif not path.exists() and not path.is_symlink():
            raise InputError(f"no such {what} file or directory", code="missing_file", file=path)
        else:
            out.append(path)
    return out
