"""Package version ordering, by the packaging system's own rules (never string comparison).

``deb``: Debian policy ordering (python-debian). ``rpm``: rpm's ``rpmvercmp`` on each part of
``[epoch:]version[-release]``, ported from rpm 4.18 (``rpmio/rpmvercmp.c``, ``lib/rpmver.c``) so
that a policy minimum is judged exactly as ``rpm``/``dnf`` order the installed package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from debian.debian_support import Version

__all__ = ["Scheme", "compare", "newest", "rpmvercmp", "split_evr"]

Scheme = Literal["deb", "rpm"]

_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT = frozenset("0123456789")
_ALNUM = _ALPHA | _DIGIT


def rpmvercmp(a: str, b: str) -> int:
    """rpm's segment comparison of one version (or release) string: -1, 0 or 1.

    Segments are maximal runs of ASCII digits or letters; anything else only separates them.
    Numbers compare numerically and beat letters; ``~`` sorts before everything (even the end
    of the string: 1.0~rc1 < 1.0), ``^`` after the end but before any further segment
    (1.0 < 1.0^git1 < 1.0.1).
    """
    if a == b:
        return 0
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        while i < la and a[i] not in _ALNUM and a[i] not in "~^":
            i += 1
        while j < lb and b[j] not in _ALNUM and b[j] not in "~^":
            j += 1
        ca = a[i] if i < la else ""
        cb = b[j] if j < lb else ""
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i += 1
            j += 1
            continue
        if ca == "^" or cb == "^":
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i += 1
            j += 1
            continue
        if not (ca and cb):
            break
        kind = _DIGIT if ca in _DIGIT else _ALPHA
        ei, ej = i, j
        while ei < la and a[ei] in kind:
            ei += 1
        while ej < lb and b[ej] in kind:
            ej += 1
        seg_a, seg_b = a[i:ei], b[j:ej]
        if not seg_b:
            # Different kinds at this point: a number is always newer than letters.
            return 1 if kind is _DIGIT else -1
        if kind is _DIGIT:
            seg_a, seg_b = seg_a.lstrip("0"), seg_b.lstrip("0")
            if len(seg_a) != len(seg_b):
                return 1 if len(seg_a) > len(seg_b) else -1
        if seg_a != seg_b:
            return 1 if seg_a > seg_b else -1
        i, j = ei, ej
    if i >= la and j >= lb:
        return 0  # equal segments, only the separators differed (1.0 vs 1_0)
    return -1 if i >= la else 1


def split_evr(evr: str) -> tuple[str | None, str, str | None]:
    """``[epoch:]version[-release]`` → (epoch or None, version, release or None), as rpm does."""
    k = 0
    while k < len(evr) and evr[k] in _DIGIT:
        k += 1
    if k < len(evr) and evr[k] == ":":
        epoch: str | None = evr[:k] or "0"
        rest = evr[k + 1 :]
    else:
        epoch, rest = None, evr
    version, dash, release = rest.rpartition("-")
    if not dash:
        return epoch, rest, None
    return epoch, version, release


def _rpm_compare(a: str, b: str) -> int:
    ea, va, ra = split_evr(a)
    eb, vb, rb = split_evr(b)
    rc = rpmvercmp(ea or "0", eb or "0")
    if rc == 0:
        rc = rpmvercmp(va, vb)
    if rc == 0 and ra is not None and rb is not None:
        # A side without a release matches any release, as in rpm's own dependency checks:
        # a policy minimum "1.5" is met by "1.5-3.el9".
        rc = rpmvercmp(ra, rb)
    return rc


def compare(a: str, b: str, scheme: Scheme = "deb") -> int:
    """-1, 0 or 1 as ``a`` sorts before, equal to or after ``b``."""
    if scheme == "rpm":
        return _rpm_compare(a, b)
    va, vb = Version(a), Version(b)
    return (va > vb) - (va < vb)


def newest(versions: Sequence[str], scheme: Scheme = "deb") -> str | None:
    best: str | None = None
    for v in versions:
        if best is None or compare(v, best, scheme) > 0:
            best = v
    return best
