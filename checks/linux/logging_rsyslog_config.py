"""rsyslog's configuration as one stream of statements, in the order rsyslog reads them.

Preferred source: ``rsyslogd -N1 -o FILE``, rsyslog's own expansion of every ``$IncludeConfig``
and ``include()`` (its ``##### BEGIN/END CONFIG`` markers say which file each part comes
from). Its tokens are mapped one to one onto the tokens of each file read alone, which gives
their real line numbers. When rsyslogd cannot write that expansion, the files are read and
the includes followed here, in rsyslog's order (glob matches sorted).

``walk`` then reads the statements: which ruleset each action, ``call`` and ``stop`` belongs
to, whether a filter guards it, the inputs and modules with the rulesets they bind, and the
legacy ``$Action…`` settings in force at each legacy action.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace

from checks.linux.logging_rainerscript import Token, tokenize

__all__ = [
    "DEFAULT_RULESET",
    "Action",
    "Config",
    "Input",
    "Source",
    "from_expansion",
    "from_files",
    "split_files",
    "walk",
]

DEFAULT_RULESET = "RSYSLOG_DefaultRuleset"
_ALWAYS = {"*.*", "*.debug"}  # selectors every message matches


@dataclass(frozen=True)
class Source:
    """Where a token was read: ``file:line`` (line 0: not known)."""

    file: str
    line: int
    end: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def _at(token: Token) -> Source:
    return Source(token.file, token.line, token.end)


@dataclass(frozen=True)
class Action:
    token: Token  # an ``action(...)`` object or a legacy action
    ruleset: str
    stopped_by: Source | None  # an unconditional stop earlier in the same ruleset
    legacy_settings: dict[str, str]  # ``$Action…`` directives in force (lower-case names)
    guard: Token | None = None  # the innermost filter or ``if`` condition guarding it


@dataclass(frozen=True)
class Input:
    """A module loaded (``module(load=…)``, ``$ModLoad``) or an input declared (``input()``,
    ``$Input…BindRuleset``), with the ruleset it binds (None: the default)."""

    kind: str  # imuxsock, imjournal, imtcp… (legacy binds: "imfile", or e.g. "tcpserver")
    ruleset: str | None
    module: bool
    where: Source


@dataclass
class Config:
    """What ``walk`` found."""

    actions: list[Action] = field(default_factory=list)
    calls: list[tuple[str, str, Source | None]] = field(default_factory=list)  # from, to, stop
    inputs: list[Input] = field(default_factory=list)
    syssock_off: bool = False  # imuxsock's system socket turned off
    default_driver: str = ""  # the global default network stream driver
    notes: list[str] = field(default_factory=list)


# -- the stream ---------------------------------------------------------------------------


def split_files(text: str) -> dict[str, str]:
    """``== path`` headed file contents → {path: text}."""
    files: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("== "):
            current = files.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    return {path: "\n".join(lines) + "\n" for path, lines in files.items()}


def _located(token: Token, path: str) -> Token:
    return replace(token, file=path, reported=(path, token.line, token.end))


def _file_tokens(path: str, text: str) -> list[Token] | None:
    try:
        return [_located(t, path) for t in tokenize(text)]
    except ValueError:
        return None


def from_expansion(expanded: str, files: dict[str, str]) -> list[Token]:
    """The tokens of ``rsyslogd -o`` output, each with its file and real line. Raises
    ValueError when the expansion itself cannot be read."""
    stack: list[tuple[str, int]] = []  # (buffer name, line of its BEGIN marker)
    owned: list[tuple[str, Token]] = []  # (buffer name, token)
    parent_include: dict[int, int] = {}  # index of a generated buffer's token → its include()
    opened_by: dict[str, int] = {}
    for token in tokenize(expanded):
        if token.kind == "marker":
            what, _, name = token.text.partition(" ")
            if what == "BEGIN":
                stack.append((name, token.line))
                if owned and owned[-1][1].kind == "object" and owned[-1][1].text == "include":
                    opened_by[name] = len(owned) - 1
            elif stack:
                stack.pop()
            continue
        buffer, begin = stack[-1] if stack else ("", 0)
        if buffer not in files and buffer in opened_by:
            parent_include[len(owned)] = opened_by[buffer]
            # rsyslogd counts a generated buffer's lines from its start, right after the marker
            inside = (buffer, token.line - begin, token.end - begin)
            token = replace(token, reported=inside)
        owned.append((buffer, token))
    lines: dict[int, Token] = {}
    for path, text in files.items():
        mine = [i for i, (buffer, _) in enumerate(owned) if buffer == path]
        alone = _file_tokens(path, text)
        if alone is None or len(alone) != len(mine):
            continue  # the file changed, or reads differently: keep the file, drop the lines
        if any(owned[i][1].kind != t.kind for i, t in zip(mine, alone, strict=True)):
            continue
        lines.update(zip(mine, alone, strict=True))
    out: list[Token] = []
    for i, (buffer, token) in enumerate(owned):
        if i in lines:
            out.append(lines[i])
        elif i in parent_include:  # include(text=…): shown where the include() stands
            where = out[parent_include[i]]
            out.append(replace(token, file=where.file, line=where.line, end=where.end))
        else:
            out.append(replace(token, file=buffer, line=0, end=0))
    return out


def from_files(files: dict[str, str], main: str, notes: list[str]) -> list[Token]:
    """The tokens of ``main`` with every include spliced in where it stands. Raises
    ValueError when a file cannot be read as rsyslog configuration."""

    def expand(path: str, seen: tuple[str, ...]) -> list[Token]:
        try:
            tokens = tokenize(files[path])
        except ValueError as exc:
            raise ValueError(f"{path} {exc}") from exc
        out: list[Token] = []
        for token in tokens:
            token = _located(token, path)
            out.append(token)
            for pattern in _include_patterns(token):
                matched = _matching(pattern, files)
                if not matched and not any(ch in pattern for ch in "*?["):
                    notes.append(f"{path}:{token.line} includes {pattern}, which was not read")
                for child in matched:
                    if child not in seen:
                        out += expand(child, (*seen, child))
            text = token.text_param("text") if token.text == "include" else ""
            if token.kind == "object" and text:  # include(text=…): shown where it stands
                for t in tokenize(text):
                    inside = ("text", t.line, t.end)
                    line, end = token.line, token.end
                    out.append(replace(t, file=path, line=line, end=end, reported=inside))
        return out

    if main not in files:
        notes.append(f"{main} was not read")
        return []
    return expand(main, (main,))


def _include_patterns(token: Token) -> list[str]:
    if token.kind == "directive" and token.text.lower().startswith("$includeconfig"):
        return token.text.split()[1:2]
    if token.kind == "object" and token.text == "include" and token.text_param("file"):
        return [token.text_param("file")]
    return []


def _matching(pattern: str, files: dict[str, str]) -> list[str]:
    """Collected files an include pattern names: a glob, a file, or a directory's files."""
    glob = any(ch in pattern for ch in "*?[")
    if pattern.endswith("/") or (not glob and pattern not in files):
        folder = pattern.rstrip("/") + "/"
        return sorted(p for p in files if p.startswith(folder) and "/" not in p[len(folder) :])
    return sorted(p for p in files if fnmatch.fnmatchcase(p, pattern))


# -- the statements -----------------------------------------------------------------------


class _Walker:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.config = Config()
        self.legacy_ruleset = DEFAULT_RULESET
        self.settings: dict[str, str] = {}
        self.stopped: dict[str, Source] = {}
        self.guards: list[Token] = []  # the filters and conditions around the statement

    def peek(self, kind: str, text: str | None = None) -> bool:
        if self.i >= len(self.tokens):
            return False
        token = self.tokens[self.i]
        return token.kind == kind and (text is None or token.text == text)

    def script(self, ruleset: str | None, conditional: bool, nested: bool = True) -> None:
        """Statements up to a closing ``}`` (consumed) or the end. ``ruleset`` None: top
        level, where statements go to the legacy ``$RuleSet`` in force."""
        while self.i < len(self.tokens):
            if self.peek("punct", "}"):
                self.i += 1
                if nested:
                    return
                continue  # a stray brace at top level (rsyslogd -N1 reports it)
            self.statement(ruleset, conditional)

    def block(self, ruleset: str | None, conditional: bool) -> None:
        if self.peek("punct", "{"):
            self.i += 1
            self.script(ruleset, conditional)
        elif self.i < len(self.tokens):
            self.statement(ruleset, conditional)

    def statement(self, ruleset: str | None, conditional: bool) -> None:
        token = self.tokens[self.i]
        self.i += 1
        kind, text = token.kind, token.text
        if kind == "object" and text == "ruleset":
            name = token.text_param("name") or "?"
            if self.peek("punct", "{"):
                self.i += 1
                self.script(name, False)
        elif kind == "object" and text == "template" and self.peek("punct", "{"):
            self.i += 1
            self.script("template", True)  # property() and constant() only: nothing to keep
        elif kind == "object" and text in ("input", "module", "global"):
            self.declaration(token)
        elif kind == "directive":
            self.directive(token)
        elif kind in ("prifilt", "propfilt"):
            always = kind == "prifilt" and text.lower() in _ALWAYS
            self.guards.append(token)
            self.block(ruleset, conditional or not always)
            self.guards.pop()
        elif kind == "keyword" and text in ("if", "foreach"):
            self.guards.append(self.tokens[self.i])  # the expression
            self.i += 1
            self.block(ruleset, True)
            if text == "if" and self.peek("keyword", "else"):
                self.i += 1
                self.block(ruleset, True)
            self.guards.pop()
        elif kind == "keyword" and text in ("set", "reset", "unset", "call_indirect"):
            self.i += 1  # the expression
        elif kind == "punct" and text == "{":
            self.script(ruleset, conditional)
        elif kind in ("legacy", "keyword") or (kind == "object" and text == "action"):
            self.i -= 1
            self.action_list(ruleset or self.legacy_ruleset, conditional)
        # other objects (include, template, main_queue…) and stray tokens change no routing

    def action_list(self, ruleset: str, conditional: bool) -> None:
        """``s_act ( & s_act )*``: the actions one filter guards."""
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            self.i += 1
            stopped = self.stopped.get(ruleset)
            # "~" is the legacy discard: stop by another name
            if token.text in ("stop", "~") and token.kind in ("keyword", "legacy"):
                if not conditional:
                    self.stopped.setdefault(ruleset, _at(token))
            elif token.kind in ("legacy", "object"):
                settings = dict(self.settings) if token.kind == "legacy" else {}
                guard = self.guards[-1] if self.guards else None
                self.config.actions.append(Action(token, ruleset, stopped, settings, guard))
            elif token.text == "call" and self.peek("name"):
                target = self.tokens[self.i].text
                self.i += 1
                self.config.calls.append((ruleset, target, stopped))
            if not self.peek("punct", "&"):
                return
            self.i += 1

    def declaration(self, token: Token) -> None:
        bound = token.text_param("ruleset") or None
        if token.text == "input":
            kind = token.text_param("type").lower()
            self.config.inputs.append(Input(kind, bound, False, _at(token)))
        elif token.text == "module":
            name = token.text_param("load").lower()
            if name == "imuxsock" and token.text_param("syssock.use").lower() in ("off", "0"):
                self.config.syssock_off = True
            # a module's own inputs (imuxsock's system socket, imjournal…) bind here
            binds = [v for k, v in token.params if k.endswith("ruleset") and isinstance(v, str)]
            self.config.inputs.append(Input(name, binds[0] if binds else None, True, _at(token)))
        elif driver := token.text_param("defaultnetstreamdriver"):
            self.config.default_driver = driver.lower()

    def directive(self, token: Token) -> None:
        name, _, arg = token.text.partition(" ")
        name, arg = name.lower(), arg.strip()
        if name == "$ruleset":
            self.legacy_ruleset = arg or DEFAULT_RULESET
        elif name == "$modload":
            module = arg.lower().removesuffix(".so")
            self.config.inputs.append(Input(module, None, True, _at(token)))
        elif name == "$omitlocallogging" and arg.lower() in ("on", "yes", "1"):
            self.config.syssock_off = True
        elif name.startswith("$input") and name.endswith("bindruleset"):
            kind = "imfile" if name == "$inputfilebindruleset" else name[6:-11] or "input"
            self.config.inputs.append(Input(kind, arg, False, _at(token)))
        elif name == "$defaultnetstreamdriver":
            self.config.default_driver = arg.lower()
        elif name.startswith("$action"):
            self.settings[name] = arg
        elif name == "$resetconfigvariables":
            self.settings.clear()


def walk(tokens: list[Token]) -> Config:
    """The routing facts of a configuration's statements (see the module docstring)."""
    walker = _Walker(tokens)
    walker.script(None, False, nested=False)
    return walker.config
