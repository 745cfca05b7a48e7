"""Sophos Protection for Linux (SPL), from its status files under /opt/sophos-spl (§3.3).

Reconstructed from Sophos' public SPL sources and tests, not from a real install:
``SHS_status.xml`` item values are 1 good, 2 suspicious, 3 bad (details: 0 running, 1 bad,
2 missing); ``ALC_status.xml`` holds the last update as ``<installState><state>good</state>
<lastGood>…</lastGood>`` (or ``<state>bad</state><failedSince>…``); on-access scanning is the
``soapd`` process; the watchdog process is ``sophos_watchdog``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from checks.facts.endpoint import ProductStatus
from checks.linux.daemons import Daemon
from checks.linux.endpoint_services import Services
from checks.linux.raw import field

__all__ = ["parse_sophos", "parse_sophos_time"]

_UNITS = ("sophos-spl.service",)
# SPL is installed by Sophos' own installer, not a package: its programs are root's files
# under /opt/sophos-spl (base/bin/sophos_watchdog, plugins/av/sbin/soapd)
_SPL = ("/opt/sophos-spl/",)
WATCHDOG = Daemon("Sophos' watchdog", ("sophos_watchdog",), install_dirs=_SPL)
SOAPD = Daemon("Sophos' on-access scanner", ("soapd",), install_dirs=_SPL)


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^=== (\S+)\n", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def parse_sophos_time(text: str) -> datetime | None:
    """SPL writes ``YYYYMMDD HHMMSS`` (UTC); ISO 8601 is accepted too."""
    text = text.strip()
    for fmt in ("%Y%m%d %H%M%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            when = datetime.strptime(text.replace("Z", "+0000"), fmt)
        except ValueError:
            continue
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def _xml(text: str) -> ElementTree.Element | None:
    if not text.lstrip().startswith("<"):
        return None
    try:
        return ElementTree.fromstring(text.strip().encode())
    except ElementTree.ParseError:
        return None


def _local(root: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    """Elements named ``name`` whatever their XML namespace (SPL status files declare several)."""
    return [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == name]


def _text(element: ElementTree.Element, name: str) -> str | None:
    found = _local(element, name)
    return found[0].text if found else None


def _health(text: str) -> tuple[bool | None, str]:
    root = _xml(text)
    if root is None:
        return None, "SHS_status.xml missing or not XML"
    items = {i.get("name"): i for i in _local(root, "item")}
    service = items.get("service")
    if service is None:
        return None, "SHS_status.xml has no service item"
    bad = [
        f"{d.get('name')}={d.get('value')}"
        for d in _local(service, "detail")
        if d.get("value") != "0"
    ]
    if service.get("value") == "1":
        return True, "Sophos service health good"
    return False, f"Sophos service health {service.get('value')}: {', '.join(bad) or 'no detail'}"


def _update(text: str, now: datetime | None) -> tuple[datetime | None, float | None, str]:
    root = _xml(text)
    if root is None:
        return None, None, "ALC_status.xml missing or not XML"
    states = _local(root, "installState")
    if not states:
        return None, None, "ALC_status.xml has no installState"
    state = states[0]
    good = parse_sophos_time(_text(state, "lastGood") or "")
    failed = _text(state, "failedSince")
    detail = f"last update install state {_text(state, 'state') or '?'}"
    if failed:
        detail += f", failing since {failed.strip()}"
    if good is None:
        return None, None, detail + "; no readable lastGood time"
    age = round((now - good).total_seconds() / 86400, 2) if now else None
    return good, age, f"{detail}; last good update {good:%Y-%m-%d %H:%M} UTC"


def parse_sophos(
    raw: dict[str, Any],
    packages: dict[str, str],
    paths: set[str],
    services: Services,
    now: datetime | None,
) -> ProductStatus:
    if "/opt/sophos-spl" not in paths:
        return ProductStatus(
            product="sophos", installed=False, installed_detail="no /opt/sophos-spl"
        )
    got = field(raw, "sophos")
    files = _sections(got[0]) if got else {}
    version = re.search(r"^PRODUCT_VERSION\s*=\s*(\S+)", files.get("base/VERSION.ini", ""), re.M)
    watchdog, wd_detail = services.running(WATCHDOG, _UNITS)
    enabled, en_detail = services.enabled(_UNITS)
    health, health_detail = _health(files.get("base/mcs/status/SHS_status.xml", ""))
    running: bool | None
    if watchdog is False or health is False:
        running = False
    elif watchdog is None or health is None:
        running = None
    else:
        running = True
    soapd, oa_detail = services.running(SOAPD, ())
    realtime = None if soapd is None else bool(soapd and running)
    rt_detail = f"on-access ({oa_detail})" if running is not False else "Sophos is not running"
    built, age, sig_detail = _update(files.get("base/mcs/status/ALC_status.xml", ""), now)
    problems = [d for ok, d in ((health, health_detail), (built, sig_detail)) if ok is None]
    return ProductStatus(
        product="sophos",
        installed=True,
        installed_detail="/opt/sophos-spl" + (f" {version[1]}" if version else ""),
        version=version[1] if version else None,
        running=running,
        enabled=enabled,
        running_detail=f"{wd_detail}; {health_detail}; {en_detail}",
        realtime=realtime,
        realtime_detail=rt_detail,
        signatures_built=built,
        signature_age_days=age,
        signatures_detail=sig_detail,
        problems=tuple(problems),
    )
