"""Parse ``ufw status verbose`` and ufw's configuration (ufw writes its rules via iptables).

``ufw status`` reports the kernel's state: in a fresh network namespace with
``ENABLED=yes`` it still says ``inactive``, so the configured and loaded states are kept apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["UfwStatus", "parse_status"]


@dataclass(frozen=True)
class UfwStatus:
    active: bool
    default_incoming: str | None  # "deny", "reject", "allow"
    configured_enabled: bool
    summary: str  # the status header lines, for evidence


def parse_status(status: str, conf: str) -> UfwStatus:
    """``LC_ALL=C ufw status verbose`` and ``/etc/ufw/ufw.conf``. Raises ValueError."""
    m = re.search(r"^Status: (active|inactive)\s*$", status, re.M)
    if not m:
        first = status.strip().splitlines()[:1]
        raise ValueError(f"ufw status printed no status line ({first[0] if first else 'empty'})")
    default = re.search(r"^Default: (\w+) \(incoming\)", status, re.M)
    enabled = re.search(r"^\s*ENABLED\s*=\s*\"?(yes|no)\"?", conf, re.M | re.I)
    header = [ln for ln in status.splitlines() if re.match(r"^(Status|Default):", ln)]
    return UfwStatus(
        active=m[1] == "active",
        default_incoming=default[1] if default else None,
        configured_enabled=bool(enabled and enabled[1].lower() == "yes"),
        summary="ufw " + "; ".join(header),
    )
