"""The executive report's words: the report catalogues (``reports/locales``), context
``executive`` so a word here never takes another page's translation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.support import Translations

from baluarte.evidence.data import Lang
from reports.evidence.i18n import translations
from reports.printed.messages import report_messages

__all__ = ["CONTEXT", "Words", "catalogue_messages"]

CONTEXT = "executive"  # the catalogues' msgctxt of this report's words
_HERE = Path(__file__).parent


class Words:
    """``_`` and ``_n`` are what ``catalogue_messages`` extracts (in view.py, mail.py and the
    template); ``plain`` reads words the evidence report translates already (control titles)."""

    def __init__(self, lang: Lang) -> None:
        self.lang: Lang = lang
        self.tr: Translations = translations(lang)

    def _(self, msgid: str, **values: Any) -> str:
        text = str(self.tr.pgettext(CONTEXT, msgid))
        return text % values if values else text

    def _n(self, singular: str, plural: str, n: int, **values: Any) -> str:
        return str(self.tr.npgettext(CONTEXT, singular, plural, n)) % {"count": n, **values}

    def plain(self, msgid: str) -> str:
        return str(self.tr.gettext(msgid))


def catalogue_messages() -> set[tuple[str, str | tuple[str, ...]]]:
    """Every (context, msgid) of the report: ``msgid``, or (singular, plural). The catalogue
    tests check each is translated in both languages (and count them as used)."""
    found = report_messages(_HERE, ("view.py", "mail.py"), "executive.html.j2")
    return {(CONTEXT, msg) for msg in found}
