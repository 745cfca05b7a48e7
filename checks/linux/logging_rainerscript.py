"""Read rsyslog's configuration language (RainerScript and the legacy forms) into tokens.

The tokenizer follows rsyslog's own lexer (``grammar/lexer.l``) and its start states: at
statement level, ``$Directive`` lines, selector filters (``*.*``, ``auth,authpriv.*``),
property filters (``:msg, contains, "x"``), legacy actions running to the end of the line
(``@@host:514``, ``-/var/log/syslog``, ``:omrelp:host:2514``) and keywords; inside
``name(...)`` objects, case-insensitive dotted parameter names (``queue.type``) and quoted
values, arrays included; after ``if``/``set``/``call_indirect``, an expression kept as text.
``#`` and ``/* */`` comments are dropped, and ``##### BEGIN/END CONFIG`` markers of
``rsyslogd -o`` become marker tokens. Unknown input raises ValueError: a configuration we
cannot read is never judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Token", "tokenize"]

Value = str | tuple[str, ...]
Param = tuple[str, Value]

_OBJECTS = (
    "main_queue|timezone|parser|global|template|ruleset|property|constant|input|module"
    "|lookup_table|dyn_stats|include|action"
)
_OBJECT = re.compile(rf"({_OBJECTS})[ \t\n]*\(", re.I)
_PROPFILT = re.compile(r':\$?[a-z\-]+[ ]*,[ ]*!?[a-z]+[ ]*,[ ]*"(?:\\"|[^"])*"', re.I)
_PRIFILT = re.compile(r"[*a-z][*a-z]*[0-7]*[.,][,!=;.*a-z0-7]+", re.I)
_DIRECTIVE = re.compile(r"\$[a-z]+[^\n]*", re.I)
# legacy actions: to the end of the line, or a single word (user names), as lexer.l has them
_LEGACY = re.compile(
    r"-/[^*][^\n]*|/[^*][^\n]*|:[a-z0-9]+:[^\n]*|[|.\-@^?~>][^\n]+|~|\*|[a-z0-9_][a-z0-9_\-+,;]*",
    re.I,
)
_WORD = re.compile(r"[a-z_][a-z0-9_]*", re.I)
_CALL_NAME = re.compile(r"[a-z][a-z0-9\-_.]*", re.I)
_NAME = re.compile(r"[a-z][a-z0-9_.]*", re.I)
_BSD = re.compile(
    r"![^ \t\n]+[ \t]*$|[+-]\*[ \t]*(?:#[^\n]*)?$|[+-][a-z0-9.:-]+[ \t]*$", re.I | re.M
)
_MARKER = re.compile(r"##### (BEGIN|END) +CONFIG: (.*?)(?: \(put on stack\))?[ \t]*$")
# keywords whose expression runs to "then", "do" or ";"
_EXPR_UNTIL = {
    "if": "then",
    "foreach": "do",
    "set": ";",
    "reset": ";",
    "unset": ";",
    "call_indirect": ";",
}
_KEYWORDS = {"stop", "else", "continue", "call"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "a": "\a"}


@dataclass(frozen=True)
class Token:
    """One unit of the configuration. ``kind``: ``object`` (``text`` is its lower-case kind,
    ``params`` its parameters), ``directive`` (``$Name args``), ``prifilt``, ``propfilt``,
    ``legacy`` (a legacy action), ``keyword`` (lower-case), ``name`` (after ``call``),
    ``expr``, ``punct`` (``{ } &``), ``marker`` (``BEGIN path`` / ``END path``)."""

    kind: str
    text: str
    line: int  # 0: not known (text rsyslog generated, such as include(text=…))
    end: int  # the line the token ends on
    params: tuple[Param, ...] = ()
    file: str = ""  # set by the caller: the file the token was read from
    # set by the caller: where rsyslogd's own messages place it (file or "text" buffer, lines)
    reported: tuple[str, int, int] = ("", 0, 0)

    def param(self, name: str) -> Value | None:
        """A parameter by its case-insensitive name; the last one wins, as in rsyslog."""
        found: Value | None = None
        for key, value in self.params:
            if key == name:
                found = value
        return found

    def text_param(self, name: str) -> str:
        value = self.param(name)
        return value if isinstance(value, str) else ""


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.tokens: list[Token] = []
        self._counted = (0, 1)  # (offset, its line): lines are counted forward, not from 0

    def line(self, at: int | None = None) -> int:
        at = self.i if at is None else at
        offset, line = self._counted
        if at < offset:
            offset, line = 0, 1
        line += self.text.count("\n", offset, at)
        self._counted = (at, line)
        return line

    def fail(self, what: str) -> ValueError:
        snippet = self.text[self.i : self.i + 40].split("\n", 1)[0]
        return ValueError(f"line {self.line()}: {what} at {snippet!r}")

    def add(self, kind: str, text: str, start: int, params: tuple[Param, ...] = ()) -> None:
        self.tokens.append(Token(kind, text, self.line(start), self.line(), params))

    def at_line_start(self) -> bool:
        start = self.text.rfind("\n", 0, self.i) + 1
        return not self.text[start : self.i].strip()

    def skip_space(self) -> bool:
        """Skip blanks and comments; True when something was skipped."""
        text, start = self.text, self.i
        while self.i < len(text):
            if text[self.i] in " \t\r\n":
                self.i += 1
            elif text.startswith("/*", self.i):
                close = text.find("*/", self.i + 2)
                if close < 0:
                    raise self.fail("unterminated /* comment")
                self.i = close + 2
            elif text[self.i] == "#":
                stop = text.find("\n", self.i)
                stop = len(text) if stop < 0 else stop
                marker = _MARKER.match(text, self.i, stop) if self.at_line_start() else None
                if marker:
                    self.add("marker", f"{marker[1]} {marker[2]}", self.i)
                self.i = stop
            else:
                break
        return self.i > start

    def string(self) -> str:
        """A double-quoted or backtick string at ``i``, unescaped."""
        quote = self.text[self.i]
        out: list[str] = []
        j = self.i + 1
        while j < len(self.text):
            ch = self.text[j]
            if ch == "\\" and j + 1 < len(self.text):
                nxt = self.text[j + 1]
                out.append(_ESCAPES.get(nxt, nxt))
                j += 2
                continue
            if ch == quote:
                self.i = j + 1
                return "".join(out)
            out.append(ch)
            j += 1
        raise self.fail("unterminated string")

    def object_params(self) -> tuple[Param, ...]:
        """``name="value" name=["a", "b"] …)``: the parameters up to the closing parenthesis."""
        params: list[Param] = []
        while True:
            self.skip_space()
            if self.i >= len(self.text):
                raise self.fail("unterminated object")
            if self.text[self.i] == ")":
                self.i += 1
                return tuple(params)
            name = _NAME.match(self.text, self.i)
            if not name:
                raise self.fail("expected a parameter name")
            self.i = name.end()
            self.skip_space()
            if not self.text.startswith("=", self.i):
                raise self.fail(f"expected = after {name[0]}")
            self.i += 1
            self.skip_space()
            params.append((name[0].lower(), self.value()))
            self.skip_space()
            if self.text.startswith(",", self.i):  # lexer.l accepts commas between pairs
                self.i += 1

    def value(self) -> Value:
        if self.i < len(self.text) and self.text[self.i] in '"`':
            return self.string()
        if self.text.startswith("[", self.i):
            self.i += 1
            items: list[str] = []
            while True:
                self.skip_space()
                if self.text.startswith("]", self.i):
                    self.i += 1
                    return tuple(items)
                if self.i >= len(self.text) or self.text[self.i] not in '"`':
                    raise self.fail("expected a string in the array")
                items.append(self.string())
                self.skip_space()
                if self.text.startswith(",", self.i):
                    self.i += 1
        raise self.fail("expected a quoted value")

    def expression(self, until: str) -> str:
        """Expression text up to the word ``until`` (or ``;``), strings and comments honoured."""
        start, text = self.i, self.text
        while self.i < len(text):
            ch = text[self.i]
            if ch in "\"'`":
                quote, self.i = ch, self.i + 1
                while self.i < len(text) and text[self.i] != quote:
                    self.i += 2 if text[self.i] == "\\" else 1
                self.i += 1
            elif text.startswith("/*", self.i):
                self.skip_space()
            elif until == ";" and ch == ";":
                self.i += 1
                return text[start : self.i - 1].strip()
            elif (word := _WORD.match(text, self.i)) is not None:
                if word[0].lower() == until:
                    self.i = word.end()
                    return text[start : word.start()].strip()
                self.i = word.end()
            else:
                self.i += 1
        raise self.fail(f"expression without {until!r}")

    def statement_token(self) -> None:
        text, i = self.text, self.i
        if text[i] == "$" and (m := _DIRECTIVE.match(text, i)):
            self.i = m.end()
            self.add("directive", m[0].rstrip(), i)
            return
        if self.at_line_start():
            for kind, pattern in (("propfilt", _PROPFILT), ("prifilt", _PRIFILT)):
                if m := pattern.match(text, i):
                    self.i = m.end()
                    self.add(kind, m[0], i)
                    return
            if m := _BSD.match(text, i):  # BSD-style !program and +host selectors
                self.i = m.end()
                return
        if m := _OBJECT.match(text, i):
            self.i = m.end()
            params = self.object_params()
            self.add("object", m[1].lower(), i, params=params)
            return
        if text.lower().startswith("preprocfilelinenumber(", i):
            close = text.find(")", i)
            self.i = len(text) if close < 0 else close + 1
            return
        if text[i] in "{}&":
            self.i += 1
            self.add("punct", text[i], i)
            return
        word = _WORD.match(text, i)
        legacy = _LEGACY.match(text, i)
        # lexer.l's longest match: a keyword only when no legacy action is longer
        if word and (legacy is None or legacy.end() <= word.end()):
            keyword = word[0].lower()
            if keyword in _EXPR_UNTIL:
                self.i = word.end()
                self.add("keyword", keyword, i)
                start = self.i
                self.add("expr", self.expression(_EXPR_UNTIL[keyword]), start)
                return
            if keyword in _KEYWORDS:
                self.i = word.end()
                self.add("keyword", keyword, i)
                if keyword == "call":
                    self.skip_space()
                    name = _CALL_NAME.match(text, self.i)
                    if not name:
                        raise self.fail("call without a ruleset name")
                    self.i = name.end()
                    self.add("name", name[0], name.start())
                return
        if legacy:
            self.i = legacy.end()
            self.add("legacy", legacy[0].rstrip(), i)
            return
        raise self.fail("unexpected text")


def tokenize(text: str) -> list[Token]:
    """The tokens of one configuration text. Raises ValueError on text rsyslog would reject."""
    scanner = _Scanner(text)
    while True:
        scanner.skip_space()
        if scanner.i >= len(text):
            return scanner.tokens
        scanner.statement_token()
