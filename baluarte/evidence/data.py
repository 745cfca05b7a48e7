"""EvidenceData: everything an evidence pack's renderers need, gathered once from the store.

``baluarte/evidence/pack.py`` builds it (store → runs of one client over a period, their input
files, the hash chain, drift, the client's posture and its trend, redaction applied) and hands
it to the renderers in ``reports/evidence/`` (report.html/report.pdf in Spanish or English,
OSCAL assessment results, findings.csv, junit.xml). Renderers never read the store or devices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from baluarte.history import ChainLink, Drift
from baluarte.posture import Posture, PosturePoint
from baluarte.run import RunRecord
from baluarte.timezones import DEFAULT_TIMEZONE

__all__ = ["EvidenceData", "Lang", "PackFile"]

Lang = Literal["es", "en"]


@dataclass(frozen=True)
class PackFile:
    """An input file a run read (policy, waivers, inventory), as it is in the pack."""

    role: str  # "policy" | "waivers" | "inventory"
    path: str  # as the run recorded it
    sha256: str  # as the run recorded it
    text: str | None  # the file now, when its SHA-256 still matches; None: changed or missing


@dataclass(frozen=True)
class EvidenceData:
    client: str
    legal_name: str | None
    period_from: date | None
    period_to: date | None
    lang: Lang
    generated_at: datetime
    tool_version: str
    operator: str
    runs: tuple[RunRecord, ...]  # the client's runs in the period, oldest first, only its findings
    devices_in_scope: tuple[dict[str, Any], ...]  # {client, site, device, platform, tags, local}
    files: tuple[PackFile, ...]
    drift: Drift | None  # posture at the period's end against its start (posture_drift)
    trend: tuple[PosturePoint, ...]  # posture per day (per ISO week in long periods)
    chain: tuple[ChainLink, ...]  # the store's chain over the period (plus the link before it)
    redacted: bool  # user and personal host names replaced by keyed pseudonyms
    # at the period's end: every in-scope device and control as last observed in the period
    # (None: drawn by the renderers from ``runs`` and ``devices_in_scope``)
    posture: Posture | None = None
    # the client's own statement of how complete its inventory is (inventory.py), if any
    declared_devices: int | None = None
    inventory_attestation: str | None = None
    # the client's time zone (the inventory's ``timezone:``): every date and time shown
    timezone: str = DEFAULT_TIMEZONE
