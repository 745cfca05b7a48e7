"""Join the per-domain sh fragments into the one script a Linux host runs (one round trip).

The script prints a single JSON document: ``{"schema": 1, "host": {…}, "<domain>": {…}, …}``,
where each member of a domain is one command's ``{"out": "…", "rc": N}``. Fragments only fetch
raw output (``field DOMAIN NAME CMD``); ``checks/linux/<domain>.py`` parse it. Output bytes that
are not UTF-8 are replaced by U+FFFD field by field, the field then carrying ``"replaced": N``;
``decoding_notes`` says so for the findings of that domain.

A domain is collected on Linux when both ``checks/linux/<domain>.sh`` and a ``parse`` function
in ``checks/linux/<domain>.py`` exist. A domain module may also define
``settings(controls, restore_test) -> Settings``: shell variables its fragment reads (``BL_…``,
from the policy's parameters) and secrets, which the script reads from its standard input so
they never appear in a command line, a process list or a log.
"""

from __future__ import annotations

import importlib
import shlex
from functools import cache
from importlib import resources
from importlib.util import find_spec
from typing import Any

from baluarte.controls import DOMAINS
from checks.linux.settings import Settings

__all__ = [
    "LINUX_DOMAINS",
    "SCHEMA",
    "Settings",
    "collection_script",
    "decoding_notes",
    "linux_domains",
]

SCHEMA = 1


def _fragment(name: str) -> str:
    return resources.files("checks.linux").joinpath(f"{name}.sh").read_text(encoding="utf-8")


@cache
def linux_domains() -> tuple[str, ...]:
    """The domains whose Linux collection is built; a control of another is ``error``."""
    found: list[str] = []
    for domain in DOMAINS:
        if find_spec(f"checks.linux.{domain}") is None:
            continue
        if not resources.files("checks.linux").joinpath(f"{domain}.sh").is_file():
            continue
        if hasattr(importlib.import_module(f"checks.linux.{domain}"), "parse"):
            found.append(domain)
    return tuple(found)


LINUX_DOMAINS = linux_domains()


def collection_script(
    domains: tuple[str, ...] = LINUX_DOMAINS, settings: Settings | None = None
) -> tuple[str, tuple[str, ...]]:
    """The script for one host, and the lines to feed its standard input."""
    settings = settings or Settings()
    prelude = [f"BL_{name}={shlex.quote(value)}" for name, value in sorted(settings.env.items())]
    names = sorted(settings.secrets)
    prelude += [f"IFS= read -r BL_{name} || BL_{name}=" for name in names]
    return _script(domains, "\n".join(prelude)), tuple(settings.secrets[n] for n in names)


def decoding_notes(doc: dict[str, Any]) -> dict[str, str]:
    """Domain → a note naming the fields whose output had bytes that are not UTF-8 (the host's
    own fields, read by every domain, count for each)."""

    def replaced(section: Any) -> dict[str, int]:
        if not isinstance(section, dict):
            return {}
        return {
            name: item["replaced"]
            for name, item in section.items()
            if isinstance(item, dict) and isinstance(item.get("replaced"), int)
        }

    host = {f"host.{name}": n for name, n in replaced(doc.get("host")).items()}
    notes: dict[str, str] = {}
    for domain in LINUX_DOMAINS:
        found = host | {f"{domain}.{name}": n for name, n in replaced(doc.get(domain)).items()}
        if found:
            notes[domain] = (
                f"note: {sum(found.values())} byte(s) the host printed were not UTF-8 (in "
                f"{', '.join(sorted(found))}); each is shown as U+FFFD (\ufffd)"
            )
    return notes


@cache
def _script(domains: tuple[str, ...], prelude: str) -> str:
    body = "\n".join([_fragment("host"), *(_fragment(d) for d in domains)])
    # control characters other than tab, newline and the frame marker (\036) cannot be in JSON
    return (
        f"{_fragment('common')}\n{prelude}\n{{\n{body}\n}} </dev/null 2>/dev/null"
        " | tr -d '\\000-\\010\\013\\014\\016-\\035\\037'"
        f' | BL_TAG="$BL_TAG" LC_ALL=C awk -v schema={SCHEMA} "$BL_ENCODE"\n'
    )
