"""What the HTML reports (and the PDF made from them) do with text devices and files provide.

Every ``{{ value }}`` passes ``finalize`` (Jinja's hook, before autoescaping): control
characters and escape sequences are shown, never passed on. ``clip`` cuts the values a device
decides the length of (observed, reason, remediation text) for the page: WeasyPrint lays out a
long unbroken value in time that grows with the square of its length (20,000 characters: about a
minute), so a device could otherwise hold an export up for hours. Each HTML template says where
the whole value is (the JSON report; results.json in an evidence pack).
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment
from markupsafe import Markup

from baluarte.text import inert, shorten

__all__ = ["VALUE_MAX_CHARS", "clip", "finalize", "untrusted_environment"]

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


def untrusted_environment(folder: Path, *, cached: bool = True) -> Environment:
    """A Jinja2 environment for templates that show text from devices and input files:
    autoescape on, every value through ``finalize``, undefined names an error, ``clip`` as a
    filter; compiled templates cached on disk (``reports/template_cache.py``) unless not
    ``cached``. Each report adds its own translations and filters."""
    from jinja2 import FileSystemLoader, StrictUndefined

    from reports.template_cache import template_cache

    env = Environment(
        loader=FileSystemLoader(folder),
        bytecode_cache=template_cache() if cached else None,
        autoescape=True,  # explicit: the ".j2" suffix defeats select_autoescape
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
        finalize=finalize,  # control characters shown, not passed on
    )
    env.filters["clip"] = clip
    return env
