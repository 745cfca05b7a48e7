"""Stored English phrases in the reader's language, at render time.

Remediation records and findings keep their text as apply and the evaluators wrote it, in
English (signed, hashed, in results.json and the CSV as stored). The human pack (HTML/PDF)
shows a phrase in the report's language when the stored text is exactly a catalogued msgid —
a remedy summary, a manual instruction, a step name (``remedy_text.py``), a fixed evaluator
phrase (``EVALUATOR_PHRASES``) — or matches one of the ``TEMPLATES``: a fixed English frame
around values the device or the policy gave (account names, numbers, paths). The frame is
translated; the values stay as stored, inert. Of the templates a text fits, the most specific
one that changes something is used. The tables are in ``phrase_table.py``.

A text the evaluators joined from parts (``"a; b"``, ``"a | b"``, outside parentheses) that
matches nothing whole is translated part by part; a list joined with ``", "`` only when every
item is a phrase, so that a device's list is never half translated. Anything else is shown as
stored.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from baluarte.evidence.data import Lang
from reports.evidence.i18n import translations
from reports.evidence.phrase_table import EVALUATOR_PHRASES, KINDS, LISTS, LOOKED_UP, TEMPLATES
from reports.evidence.remedy_text import remedy_texts

__all__ = ["EVALUATOR_PHRASES", "TEMPLATES", "phrase", "phrase_lines"]

_SLOT = re.compile(r"%\((\w+)\)s")
# a value that is not a phrase: it crosses no "; ", " | " or ": " of a joined text, and its
# parentheses are whole, two levels deep at most (a frame's ")" is never taken for a value's)
_VALUE = r"(?:(?!; | \| |: )[^()]|\((?:[^()]|\([^()]*\))*\))+?"
# longer texts are only looked up whole as phrases (lazy slots would cost time on a megabyte)
_MAX_MATCHED = 4000
_JOINS = (" | ", "; ")  # how the evaluators join parts, the outermost first
# phrases inside phrases, at most this deep (ours nest a few levels; "a: a: a: …" stops here)
_MAX_DEPTH = 12
_OPEN, _CLOSE = "([", ")]"


def phrase(text: str, lang: Lang) -> str:
    """``text`` in ``lang`` when it is a catalogued phrase or fits a template; else as is."""
    return _shown(text, lang, 0)


def _shown(text: str, lang: Lang, depth: int) -> str:
    if not text or depth > _MAX_DEPTH:
        return text
    found = _translated(text, lang, depth)
    return text if found is None else found


def phrase_lines(text: str, lang: Lang) -> str:
    """Each line of ``text`` through ``phrase`` (a record's action or note: one per line)."""
    return "\n".join(phrase(line, lang) for line in text.split("\n"))


@lru_cache(maxsize=8192)
def _translated(text: str, lang: Lang, depth: int) -> str | None:
    """``text`` translated, or None when no phrase, template or part of it is catalogued."""
    cat = translations(lang)
    if text in _known():
        return cat.gettext(text)
    if lang == "en" or len(text) > _MAX_MATCHED:
        return None
    for msgid, (head, tail, key), regex, looked_up in _compiled():
        # what any text the frame fits must hold, checked before its pattern is even compiled:
        # most texts fit none of the hundreds of frames
        if not (text.startswith(head) and text.endswith(tail) and key in text):
            continue
        match = _pattern(regex).fullmatch(text)
        if match is None:
            continue
        values = {k: _slot(k, v, looked_up, lang, depth) for k, v in match.groupdict().items()}
        framed = cat.gettext(msgid) % values
        # a frame of punctuation only ("%(text)s (%(scope)s)") may fit where a more telling one
        # ("%(http)s: %(text)s") does too: the first that changes something is the one meant
        if framed != text:
            return framed
    for sep in _JOINS:
        parts = _split(text, sep)
        if len(parts) > 1:
            return sep.join(_shown(part, lang, depth + 1) for part in parts)
    items = _split(text, ", ")
    if len(items) > 1:
        shown = [_translated(item, lang, depth + 1) for item in items]
        if all(s is not None for s in shown):
            return ", ".join(s for s in shown if s is not None)
    return None


def _slot(name: str, value: str, looked_up: frozenset[str], lang: Lang, depth: int) -> str:
    """A template's slot as shown: a phrase translated, a list item by item, a value as is."""
    if name in LISTS:
        return ", ".join(_shown(item, lang, depth + 1) for item in _split(value, ", "))
    return _shown(value, lang, depth + 1) if name in looked_up else value


def _split(text: str, sep: str) -> list[str]:
    """``text`` cut at each ``sep`` outside parentheses and brackets."""
    if sep not in text:
        return [text]
    parts: list[str] = []
    depth = start = i = 0
    while i < len(text):
        char = text[i]
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth = max(depth - 1, 0)
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            i = start = i + len(sep)
            continue
        i += 1
    parts.append(text[start:])
    return parts


@cache
def _known() -> frozenset[str]:
    """The stored phrases looked up as a whole: only these, so that a device's text that
    happens to read like one of the report's own labels is still shown as the device said."""
    return frozenset(t.text for t in remedy_texts() if t.text) | frozenset(EVALUATOR_PHRASES)


@cache
def _compiled() -> tuple[tuple[str, tuple[str, str, str], str, frozenset[str]], ...]:
    """Each template as (msgid, its literal head, tail and longest fixed part, its pattern's
    source, the slots looked up in turn), the most specific (the most fixed words) first."""
    out = []
    for msgid in TEMPLATES:
        parts = _SLOT.split(msgid)  # literal, name, literal, name, …
        literals = [p.replace("%%", "%") for p in parts[::2]]
        regex = "".join(
            re.escape(p.replace("%%", "%")) if i % 2 == 0 else f"(?P<{p}>{KINDS.get(p, _VALUE)})"
            for i, p in enumerate(parts)
        )
        names = frozenset(n for n in parts[1::2] if n in LOOKED_UP)
        fixed = "".join(literals)
        specific = (sum(c.isalnum() for c in fixed), len(fixed))
        needs = (literals[0], literals[-1], max(literals, key=len))
        out.append((specific, msgid, needs, regex, names))
    out.sort(key=lambda t: (-t[0][0], -t[0][1]))  # stable: frames of punctuation in table order
    return tuple((msgid, needs, regex, names) for _, msgid, needs, regex, names in out)


@cache
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex, re.DOTALL)
