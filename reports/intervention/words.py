"""The intervention report's words: its own Spanish catalogue (``locales/es``, msgids in English,
the English text being the msgid itself), and the report catalogues (``reports/locales``) for
the words it shares with the evidence report — status and result names, control titles, the
stored phrases of findings and remediation records (``reports/evidence/phrases.py``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from baluarte.evidence.data import Lang
from reports.evidence.i18n import LOCALES, translations
from reports.evidence.phrases import phrase_lines
from reports.printed.messages import report_messages

__all__ = ["Words", "catalogue_messages", "catalogue_path"]

_HERE = Path(__file__).parent


def catalogue_path() -> Path:
    """The Spanish catalogue of the report's own words."""
    return _HERE / "locales" / "es" / "LC_MESSAGES" / "intervention.po"


@cache
def _catalogue() -> Catalog:
    with catalogue_path().open("rb") as fh:
        return read_po(fh, locale=LOCALES["es"])


class Words:
    """``_`` and ``_n``: the report's own words (what ``catalogue_messages`` extracts);
    ``plain`` a word of the report catalogues; ``stored`` a stored English text, shown in the
    report's language where it is a catalogued phrase (else as stored)."""

    def __init__(self, lang: Lang) -> None:
        self.lang: Lang = lang

    def _(self, msgid: str, **values: Any) -> str:
        text = self._own(msgid, msgid, 1)
        return text % values if values else text

    def _n(self, singular: str, plural: str, n: int, **values: Any) -> str:
        return self._own(singular, plural, n) % {"count": n, **values}

    def plain(self, msgid: str) -> str:
        return str(translations(self.lang).gettext(msgid))

    def stored(self, text: str) -> str:
        return phrase_lines(text, self.lang)

    def _own(self, singular: str, plural: str, n: int) -> str:
        english = singular if n == 1 else plural
        if self.lang == "en":
            return english
        entry = _catalogue().get(singular)
        if entry is None or not entry.string or entry.fuzzy:
            return english  # the catalogue test names it; the reader still gets the English
        if isinstance(entry.string, tuple):  # Spanish and English: the plural for n != 1
            return str(entry.string[0 if n == 1 else 1])
        return str(entry.string)


def catalogue_messages() -> set[str | tuple[str, str]]:
    """Every msgid of the report's own words (view*.py and the template): a plural as (singular,
    plural). The catalogue test checks each is translated, and that nothing else is listed."""
    found = report_messages(_HERE, ("view.py", "view_device.py"), "intervention.html.j2")
    return {msg if isinstance(msg, str) else (msg[0], msg[1]) for msg in found}
