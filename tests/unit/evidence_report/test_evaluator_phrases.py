"""Every text an evaluator writes as a finding's expected, observed or reason is shown in
Spanish in a Spanish pack: read from ``checks/evaluators`` with ``ast`` (``_evaluator_texts``),
with sample values where the device or the policy gives one, and put through ``phrase``. A new
or edited English text that no catalogue entry or template covers fails here, naming where it
is written."""

from __future__ import annotations

import ast
import re

import pytest

from reports.evidence.phrases import phrase

from ._evaluator_ast import container_fields
from ._evaluator_texts import Evaluators, Written

# Texts made only of settings and values, the same in both languages: FortiOS settings as the
# unit prints them (the words are its configuration keywords).
SAME_IN_SPANISH = (
    re.compile(r"admintimeout \S+ min \(system/global\)"),
    re.compile(r"(strong-crypto|admin-https-redirect) (enable|disable)( \(.*\))?"),
    re.compile(
        r"strong-crypto (enable|disable), admin-https-redirect (enable|disable), "
        r"admin-https-ssl-versions .*"
    ),
)
# Words of ours kept as written in a Spanish text: configuration keywords and their values,
# commands, units, and the products' names.
KEPT = re.compile(
    r"required: false|PasswordAuthentication yes|Microsoft Defender for Endpoint|"
    r"Sophos Protection for Linux|CrowdStrike Falcon|Veeam Agent|`[^`]*`|"
    r"\b(?:admintimeout|accprofile|logtraffic|srcaddr|dstaddr|service|enable|disable|all|utm|"
    r"antivirus|min)\b"
)
# What the reading of the source builds but the evaluator never writes (a branch it cannot
# take with the others): not a text to translate.
NEVER_WRITTEN = (
    # the unclassified upgrades follow the listing of the others after ", ", else after ": "
    re.compile(r"\d+ pending updates, [^:]*"),
    re.compile(r"\d+ pending updates: [^:]*: .*"),
    # a connection is named only when its state is not "off"
    re.compile(r"passwords accepted for .*: off"),
)
_WORD = re.compile(r"(?<![\w/.-])[A-Za-z]{2,}(?![\w/.-])")  # a word, not part of a name or path
_PROSE = re.compile(r"(?<![\w/.=-])[a-z]{3,}(?![\w/.=-])")  # a word in lower case: our prose


@pytest.fixture(scope="module")
def evaluators() -> Evaluators:
    return Evaluators()


@pytest.fixture(scope="module")
def written(evaluators: Evaluators) -> list[Written]:
    return evaluators.written()


def _english_left(w: Written, shown: str) -> list[str]:
    """The evaluator's own words still in ``shown``: a fixed part of the text with a word of
    prose in it, found whole."""
    left = []
    for text, ours in w.segments:
        part = text.strip(" ,;:")
        prose = ours and _PROSE.search(KEPT.sub("", part))
        if prose and re.search(rf"(?<![\w./=-]){re.escape(part)}(?![\w./=-])", shown):
            left.append(part)
    return left


def _prose(w: Written) -> bool:
    """Some of the text is the evaluator's own words (not only values, names and settings)."""
    return any(ours and _PROSE.search(KEPT.sub("", text)) for text, ours in w.segments)


def _same(text: str) -> bool:
    return all(any(p.fullmatch(part) for p in SAME_IN_SPANISH) for part in text.split("; "))


def test_the_evaluators_texts_are_found(written):
    fields = {w.field for w in written}
    assert fields == {"expected", "observed", "reason"}
    texts = {w.text for w in written}
    assert len(texts) > 400
    for sample in (
        "a successful backup within the last 7 hours",  # a number from the policy
        "tamper protection not required by",  # common.py
        "lockout after 7 failures",  # appended by a helper to the caller's list
        "x1, 3.5 days old",  # a judge defined inside a control
        "the last sync is dated 2026-11-20 02:00 UTC, 3.5 hours ahead of this run's clock: "
        "the clock that stamped it was wrong, so its real age cannot be told",
    ):
        assert any(sample in t for t in texts), sample


def test_every_text_an_evaluator_writes_is_shown_in_spanish(written):
    untranslated: list[str] = []
    for w in written:
        if not _prose(w) or _same(w.text) or any(p.fullmatch(w.text) for p in NEVER_WRITTEN):
            continue  # values only (a package and its version), or settings as printed
        shown = phrase(w.text, "es")
        left = _english_left(w, shown)
        if shown == w.text or left:
            untranslated.append(f"{w.where} {w.field}: {w.text!r} -> {shown!r}")
    assert not untranslated, "\n".join(
        ["untranslated (reports/evidence/phrase_table.py, then the .po):", *untranslated]
    )


def test_the_english_pack_shows_the_evaluators_texts_as_written(written):
    assert all(phrase(w.text, "en") == w.text for w in written)


def _reprs(ev: Evaluators, written: list[Written]) -> list[str]:
    """Values formatted straight into a written text that a model holds as a tuple, list, set or
    dict: they read as Python (``('all',)``, ``['a', 'b']``), not as words."""
    assert written  # ``formatted`` is filled as the texts are read
    containers = container_fields()
    return sorted(
        where
        for where, expr in ev.formatted.items()
        if isinstance(expr, ast.Attribute) and expr.attr in containers
    )


def test_no_evaluator_formats_a_tuple_or_list_into_its_text(evaluators, written):
    assert _reprs(evaluators, written) == []


def test_a_tuple_formatted_into_a_text_is_named(tmp_path):
    (tmp_path / "widget.py").write_text(
        "from baluarte.findings import Outcome\n"
        "def widget(facts, params, ctx):\n"
        '    shown = f"profiles {facts.profiles}"\n'
        "    return Outcome.failed('every profile on', shown)\n"
    )
    widget = Evaluators(tmp_path)
    assert _reprs(widget, widget.written()) == ["widget.py:3 facts.profiles"]
