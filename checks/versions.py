"""Package version ordering, by the packaging system's own rules (never string comparison)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from debian.debian_support import Version

__all__ = ["Scheme", "compare", "newest"]

Scheme = Literal["deb"]


def compare(a: str, b: str, scheme: Scheme = "deb") -> int:
    """-1, 0 or 1 as ``a`` sorts before, equal to or after ``b``."""
    va, vb = Version(a), Version(b)
    return (va > vb) - (va < vb)


def newest(versions: Sequence[str], scheme: Scheme = "deb") -> str | None:
    best: str | None = None
    for v in versions:
        if best is None or compare(v, best, scheme) > 0:
            best = v
    return best
