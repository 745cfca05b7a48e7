"""The words a printed report marks for translation, where its catalogue test finds them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["report_messages"]


def report_messages(
    folder: Path, modules: Iterable[str], template: str
) -> list[str | tuple[str, ...]]:
    """Every message ``_`` and ``_n`` mark in the Python ``modules`` of ``folder`` and in its
    ``templates/template`` (read with the environment's block options): ``msgid``, or
    (singular, plural)."""
    from babel.messages.extract import extract_from_file

    keywords: dict[str, Any] = {"_": None, "_n": (1, 2)}
    found = [
        *(
            item
            for name in modules
            for item in extract_from_file("python", str(folder / name), keywords=keywords)
        ),
        *extract_from_file(
            "jinja2.ext:babel_extract",
            str(folder / "templates" / template),
            keywords=keywords,
            options={"trim_blocks": "True", "lstrip_blocks": "True"},
        ),
    ]
    return [msg for _, msg, _, _ in found]
