"""Every word the evidence report uses has a translation in Spanish and in English."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po
from jinja2.ext import babel_extract

from baluarte.controls import catalogue
from baluarte.service.notify.message import catalogue_messages as notify_messages
from baluarte.service.web.i18n import messages as dashboard_messages
from reports.evidence import control_text
from reports.evidence.control_text import control_messages, messages, missing
from reports.evidence.i18n import LOCALES, catalogue_path
from reports.executive.words import catalogue_messages as executive_messages

TEMPLATE = Path("reports/evidence/templates/report.html.j2")


def _used() -> set[str | tuple[str, str]]:
    found = extract_from_file(
        babel_extract,
        str(Path(__file__).parents[3] / TEMPLATE),
        keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
        options={"trim_blocks": "True", "lstrip_blocks": "True"},
    )
    return {msg for _, msg, _, _ in found}


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_every_template_msgid_is_translated(lang):
    with catalogue_path(lang).open("rb") as fh:
        cat = read_po(fh, locale=LOCALES[lang])
    used = _used()
    assert len(used) > 100  # the extraction found the template's text
    for msgid in used:
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = cat.get(key)
        assert message is not None, f"{lang}: no entry for {msgid!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{lang}: empty translation for {msgid!r}"
        assert not message.fuzzy, f"{lang}: fuzzy translation for {msgid!r}"


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_every_control_title_rationale_and_benchmark_note_is_translated(lang):
    notes = {c.benchmark for c in catalogue().values() if c.benchmark}
    assert len(control_messages()) == 2 * len(catalogue()) + len(notes)
    assert {m.text for m in control_messages() if m.part == "benchmark"} == notes
    left = [f"{m.control} {m.part}" for m in missing(lang)]
    assert not left, f"{lang}: untranslated (python -m reports.evidence.control_text): {left}"


def test_a_control_text_missing_from_a_catalogue_is_named(tmp_path, monkeypatch):
    with catalogue_path("es").open("rb") as fh:
        cat = read_po(fh, locale="es_ES")
    rationale = catalogue()["backup.encrypted"].rationale
    del cat[rationale]
    po = tmp_path / "baluarte.po"
    with po.open("wb") as fh:
        write_po(fh, cat)
    monkeypatch.setattr(control_text, "catalogue_path", lambda lang: po)
    assert [(m.control, m.part) for m in control_text.missing("es")] == [
        ("backup.encrypted", "rationale")
    ]
    assert control_text.append_missing("es") == 1  # appended, untranslated
    assert [m.control for m in control_text.missing("es")] == ["backup.encrypted"]


def test_a_benchmark_note_without_translation_is_named(tmp_path, monkeypatch):
    with catalogue_path("es").open("rb") as fh:
        cat = read_po(fh, locale="es_ES")
    note = catalogue()["firewall.allowed_inbound"].benchmark
    assert note and cat[note].string  # translated in the catalogue shipped
    cat[note].string = ""
    po = tmp_path / "baluarte.po"
    with po.open("wb") as fh:
        write_po(fh, cat)
    monkeypatch.setattr(control_text, "catalogue_path", lambda lang: po)
    assert [(m.control, m.part, m.text) for m in control_text.missing("es")] == [
        ("firewall.allowed_inbound", "benchmark", note)
    ]


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_catalogue_has_no_stale_entries(lang):
    with catalogue_path(lang).open("rb") as fh:
        cat = read_po(fh, locale=LOCALES[lang])
    used = {m[0] if isinstance(m, tuple) else m for m in _used()}
    used |= {m.text for m in messages()}  # controls' text, remediation texts, phrases
    # the service shares the catalogues: its dashboard, its notifications, the executive report
    used |= {m[0] if isinstance(m, tuple) else m for m in dashboard_messages()}
    used |= {m[0] if isinstance(m, tuple) else m for _, m in notify_messages()}
    used |= {m[0] if isinstance(m, tuple) else m for _, m in executive_messages()}
    stale = {m.id if isinstance(m.id, str) else m.id[0] for m in cat if m.id} - used
    assert not stale


def test_spanish_placeholders_match_english():
    import re

    with catalogue_path("es").open("rb") as fh:
        cat = read_po(fh, locale="es_ES")
    for m in cat:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        want = set(re.findall(r"%\(\w+\)[sd]", ids[-1]))
        for s in strings:
            assert set(re.findall(r"%\(\w+\)[sd]", s)) == want, m.id
