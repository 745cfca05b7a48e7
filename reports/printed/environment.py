"""The Jinja environment of a printed report's templates: ``untrusted_environment`` (device text
escaped and inert), the report's words as ``_`` and ``_n``, ``css_string`` for text inside
<style>, and the shared page beside the report's own templates:

- ``printed.css``: the page (A4, margins' fonts, colours), included before the report's CSS;
- ``printed.j2``: ``margins``, the running head and foot (none on the first page).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader

from reports.evidence.render import _css_string  # the same quoting of text inside <style>
from reports.html_text import untrusted_environment

__all__ = ["ReportWords", "printed_environment"]

_SHARED = Path(__file__).parent / "templates"


class ReportWords(Protocol):
    """A report's words in one language: what its templates call ``_`` and ``_n``."""

    def _(self, msgid: str, **values: Any) -> str: ...

    def _n(self, singular: str, plural: str, n: int, **values: Any) -> str: ...


def printed_environment(templates: Path, words: ReportWords) -> Environment:
    """The environment of the report templates in ``templates``, in ``words``' language."""
    env = untrusted_environment(templates)
    # the report's own folder first: a name there is the report's, not the shared page's
    env.loader = FileSystemLoader([templates, _SHARED])
    env.globals["_"] = words._
    env.globals["_n"] = words._n
    env.filters["css_string"] = _css_string
    return env
