"""Join the per-domain sh fragments into the one script a Linux host runs (one round trip).

The script prints a single JSON document: ``{"schema": 1, "host": {…}, "<domain>": {…}, …}``,
where each member of a domain is one command's ``{"out": "…", "rc": N}``. Fragments only fetch
raw output (``field DOMAIN NAME CMD``); ``checks/linux/<domain>.py`` parse it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["LINUX_DOMAINS", "SCHEMA", "collection_script"]

SCHEMA = 1
# The domains whose Linux collection is built; the others report "not implemented for linux yet".
LINUX_DOMAINS: tuple[str, ...] = ("patching",)


def _fragment(name: str) -> str:
    return resources.files("checks.linux").joinpath(f"{name}.sh").read_text(encoding="utf-8")


@cache
def collection_script(domains: tuple[str, ...] = LINUX_DOMAINS) -> str:
    body = "\n".join([_fragment("host"), *(_fragment(d) for d in domains)])
    # control characters other than tab, newline and the frame marker (\036) cannot be in JSON
    return (
        f"{_fragment('common')}\n{{\n{body}\n}} 2>/dev/null"
        " | tr -d '\\000-\\010\\013\\014\\016-\\035\\037'"
        f' | awk -v schema={SCHEMA} "$BL_ENCODE"\n'
    )
