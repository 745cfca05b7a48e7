"""Reading one YAML input file: plain data plus where each key sits, for file:line:column errors.

PyYAML's ``compose()`` gives a node tree with positions; we build the plain data from that same
tree, so every key of ``.data`` can be located. Everything that can go wrong while reading
(missing or unreadable file, bytes that are not UTF-8, syntax, tabs, duplicate keys, an empty
document) becomes an ``InputError`` naming file, line and column.

YAML dates (``expires: 2027-01-31``) stay ``datetime.date`` objects, as SafeLoader builds them;
pydantic accepts those (and ISO strings) for ``date`` fields. A date the calendar does not have
(``2026-02-30``, ``0000-01-01``) is an ``impossible_date`` error at its position.

A file larger than ``MAX_YAML_BYTES`` is refused before it is parsed (``file_too_large``): a
parsed YAML file takes some 50 times its size in memory, so the bound keeps a run's memory
bounded whatever it is given. The node tree is composed by libyaml when PyYAML has it (about
four times faster, a third less memory); a file it refuses is parsed again by the pure-Python
parser, whose messages and positions are the ones docs/errors.md shows.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from baluarte.errors import InputError, InputErrors

__all__ = ["MAX_YAML_BYTES", "Loc", "YamlDoc", "dotted", "load_yaml", "yaml_files"]

Loc = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"

# 8 MiB: some 35,000 devices in one inventory file; about 0.5 GB of memory to load.
MAX_YAML_BYTES = 8 * 1024 * 1024

_FAST_LOADER: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)


class _BadScalar(Exception):
    """A value its tag cannot build: ``2026-02-30``, ``!!int 'x'``, ``!!binary '%'``."""

    def __init__(self, node: Node, why: str) -> None:
        super().__init__(why)
        self.node = node
        self.why = why


class _Constructor(yaml.SafeLoader):
    """SafeLoader's constructor, but a value its tag cannot build is an error at its node.

    SafeLoader lets Python's own error out (datetime's "day is out of range for month",
    int()'s "invalid literal"), with no position and not as a YAML error.
    """

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as exc:  # never a YAMLError or our own
            raise _BadScalar(node, str(exc)) from exc


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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a tree of many small objects is built.

    Building it triggers collections that each walk every object made so far: loading time
    grew with the square of the file's size (8 MB took 26 s, 8 s without them). Nothing is
    lost: what became garbage meanwhile is collected once collection is on again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_yaml(path: Path) -> YamlDoc:
    """Read ``path`` as one YAML document. Raises InputError with file:line:column."""
    raw = _read_bytes(path)
    text = _decode(raw, path)
    with _gc_paused():
        return _load_text(path, raw, text)


def _load_text(path: Path, raw: bytes, text: str) -> YamlDoc:
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
    loader = _Constructor("")
    try:
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, path, text) from exc
    except _BadScalar as exc:
        raise _bad_scalar(exc, node, path) from exc
    finally:
        loader.dispose()
    return YamlDoc(path=path, data=data, sha256=hashlib.sha256(raw).hexdigest(), node=node)


def _bad_scalar(exc: _BadScalar, root: Node, path: Path) -> InputError:
    shown = str(exc.node.value) if isinstance(exc.node, ScalarNode) else "this value"
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    tag = exc.node.tag.removeprefix("tag:yaml.org,2002:")
    if exc.node.tag == _TIMESTAMP_TAG:
        code, message = "impossible_date", f"'{shown}' is not a date the calendar has"
        allowed = "a real date, YYYY-MM-DD, years 1 to 9999 (quote it to keep it as text)"
    else:
        code, message = "wrong_value", f"'{shown}' is not a valid !!{tag} value"
        allowed = f"a value !!{tag} accepts, or no tag"
    mark = exc.node.start_mark
    loc = _path_to(root, exc.node)
    return InputError(
        f"{message} ({exc.why})",
        code=code,
        file=path,
        line=mark.line + 1,
        column=mark.column + 1,
        key=dotted(loc) if loc else None,
        allowed=allowed,
    )


def _path_to(root: Node, target: Node) -> Loc | None:
    """The key path of ``target`` under ``root`` (None if it is only reached through aliases)."""
    stack: list[tuple[Node, Loc]] = [(root, ())]
    seen: set[int] = set()
    while stack:
        node, loc = stack.pop()
        if node is target:
            return loc
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if key_node is target:
                    return loc
                key = key_node.value if isinstance(key_node, ScalarNode) else "?"
                stack.append((value_node, (*loc, key)))
        elif isinstance(node, SequenceNode):
            stack.extend((item, (*loc, i)) for i, item in enumerate(node.value))
    return None


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
    raw = b""
    try:
        size = path.stat().st_size
        if size <= MAX_YAML_BYTES:
            # at most one byte more than allowed: a file growing, or one with no size (a pipe,
            # /dev/zero) is read no further than that
            with path.open("rb") as f:
                raw = f.read(MAX_YAML_BYTES + 1)
    except PermissionError as exc:
        raise InputError("permission denied", code="unreadable_file", file=path) from exc
    except OSError as exc:
        raise InputError(
            f"cannot read: {exc.strerror or exc}", code="unreadable_file", file=path
        ) from exc
    if size > MAX_YAML_BYTES or len(raw) > MAX_YAML_BYTES:
        held = f" ({size:,} bytes)" if size > MAX_YAML_BYTES else ""
        raise InputError(
            f"the file is larger than the {MAX_YAML_BYTES:,} bytes a YAML input may hold{held};"
            " split it into several files in one directory",
            code="file_too_large",
            file=path,
            allowed=f"files of at most {MAX_YAML_BYTES // (1024 * 1024)} MiB",
        )
    return raw


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
    if _FAST_LOADER is not None:
        try:
            fast: Node | None = yaml.compose(text, Loader=_FAST_LOADER)
            return fast
        except (yaml.YAMLError, RecursionError):
            pass  # described below, by the parser whose messages are documented
    try:
        node: Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError as exc:
        raise InputError(
            "the file nests lists or mappings too deeply to be read",
            code="yaml_syntax",
            file=path,
            line=1,
            column=1,
        ) from exc
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, path, text) from exc
    except yaml.reader.ReaderError as exc:  # a control character: no mark, but a position
        before = text[: exc.position]
        line = before.count("\n") + 1
        column = exc.position - (before.rfind("\n") + 1) + 1
        raise InputError(
            f"character U+{exc.character:04X} is not allowed in YAML (a control character);"
            " remove it",
            code="yaml_syntax",
            file=path,
            line=line,
            column=column,
        ) from exc
    except yaml.YAMLError as exc:  # unmarked: none is known to reach here
        raise InputError(
            f"not valid YAML: {exc}", code="yaml_syntax", file=path, line=1, column=1
        ) from exc
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
