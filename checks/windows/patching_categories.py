"""Windows Update categories by GUID: an update's classification, and which installs count.

``Category.Name`` is in the signed-in user's language ("Actualizaciones de seguridad"), so
updates are classified by their WSUS classification GUID (Microsoft, "WSUS Classification
GUIDs"; Drivers and Upgrades as WSUS lists them), named here with the English names policies'
``origins:`` have always used.

For ``days_since_last_update`` only quality and security updates count: a history entry must
carry one of ``QUALITY`` and none of what Defender installs on its own several times a day —
the Definition Updates classification, or the Microsoft Defender Antivirus product (its
definitions and its platform update KB4052623). The Malicious Software Removal Tool ships as an
Update Rollup of the Windows product, so no category tells it apart: it is known by KB890830 in
its title (KB numbers are never translated), as are KB2267602 and KB4052623 should their
categories be missing. An entry with no category at all is not counted: nothing tells what it
was (cumulative updates are also in Get-HotFix, which counts on its own).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["CLASSIFICATIONS", "QUALITY", "SECURITY", "counts_as_update", "origins"]

CLASSIFICATIONS = {
    "0fa1201d-4330-4fa8-8ae9-b877473b6441": "Security Updates",
    "e6cf1350-c01b-414d-a61f-263d14d133b4": "Critical Updates",
    "e0789628-ce08-4437-be74-2495b842f43b": "Definition Updates",
    "cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83": "Updates",
    "28bc880e-0592-4cbf-8f95-c79b17911d5f": "Update Rollups",
    "68c5b0a3-d1a6-4553-ae49-01d3a7827828": "Service Packs",
    "b54e7d24-7add-428f-8b75-90a396fa584f": "Feature Packs",
    "3689bdc8-b205-4af4-8d4a-a63924c5e9d5": "Upgrades",
    "ebfc1fc5-71a4-4f7b-9aca-3b9a503104a0": "Drivers",
    "b4832bd8-e735-4761-8daf-37f882276dab": "Tools",
}
SECURITY = frozenset({"Security Updates", "Critical Updates"})
QUALITY = frozenset(
    {"Security Updates", "Critical Updates", "Updates", "Update Rollups", "Service Packs"}
)
_DEFINITIONS = "e0789628-ce08-4437-be74-2495b842f43b"
_DEFENDER_PRODUCT = "8c3fcc84-7410-4a95-8b89-a166a0190486"  # "Microsoft Defender Antivirus"
# MSRT, Defender security intelligence, Defender platform
_NOT_UPDATES = re.compile(r"\bKB(890830|2267602|4052623)\b", re.IGNORECASE)


def _ids(category_ids: Iterable[str]) -> list[str]:
    return [c.strip().strip("{}").lower() for c in category_ids]


def origins(names: Sequence[str], category_ids: Sequence[str]) -> tuple[str, ...]:
    """An update's categories as policies name them: classifications by GUID, in English;
    the others (products) as the host named them."""
    out: list[str] = []
    ids = _ids(category_ids)
    for i, category in enumerate(ids):
        name = CLASSIFICATIONS.get(category) or (names[i] if i < len(names) else category)
        if name not in out:
            out.append(name)
    return tuple(out)


def counts_as_update(title: str, category_ids: Sequence[str]) -> bool:
    """Whether a Windows Update history entry is a quality or security update (see above)."""
    ids = _ids(category_ids)
    if _DEFINITIONS in ids or _DEFENDER_PRODUCT in ids or _NOT_UPDATES.search(title):
        return False
    return any(CLASSIFICATIONS.get(c) in QUALITY for c in ids)
