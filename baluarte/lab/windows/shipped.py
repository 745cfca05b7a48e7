"""The Windows lab states shipped with Baluarte (``states/*.json``).

They are recorded as of their ``host.Now``; the lab server moves every timestamp to the present
when it answers (unless ``freeze_time``), so "signatures 1 day old" stays true whatever the date.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["SHIPPED", "shipped_state"]

SHIPPED = ("hardened", "office-pc")


def shipped_state(name: str) -> dict[str, Any]:
    """A fresh copy of a shipped Windows lab state (state-file format)."""
    if name not in SHIPPED:
        raise ValueError(f"no shipped Windows lab state {name!r} (shipped: {', '.join(SHIPPED)})")
    text = resources.files("baluarte.lab.windows").joinpath(f"states/{name}.json").read_text()
    state: dict[str, Any] = json.loads(text)
    return state
