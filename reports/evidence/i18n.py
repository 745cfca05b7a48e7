"""Report language: the gettext catalogues and locale formats of dates and numbers.

The catalogues are ``reports/locales/<lang>/LC_MESSAGES/baluarte.po``. They are compiled at
first use, in memory (Babel's own reader and MO writer), and cached per process: no build step,
and no compiled ``.mo`` file that could fall behind its ``.po``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime as DateTime
from datetime import tzinfo
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

from baluarte.evidence.data import Lang
from baluarte.timezones import DEFAULT_TIMEZONE, zone

__all__ = ["DOMAIN", "LOCALES", "LOCALE_DIR", "Formats", "catalogue_path", "translations"]

DOMAIN = "baluarte"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locales"
LOCALES: dict[str, str] = {"es": "es_ES", "en": "en_GB"}


def catalogue_path(lang: Lang) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: Lang) -> Translations:
    """The language's catalogue, compiled from its .po on first use."""
    path = catalogue_path(lang)
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=LOCALES[lang], domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


@dataclass(frozen=True)
class Formats:
    """Dates, times and numbers as the report's locale writes them, times in the client's zone."""

    lang: Lang
    timezone: str = DEFAULT_TIMEZONE  # an IANA name (the inventory's ``timezone:``)

    @property
    def locale(self) -> str:
        return LOCALES[self.lang]

    @property
    def tz(self) -> tzinfo:
        return zone(self.timezone)

    def date(self, value: Date | DateTime | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, DateTime):
            value = value.astimezone(self.tz).date() if value.tzinfo else value.date()
        return format_date(value, "long", locale=self.locale)

    def short_date(self, value: Date | DateTime | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, DateTime):
            value = value.astimezone(self.tz).date() if value.tzinfo else value.date()
        return format_date(value, "short", locale=self.locale)

    def datetime(self, value: DateTime | None) -> str:
        """Local date and time in the zone with its UTC offset: ``27/11/2026 02:00 (+01:00)``."""
        if value is None:
            return "—"
        if value.tzinfo is None:  # stored without an offset: shown as stored, never guessed
            return format_datetime(value, "dd/MM/yyyy HH:mm", locale=self.locale)
        return format_datetime(value, "dd/MM/yyyy HH:mm (xxx)", tzinfo=self.tz, locale=self.locale)

    def number(self, value: float | int, decimals: int = 0) -> str:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(value, pattern, locale=self.locale)

    def percent(self, value: float | None) -> str:
        """A percentage given as 0–100, to one decimal, in the locale's percent pattern."""
        if value is None:
            return "—"
        pattern = Locale.parse(self.locale).percent_formats[None].pattern.replace("0", "0.0", 1)
        return format_percent(value / 100, pattern, locale=self.locale)

    def points(self, value: float) -> str:
        """A signed difference of percentage points: ``+12,5`` / ``−3.0``."""
        sign = "+" if value > 0 else ("−" if value < 0 else "±")
        return sign + self.number(abs(value), 1)
