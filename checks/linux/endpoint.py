"""Parse what ``endpoint.sh`` fetched into EndpointFacts (pure).

Each product has its own sibling parser (``endpoint_clamav.py``, ``endpoint_defender.py``,
``endpoint_sophos.py``, ``endpoint_crowdstrike.py``); the root filesystem's encryption is
``endpoint_disk.py``. This module joins them and reads what they share: installed packages,
binaries and install directories, and the process and init records (``endpoint_services.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from checks.facts.endpoint import EndpointFacts, ProductStatus
from checks.linux.endpoint_clamav import parse_clamav
from checks.linux.endpoint_crowdstrike import parse_crowdstrike
from checks.linux.endpoint_defender import parse_defender
from checks.linux.endpoint_disk import parse_disk
from checks.linux.endpoint_services import Services
from checks.linux.endpoint_sophos import parse_sophos
from checks.linux.raw import field, host_clock, out

__all__ = ["parse"]

_Parser = Callable[
    [dict[str, Any], dict[str, str], set[str], Services, datetime | None], ProductStatus
]
_PRODUCTS: tuple[_Parser, ...] = (parse_clamav, parse_defender, parse_sophos, parse_crowdstrike)


def _packages(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].startswith("ii"):
            found[parts[0]] = parts[1]
    return found


def parse(raw: dict[str, Any], host: dict[str, Any]) -> EndpointFacts:
    """``raw`` is the document's ``endpoint`` member, ``host`` its ``host`` member."""
    problems: list[str] = []
    packages = field(raw, "packages")
    paths = field(raw, "paths")
    products: tuple[ProductStatus, ...] | None = None
    if packages is None or paths is None:
        problems.append("the installed packages and product paths were not collected")
    else:
        services = Services.from_raw(raw, out(host, "uid")[0])
        if services.processes is None:
            problems.append("the process table was not collected")
        found = _packages(packages[0])
        seen = {line.strip() for line in paths[0].splitlines() if line.strip()}
        now = host_clock(host)[1]
        products = tuple(p(raw, found, seen, services, now) for p in _PRODUCTS)
    disk, why = parse_disk(raw)
    if why:
        problems.append(why)
    return EndpointFacts(products=products, disk=disk, problems=tuple(problems))
