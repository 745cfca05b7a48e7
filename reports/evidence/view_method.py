"""Evidence report, the method's account of the period: how each device observed was reached,
and which runs wrote to devices, with their changes. Shapes data only; the words are in the
template's catalogues.
"""

from __future__ import annotations

from typing import Any

from baluarte.evidence.data import EvidenceData
from baluarte.findings import Status
from baluarte.remediation import RemediationResult
from baluarte.run import RunKind
from reports.evidence.i18n import Formats

__all__ = ["reads", "writes"]

# the transport each platform is read over; a Linux device may also be this machine (@local)
_TRANSPORT = {"linux": "ssh", "windows": "winrm", "fortigate": "fortios"}


def reads(data: EvidenceData) -> list[dict[str, Any]]:
    """Each platform and transport the period's runs actually read, with the devices read over
    it (a control that could not be read counts for nothing here). The transport is the
    inventory's (the newest run's, when unchanged); a Linux device no longer in it was reached
    in a way the pack cannot tell ("unknown"), never guessed."""
    local = {
        (d["client"], d["site"], d["device"]): bool(d.get("local")) for d in data.devices_in_scope
    }
    groups: dict[tuple[str, str], set[str]] = {}
    for run in data.runs:
        for f in run.findings:
            if f.status is Status.ERROR:  # not read (the scope section says why)
                continue
            key = (f.client, f.site, f.device)
            transport = _TRANSPORT.get(f.platform, "unknown")
            if f.platform == "linux":
                transport = "unknown" if key not in local else ("local" if local[key] else "ssh")
            groups.setdefault((f.platform, transport), set()).add(f.device)
    return [
        {"platform": platform, "transport": transport, "devices": sorted(devices)}
        for (platform, transport), devices in sorted(groups.items())
    ]


def writes(data: EvidenceData, fmt: Formats) -> dict[str, Any]:
    """How many runs only read, and each run that wrote to devices (apply) with its changes."""
    applies = [r for r in data.runs if r.info.kind is RunKind.APPLY]
    return {
        "checks": sum(1 for r in data.runs if r.info.kind is RunKind.CHECK),
        "applies": [
            {
                "id": r.info.id,
                "started": fmt.datetime(r.info.started_at),
                "devices": sorted({rec.device for rec in r.remediations}),
                "changes": len(r.remediations),
                "applied": sum(
                    1 for rec in r.remediations if rec.result is RemediationResult.APPLIED
                ),
            }
            for r in applies
        ],
    }
