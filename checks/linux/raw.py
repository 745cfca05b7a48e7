"""Reading the collection document's fields: what every Linux parser shares.

Each domain's section maps a field name to ``{"out": "…", "rc": N}`` (see ``bundle.py``), and
the ``host`` section carries the device's clock (``"EPOCH\\n+ZZZZ"``), so ages are measured
against the device's own time and local log stamps are read in its own zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

__all__ = ["epoch", "field", "host_clock", "out", "utc_offset"]


def field(raw: dict[str, Any], key: str) -> tuple[str, int] | None:
    """A field's output and exit status; None when the fragment did not produce it."""
    item = raw.get(key)
    if not isinstance(item, dict):
        return None
    try:
        return str(item.get("out", "")), int(item.get("rc", -1))
    except (TypeError, ValueError):
        return None


def out(raw: dict[str, Any], key: str) -> tuple[str, int]:
    """Like ``field``, with a missing field read as empty output and exit status -1."""
    return field(raw, key) or ("", -1)


def utc_offset(text: str) -> timezone:
    """``date +%z`` (``+0100``) as a timezone; UTC when unreadable."""
    m = re.fullmatch(r"([+-])(\d\d)(\d\d)", text.strip())
    if not m:
        return UTC
    delta = timedelta(hours=int(m[2]), minutes=int(m[3]))
    return timezone(delta if m[1] == "+" else -delta)


def epoch(text: str) -> datetime | None:
    """Seconds since the epoch (``stat -c %Y``, ``date +%s``); None when not a positive number."""
    text = text.strip()
    return datetime.fromtimestamp(int(text), UTC) if text.isdigit() and int(text) > 0 else None


def host_clock(host: dict[str, Any]) -> tuple[timezone, datetime | None]:
    """The device's timezone and its clock at collection time."""
    parts = out(host, "clock")[0].split()
    tz = utc_offset(parts[1]) if len(parts) > 1 else UTC
    return tz, epoch(parts[0]) if parts else None
