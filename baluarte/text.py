"""Untrusted text made inert: what devices and files say is shown, never interpreted.

A package name, a FortiGate policy name or a waiver's reason may carry terminal escape
sequences (``ESC[2J`` clears the screen), characters XML 1.0 cannot hold, bidirectional
overrides that reorder what a reader sees, or lone surrogates no UTF-8 file can hold. ``inert``
turns each into a visible escape (``\\x1b``, ``\\u202e``), so every output shows the text as it
was and none acts on it; tab and newline stay (every output can hold them), a CR LF pair becomes
a newline. Markup (Rich's ``[tags]``, HTML) is the renderers' to escape: this module knows no
output format.

Collectors apply ``inert_facts`` to the facts they parse (device text enters facts inert); every
renderer applies ``inert`` again to what it writes, for text that came from files or older runs.
``shorten`` cuts a value for outputs people read (terminal, HTML, PDF); machine-readable outputs
keep the whole value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel

__all__ = [
    "CSV_CELL_MAX_CHARS",
    "inert",
    "inert_facts",
    "inert_json",
    "inert_model",
    "inert_tree",
    "shorten",
    "spreadsheet_cell",
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# C0 controls but tab and newline, DEL, C1 controls, the Unicode bidirectional controls
# (U+061C, U+200E/F, U+202A-U+202E, U+2066-U+2069), the line and paragraph separators, and
# lone surrogates (which json.loads and PowerShell produce from "\\udc80" and UTF-8 cannot hold)
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff]"
)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str, *, newlines: bool = True) -> str:
    """``text`` with every control character shown as an escape; tab and (unless ``newlines``
    is false) newline kept, CR LF read as a newline."""
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    if not newlines and "\n" in text:
        text = text.replace("\n", "\\n")
    return _UNSAFE.sub(_visible, text) if _UNSAFE.search(text) else text


def inert_tree(value: T) -> T:
    """Every string in a JSON-like value (dict keys too) made ``inert``; other values as they
    are."""
    if isinstance(value, dict | list) and _json_inert(value):
        return value  # nothing to change: a whole evidence pack's OSCAL is checked at C speed
    result: Any
    if isinstance(value, str):
        result = inert(value)
    elif isinstance(value, dict):
        result = {(inert(k) if isinstance(k, str) else k): inert_tree(v) for k, v in value.items()}
    elif isinstance(value, list):
        result = [inert_tree(v) for v in value]
    elif isinstance(value, tuple):
        result = tuple(inert_tree(v) for v in value)
    elif isinstance(value, (set, frozenset)):
        result = type(value)(inert_tree(v) for v in value)
    else:
        result = value
    return result  # type: ignore[no-any-return]


# What an unsafe character (or a CR) becomes in ASCII JSON; a surrogate pair (an emoji), or a
# backslash written before such letters, also matches: then the tree is walked.
_UNSAFE_JSON = re.compile(
    r"\\(?:u00(?:0[0-8bcef]|1[0-9a-f]|7f|[89][0-9a-f])|[bfr]|u061c|u200[ef]|u202[89a-e]"
    r"|u206[6-9]|ud[89a-f])|\x7f"
)


def _json_inert(value: Any) -> bool:
    """True when no string of a JSON-able ``value`` holds anything ``inert`` would change."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        return False
    return _UNSAFE_JSON.search(text) is None


# What an unsafe character (or a CR) looks like in JSON written with ``ensure_ascii=False``:
# C0 controls are escaped by the encoder, the others are written as they are.
_UNSAFE_JSON_TEXT = re.compile(
    r"\\(?:u00(?:0[0-8bcef]|1[0-9a-f])|[bfr])"
    "|[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


# In ASCII JSON text, the only traces an unsafe character can leave (a superset: a backslash
# the text itself holds may match too, and then the exact pattern decides)
_ASCII_TRACES = (b"\\u00", b"\\b", b"\\f", b"\\r", b"\x7f")
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS  # int keys written as strings, as the json module does


def inert_json(value: Any) -> bytes:
    """The JSON of ``inert_tree(value)``: UTF-8, on one line, in one pass when nothing needs
    changing (the usual case: a quarter's OSCAL is a hundred megabytes). orjson, not the json
    module: the same escapes, several times faster over a pack's hundreds of megabytes."""
    try:
        data = orjson.dumps(value, option=_JSON_OPTIONS)
    except TypeError:  # a lone surrogate, which inert drops
        return orjson.dumps(inert_tree(value), option=_JSON_OPTIONS)
    if data.isascii() and not any(trace in data for trace in _ASCII_TRACES):
        return data  # substring scans: ten times faster than the pattern over 100 MB
    if _UNSAFE_JSON_TEXT.search(data.decode()) is None:
        return data
    return orjson.dumps(inert_tree(value), option=_JSON_OPTIONS)


def inert_model(model: M) -> M:
    """The same model with every string in it made ``inert`` (rebuilt only when one changes)."""
    dumped = model.model_dump()
    clean = inert_tree(dumped)
    return model if clean == dumped else type(model).model_validate(clean)


def inert_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    """A collector's facts per domain, each model ``inert_model``; what a device said about
    itself enters the facts (and so findings and the store) inert."""
    return {k: inert_model(f) if isinstance(f, BaseModel) else f for k, f in facts.items()}


def shorten(text: str, limit: int) -> tuple[str, int]:
    """The first ``limit`` characters of ``text`` (cut at a line end when one is near), and how
    many characters were left out."""
    if len(text) <= limit:
        return text, 0
    cut = text[:limit]
    line_end = cut.rfind("\n", limit * 3 // 4)
    if line_end > 0:
        cut = cut[:line_end]
    return cut, len(text) - len(cut)


# a spreadsheet cell holds 32,767 characters: room kept for the note saying where the rest is
CSV_CELL_MAX_CHARS = 32_000
# what a spreadsheet may read as the start of a formula (OWASP's list for CSV injection)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(text: str | None, *, elsewhere: str) -> str:
    """A CSV cell of untrusted text: inert, never read as a formula (a leading ``'``), and no
    longer than a spreadsheet's cell (cut, saying ``elsewhere`` holds the whole value)."""
    value, omitted = shorten(inert(text or ""), CSV_CELL_MAX_CHARS)
    if omitted:
        value += f" … [{omitted} more characters in {elsewhere}]"
    return f"'{value}" if value.startswith(_FORMULA) else value
