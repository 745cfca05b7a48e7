"""Microsoft Defender for Endpoint on Linux, from ``mdatp health --output json`` (§3.2).

The JSON uses camelCase keys; many values are wrapped as ``{"value": …}``; times are epoch
milliseconds written as strings. Output that is not that JSON leaves every state unknown.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from checks.facts.endpoint import ProductStatus
from checks.linux.daemons import Daemon
from checks.linux.endpoint_services import Services
from checks.linux.raw import field

__all__ = ["parse_defender"]

_UNITS = ("mdatp.service",)
# /opt/microsoft/mdatp/sbin/wdavdaemon; its helper processes run as the mdatp account
WDAVDAEMON = Daemon("Defender's daemon", ("wdavdaemon",), ("mdatp",), ("mdatp",))


def _value(doc: dict[str, Any], key: str) -> Any:
    item = doc.get(key)
    return item.get("value") if isinstance(item, dict) else item


def _epoch_ms(value: Any) -> datetime | None:
    text = str(value).strip() if value is not None else ""
    return datetime.fromtimestamp(int(text) / 1000, UTC) if text.isdigit() else None


def _health(raw: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    got = field(raw, "mdatp")
    if got is None:
        return None, "mdatp health was not run"
    text, rc = got
    start = text.find("{")
    try:
        doc = json.loads(text[start:]) if start >= 0 else None
    except json.JSONDecodeError:
        doc = None
    if not isinstance(doc, dict) or "healthy" not in doc:
        tail = " / ".join(text.strip().splitlines()[-2:])[:200]
        return None, f"mdatp health gave no health report (exit {rc}): {tail}"
    return doc, ""


def parse_defender(
    raw: dict[str, Any],
    packages: dict[str, str],
    paths: set[str],
    services: Services,
    now: datetime | None,
) -> ProductStatus:
    found = [f"package mdatp {packages['mdatp']}"] if "mdatp" in packages else []
    found += sorted(p for p in paths if "mdatp" in p)
    if not found:
        return ProductStatus(
            product="defender", installed=False, installed_detail="no mdatp package or command"
        )
    doc, problem = _health(raw)
    process, proc_detail = services.running(WDAVDAEMON, _UNITS)
    enabled, en_detail = services.enabled(_UNITS)
    if doc is None:
        return ProductStatus(
            product="defender",
            installed=True,
            installed_detail=", ".join(found),
            version=packages.get("mdatp"),
            running=False if process is False else None,
            enabled=enabled,
            running_detail=f"{proc_detail}; {en_detail}; {problem}",
            realtime_detail=problem,
            signatures_detail=problem,
            problems=(problem,),
        )
    healthy = doc.get("healthy")
    issues = [str(i) for i in doc.get("healthIssues") or []]
    running: bool | None = healthy is True
    run_detail = (
        "wdavdaemon answered: healthy"
        if healthy is True
        else (f"wdavdaemon answered: not healthy ({'; '.join(issues) or 'no issue given'})")
    )
    if not isinstance(healthy, bool):
        running, run_detail = None, f"mdatp health: unexpected 'healthy' value {healthy!r}"
    rtp = _value(doc, "realTimeProtectionEnabled")
    passive = _value(doc, "passiveModeEnabled")
    if not isinstance(rtp, bool):
        realtime: bool | None = None
        rt_detail = f"mdatp health: unexpected realTimeProtectionEnabled {rtp!r}"
    elif rtp and passive is True:
        realtime, rt_detail = False, "real-time protection on but in passive mode (detects only)"
    else:
        realtime = rtp
        subsystem = doc.get("realTimeProtectionSubsystem")
        rt_detail = f"real-time protection {'on' if rtp else 'off'}" + (
            f" ({subsystem})" if rtp and subsystem else ""
        )
    built = _epoch_ms(doc.get("definitionsUpdated"))
    minutes = doc.get("definitionsUpdatedMinutesAgo")
    if built is None and isinstance(minutes, int) and now is not None:
        built = now - timedelta(minutes=minutes)
    age = round((now - built).total_seconds() / 86400, 2) if built and now else None
    status = doc.get("definitionsStatus")
    state = status.get("$type") if isinstance(status, dict) else status
    sig_detail = (
        f"definitions {doc.get('definitionsVersion', '?')} updated {built:%Y-%m-%d %H:%M} UTC"
        if built
        else "definitionsUpdated missing from mdatp health"
    ) + (f", status {state}" if state else "")
    return ProductStatus(
        product="defender",
        installed=True,
        installed_detail=", ".join(found),
        version=str(doc.get("appVersion") or packages.get("mdatp") or "") or None,
        running=running,
        enabled=enabled,
        running_detail=f"{run_detail}; {en_detail}",
        realtime=realtime,
        realtime_detail=rt_detail,
        signatures_built=built,
        signature_age_days=age,
        signatures_detail=sig_detail,
    )
