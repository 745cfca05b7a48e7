"""The control catalogue's words a reader sees — each control's title, rationale and benchmark
note (the mapping table's "CIS Benchmark" column) — as messages of the report catalogues
(``reports/locales/<lang>/LC_MESSAGES/baluarte.po``).

The msgid is the English text as declared beside the evaluator (``@DOMAIN.control(title=…)``):
the text stays where the control is written, the template translates it with ``_()`` like any
other text, results.json keeps the ids, and an edited English text no longer matches its old
translation, so the catalogue test fails until it is translated again.
``python -m reports.evidence.control_text`` appends the missing ones to both catalogues (the
English one: the text itself; the Spanish one: empty, to be translated), leaving the rest as is.

The same catalogues hold the stored English phrases the pack translates when it renders
(``phrases.py``): the remediation texts declared in ``deploys/`` and ``baluarte/apply.py``
(``remedy_text.py``) and the fixed evaluator phrases and templates; ``missing`` and
``append_missing`` cover them too.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.messages.pofile import escape, read_po

from baluarte.controls import catalogue
from baluarte.evidence.data import Lang
from reports.evidence.i18n import LOCALES, catalogue_path
from reports.evidence.phrases import EVALUATOR_PHRASES, TEMPLATES
from reports.evidence.remedy_text import remedy_texts

__all__ = ["ControlMessage", "append_missing", "control_messages", "messages", "missing"]


@dataclass(frozen=True)
class ControlMessage:
    control: str
    part: str  # "title" | "rationale" | "benchmark" | "remedy" | "phrase" | "template"
    text: str  # the English text: the msgid


def control_messages() -> list[ControlMessage]:
    """Every control's title, rationale and benchmark note (when it has one), in catalogue
    order; a benchmark note several controls share is one message, named by its first."""
    out: list[ControlMessage] = []
    notes: set[str] = set()
    for ctl in catalogue().values():
        out.append(ControlMessage(ctl.id, "title", ctl.title))
        out.append(ControlMessage(ctl.id, "rationale", ctl.rationale))
        if ctl.benchmark and ctl.benchmark not in notes:
            notes.add(ctl.benchmark)
            out.append(ControlMessage(ctl.id, "benchmark", ctl.benchmark))
    return out


def messages() -> list[ControlMessage]:
    """Every message the pack translates from code: the controls' text, then the remediation
    texts (``control`` is where one is written), then the evaluator phrases; one per msgid."""
    out = control_messages()
    out += [ControlMessage(t.where, "remedy", t.text) for t in remedy_texts() if t.text]
    out += [ControlMessage("checks", "phrase", text) for text in EVALUATOR_PHRASES]
    out += [ControlMessage("checks", "template", text) for text in TEMPLATES]
    return list({m.text: m for m in reversed(out)}.values())[::-1]


def missing(lang: Lang) -> list[ControlMessage]:
    """The messages with no translation, or an empty one, in ``lang``'s catalogue."""
    with catalogue_path(lang).open("rb") as fh:
        cat = read_po(fh, locale=LOCALES[lang])
    out = []
    for m in messages():
        entry = cat.get(m.text)
        if entry is None or not entry.string or entry.fuzzy:
            out.append(m)
    return out


def append_missing(lang: Lang) -> int:
    """Append the messages ``lang``'s catalogue has no entry for; returns how many."""
    with catalogue_path(lang).open("rb") as fh:
        cat = read_po(fh, locale=LOCALES[lang])
    new = [m for m in messages() if cat.get(m.text) is None]
    blocks = [
        f"#. {_comment(m)}\n"
        + ("#, python-format\n" if m.part == "template" else "")
        + f"msgid {escape(m.text)}\n"
        f"msgstr {escape(m.text if lang == 'en' else '')}\n"
        for m in new
    ]
    if blocks:
        with catalogue_path(lang).open("a", encoding="utf-8") as fh:
            fh.write("\n" + "\n".join(blocks))
    return len(blocks)


def _comment(m: ControlMessage) -> str:
    if m.part in ("title", "rationale", "benchmark"):
        return f"control {m.part} (catalogue): {m.control}"
    if m.part == "remedy":
        return f"remediation text (stored in English, translated when shown): {m.control}"
    return f"stored phrase {m.part} (translated when shown): reports/evidence/phrases.py"


if __name__ == "__main__":
    langs: tuple[Lang, ...] = ("es", "en")
    for code in langs:
        added = append_missing(code)
        left = len(missing(code))
        print(f"{catalogue_path(code)}: {added} added, {left} to translate")
