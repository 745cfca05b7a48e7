"""Join the per-domain sh fragments into the one script a Linux host runs (one round trip).

The script prints a single JSON document: ``{"schema": 1, "host": {…}, "<domain>": {…}, …}``.
Fragments only fetch raw output; ``checks/linux/<domain>.py`` parse it.
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
    parts = [_fragment("common"), f"printf '{{\"schema\":{SCHEMA},'", _fragment("host")]
    for domain in domains:
        parts.append("printf ','")
        parts.append(_fragment(domain))
    parts.append("printf '}\\n'")
    parts.append("exit 0")
    return "\n".join(parts) + "\n"
