"""baluarte.text: untrusted text made inert, shortened for people, facts cleaned at the boundary."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from baluarte.text import inert, inert_facts, inert_json, inert_model, inert_tree, shorten


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J", "\\x1b[2J"),  # ANSI: clear screen
        ("\x1b]8;;https://evil.example\x07link", "\\x1b]8;;https://evil.example\\x07link"),
        ("\x9b31m", "\\x9b31m"),  # the 8-bit CSI
        ("a\x00b\x7fc", "a\\x00b\\x7fc"),
        ("\u202eevil", "\\u202eevil"),  # bidi override: reorders what a reader sees
        ("x\u2028y", "x\\u2028y"),
        ("\ud800", "\\ud800"),  # a lone surrogate: no UTF-8 file can hold it
        ("over\rwrite", "over\\x0dwrite"),  # a lone CR rewrites the terminal line
        ("a\r\nb", "a\nb"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("[/x] <b> & café €", "[/x] <b> & café €"),  # markup is the renderers' business
    ],
)
def test_control_characters_become_visible_escapes(raw: str, shown: str) -> None:
    assert inert(raw) == shown
    shown.encode("utf-8")  # always writable


def test_newlines_escaped_on_request() -> None:
    assert inert("a\nb", newlines=False) == "a\\nb"


def test_tree_cleans_keys_and_nested_values_and_keeps_other_types() -> None:
    tree = {"\x1bk": ["\x1b", ("\x9b", 1)], "n": None, "f": 1.5, "s": {"\u202e"}}
    assert inert_tree(tree) == {"\\x1bk": ["\\x1b", ("\\x9b", 1)], "n": None, "f": 1.5,
                                "s": {"\\u202e"}}  # fmt: skip


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    ports: tuple[int, ...] = ()


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rules: tuple[_Rule, ...]
    product: str | None = None


@given(st.text(alphabet=st.characters(codec=None, max_codepoint=0x2100), max_size=12))
def test_tree_taken_whole_only_when_nothing_in_it_would_change(text: str) -> None:
    # the fast path (one JSON encoding of the whole tree) never skips a string inert changes
    tree = {"runs": [{"observed": text, text: [1, None]}], "n": 2}
    assert inert_tree(tree) == {
        "runs": [{"observed": inert(text), inert(text): [1, None]}],
        "n": 2,
    }


@given(st.text(alphabet=st.characters(codec=None, max_codepoint=0x2100), max_size=12))
def test_json_text_is_the_inert_tree_written_out(text: str) -> None:
    # one encoding when nothing changes, never a string left as the device wrote it
    tree = {"runs": [{"observed": text, text: [1, None]}], "n": 2}
    written = inert_json(tree)
    assert json.loads(written) == inert_tree(tree)
    expected = json.dumps(inert_tree(tree), ensure_ascii=False, separators=(",", ":"))
    assert written == expected.encode("utf-8")  # a lone surrogate would fail to encode


@pytest.mark.parametrize("raw", ["\x1b[2J", "\x85", "\x7f", "\u202e", "\u2028", "\ud800", "a\rb"])
def test_json_text_shows_each_unsafe_character_as_an_escape(raw: str) -> None:
    assert json.loads(inert_json({"k": raw})) == {"k": inert(raw)}
    assert raw not in inert_json({"k": raw}).decode()


def test_model_rebuilt_only_when_something_changes() -> None:
    clean = _Facts(rules=(_Rule(name="ssh", ports=(22,)),), product="ClamAV")
    assert inert_model(clean) is clean
    dirty = _Facts(rules=(_Rule(name="ssh\x1b[2J", ports=(22,)),), product="\ud800")
    got = inert_model(dirty)
    assert got == _Facts(rules=(_Rule(name="ssh\\x1b[2J", ports=(22,)),), product="\\ud800")
    json.dumps(got.model_dump(), ensure_ascii=False).encode("utf-8")


def test_facts_per_domain() -> None:
    facts = {"firewall": _Facts(rules=(_Rule(name="\x9b"),)), "other": None}
    assert inert_facts(facts) == {"firewall": _Facts(rules=(_Rule(name="\\x9b"),)), "other": None}


def test_shorten_cuts_at_a_line_end_when_one_is_near() -> None:
    assert shorten("short", 10) == ("short", 0)
    assert shorten("x" * 25, 10) == ("x" * 10, 15)
    text = "line one\nline two\nline three"
    cut, omitted = shorten(text, 20)
    assert cut == "line one\nline two" and omitted == len(text) - len(cut)
