"""What the HTML reports (and the PDF made from them) do with text devices and files provide.

Every ``{{ value }}`` passes ``finalize`` (Jinja's hook, before autoescaping): control
characters and escape sequences are shown, never passed on. ``clip`` cuts the values a device
decides the length of (observed, reason, remediation text) for the page: WeasyPrint lays out a
long unbroken value in time that grows with the square of its length (20,000 characters: about a
minute), so a device could otherwise hold an export up for hours. Each HTML template says where
the whole value is (the JSON report; results.json in an evidence pack).
"""

from __future__ import annotations

from markupsafe import Markup

from baluarte.text import inert, shorten

__all__ = ["VALUE_MAX_CHARS", "clip", "finalize"]

# ~0.1 s of PDF layout for an unbroken value of this length; a page of text
VALUE_MAX_CHARS = 1000


def finalize(value: object) -> object:
    """Jinja ``finalize``: strings made inert; markup the templates built is left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return inert(value)
    return value


def clip(value: object, limit: int = VALUE_MAX_CHARS) -> object:
    """Jinja filter: a value longer than ``limit`` characters cut there, ending in "…"."""
    if not isinstance(value, str) or isinstance(value, Markup):
        return value
    cut, omitted = shorten(value, limit)
    return f"{cut}…" if omitted else value
