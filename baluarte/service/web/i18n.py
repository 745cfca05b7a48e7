"""The dashboard's messages: every msgid its templates use, for the catalogue checks.

The dashboard's words are all in its templates (the Python side passes codes, never text), so
extracting the templates finds them all. Their entries are at the end of the report catalogues,
under ``# service: dashboard``; entries the reports already have (status names, "Expected",
"Failing since") are shared, not repeated.
"""

from __future__ import annotations

from pathlib import Path

from baluarte.service.web.render import TEMPLATES

__all__ = ["messages"]


def messages() -> set[str | tuple[str, str]]:
    """Every msgid of the templates; a plural as (singular, plural)."""
    from babel.messages.extract import extract_from_file

    found: set[str | tuple[str, str]] = set()
    for path in sorted(Path(TEMPLATES).glob("*.html.j2")):
        for _, msg, _, _ in extract_from_file(
            "jinja2",  # Jinja's extractor (jinja2.ext.babel_extract), by its entry point
            str(path),
            keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
            options={"trim_blocks": "True", "lstrip_blocks": "True"},
        ):
            found.add(msg if isinstance(msg, str) else (msg[0], msg[1]))
    return found
