"""The lab states shipped with Baluarte (``states/*.json``), brought forward to the present.

A state file is a snapshot of a unit at one moment: the FortiGuard definitions it reports were
fresh then. The shipped states were written as of ``AS_OF``; ``shipped_state`` moves every epoch
timestamp in their monitor answers by the time elapsed since, so "definitions updated an hour
ago" stays true for the demo and the tests whatever the date. Provider-captured states are
served as captured (``load_state``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

__all__ = ["AS_OF", "SHIPPED", "shipped_state"]

AS_OF = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SHIPPED = ("hardened", "small-office")
# Monitor fields holding epoch seconds (licence expiry, definition updates, NTP reference time).
_EPOCH_FIELDS = frozenset(
    {"expires", "last_update", "last_update_attempt", "next_scheduled_update", "reftime"}
)
_EPOCH_FLOOR = 1_000_000_000  # smaller numbers in those fields are durations, not dates


def _shift(node: Any, seconds: int) -> Any:
    if isinstance(node, dict):
        return {
            k: v + seconds
            if k in _EPOCH_FIELDS and isinstance(v, int) and v > _EPOCH_FLOOR
            else _shift(v, seconds)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_shift(item, seconds) for item in node]
    return node


def shipped_state(name: str, now: datetime | None = None) -> dict[str, Any]:
    """A fresh copy of a shipped state, its monitor timestamps moved to ``now``'s frame."""
    if name not in SHIPPED:
        raise ValueError(f"no shipped lab state {name!r} (shipped: {', '.join(SHIPPED)})")
    text = resources.files("baluarte.lab.fortigate").joinpath(f"states/{name}.json").read_text()
    state: dict[str, Any] = json.loads(text)
    delta = int(((now or datetime.now(UTC)) - AS_OF).total_seconds())
    state["monitor"] = _shift(state.get("monitor", {}), delta)
    return state
