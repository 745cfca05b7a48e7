"""CrowdStrike Falcon sensor on Linux, from ``falconctl -g`` and the process table (§3.4).

``falconctl`` answers one flag per call, each line ending with a period: ``rfm-state=false.``,
``aid="…".`` (or ``aid is not set.``), ``version = 7.18.17106.0``. Falcon has no local
signature database: its detection content comes from the cloud.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from checks.facts.endpoint import ProductStatus
from checks.linux.daemons import Daemon
from checks.linux.endpoint_services import Services
from checks.linux.raw import field

__all__ = ["falconctl_value", "parse_crowdstrike"]

_UNITS = ("falcon-sensor.service",)
# /opt/CrowdStrike/falcond starts the sensor; both come with the falcon-sensor package, and
# sensor updates pushed from the console land beside them without it (root's files there count)
SENSOR = Daemon(
    "CrowdStrike's sensor",
    ("falcon-sensor", "falcond"),
    ("falcon-sensor",),
    install_dirs=("/opt/CrowdStrike/",),
)


def falconctl_value(text: str, name: str) -> str | None:
    """The value of ``name`` in a ``falconctl -g`` line; "" when "not set"; None if unparseable."""
    for line in text.splitlines():
        line = line.strip()
        if re.match(rf"^{re.escape(name)} is not set\.?$", line):
            return ""
        m = re.match(rf"^{re.escape(name)}\s*=\s*(.*?)\.?$", line)
        if m:
            return m[1].strip().strip('"')
    return None


def parse_crowdstrike(
    raw: dict[str, Any],
    packages: dict[str, str],
    paths: set[str],
    services: Services,
    now: datetime | None,
) -> ProductStatus:
    found = (
        [f"package falcon-sensor {packages['falcon-sensor']}"]
        if "falcon-sensor" in packages
        else []
    )
    found += sorted(p for p in paths if "/CrowdStrike/" in p)
    if not found:
        return ProductStatus(
            product="crowdstrike",
            installed=False,
            installed_detail="no falcon-sensor package or falconctl",
            has_signatures=False,
        )
    running, run_detail = services.running(SENSOR, _UNITS)
    enabled, en_detail = services.enabled(_UNITS)
    problems: list[str] = []
    values: dict[str, str | None] = {}
    for key, name in (
        ("falcon_rfm", "rfm-state"),
        ("falcon_aid", "aid"),
        ("falcon_version", "version"),
    ):
        got = field(raw, key)
        values[name] = falconctl_value(got[0], name) if got and got[1] == 0 else None
        if values[name] is None:
            shown = " / ".join(got[0].strip().splitlines()[-1:])[:160] if got else "not run"
            problems.append(f"falconctl -g --{name}: no answer ({shown})")
    rfm, aid = values["rfm-state"], values["aid"]
    realtime: bool | None
    if running is False:
        realtime, rt_detail = False, "falcon-sensor is not running"
    elif rfm is None or aid is None:
        realtime, rt_detail = None, "; ".join(problems)
    elif rfm.lower() == "true":
        realtime, rt_detail = False, "sensor in Reduced Functionality Mode (rfm-state=true)"
    elif aid == "":
        realtime, rt_detail = False, "sensor has no agent ID: never registered with the cloud"
    elif running is None:
        realtime, rt_detail = None, run_detail
    else:
        realtime, rt_detail = True, f"sensor running, rfm-state={rfm}, aid {aid}"
    version = values["version"] or packages.get("falcon-sensor")
    return ProductStatus(
        product="crowdstrike",
        installed=True,
        installed_detail=", ".join(found),
        version=version or None,
        running=running,
        enabled=enabled,
        running_detail=f"{run_detail}; {en_detail}",
        realtime=realtime,
        realtime_detail=rt_detail,
        has_signatures=False,
        signatures_detail="Falcon has no local signature database (cloud-delivered detection)",
        problems=tuple(problems),
    )
