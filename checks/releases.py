"""Distribution releases and their support periods, from Debian's distro-info-data (vendored).

The tables (``checks/data/distro-info/{debian,ubuntu}.csv``, ISC licence beside them) give each
release's end of regular security support and of its extended phases. Which phase a release is
in on a date, and what that phase needs from the device, is read here once; judging it against
a policy is the evaluator's job (``checks/evaluators/patching_sources.py``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

__all__ = ["DATA_VERSION", "Phase", "Release", "find_release", "releases"]

DATA_VERSION = "distro-info-data 0.58+deb12u6"

Kind = Literal["regular", "lts", "paid"]


@dataclass(frozen=True)
class Phase:
    """One support phase: security fixes are published until ``until`` (inclusive)."""

    name: str  # "regular security support", "Debian LTS", "Ubuntu Pro ESM"…
    kind: Kind  # regular; lts: free, same security archive (Debian LTS); paid: a subscription
    until: date
    # paid phases come from their own archive: a source on one of these sites must be configured
    sites: tuple[str, ...] = ()


@dataclass(frozen=True)
class Release:
    distro: str  # "debian", "ubuntu"
    version: str  # "12", "24.04" (Ubuntu's " LTS" dropped)
    series: str  # "bookworm"
    name: str  # "Debian 12 (bookworm)"
    released: date | None  # None: not released yet (testing, unstable, a future series)
    phases: tuple[Phase, ...]  # in order; empty: no security support at all (sid, experimental)

    def phase_on(self, day: date) -> Phase | None:
        """The phase ``day`` falls in; None once every phase has ended (or there is none)."""
        return next((p for p in self.phases if day <= p.until), None)


_ESM_SITES = ("esm.ubuntu.com",)
_ELTS_SITES = ("deb.freexian.com",)
# (column, phase name, kind, sites), in the order the phases follow each other
_PHASES: dict[str, tuple[tuple[str, str, Kind, tuple[str, ...]], ...]] = {
    "debian": (
        ("eol", "regular security support", "regular", ()),
        ("eol-lts", "Debian LTS", "lts", ()),
        ("eol-elts", "Debian ELTS (Freexian, paid)", "paid", _ELTS_SITES),
    ),
    "ubuntu": (
        # eol-server: the longer server support of old LTS releases (10.04 and before)
        ("eol-server", "regular security support", "regular", ()),
        ("eol-esm", "Ubuntu Pro ESM", "paid", _ESM_SITES),
        ("eol-legacy", "Ubuntu Pro Legacy support", "paid", _ESM_SITES),
    ),
}


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _release(distro: str, row: dict[str, str]) -> Release:
    version = row["version"].removesuffix(" LTS")
    released = _day(row.get("release"))
    phases: list[Phase] = []
    regular_end = _day(row.get("eol"))
    for column, name, kind, sites in _PHASES[distro]:
        until = _day(row.get(column))
        if kind == "regular":
            # Ubuntu: the regular phase ends at the later of eol and eol-server; a released
            # series whose end is not announced yet is supported
            until = max((d for d in (regular_end, until) if d), default=date.max)
        if until is not None and (not phases or until > phases[-1].until):
            phases.append(Phase(name, kind, until, sites))
    label = "Debian" if distro == "debian" else "Ubuntu"
    series = row["series"]
    return Release(
        distro=distro,
        version=version,
        series=series,
        name=f"{label} {version} ({series})" if version else f"{label} {series}",
        released=released,
        # unreleased (testing, unstable, experimental): no security support at all
        phases=tuple(phases) if released else (),
    )


@cache
def releases(distro: str) -> tuple[Release, ...]:
    """Every release the table knows for ``distro`` ("debian", "ubuntu"); () for others."""
    if distro not in _PHASES:
        return ()
    text = (
        resources.files("checks.data")
        .joinpath(f"distro-info/{distro}.csv")
        .read_text(encoding="utf-8")
    )
    return tuple(_release(distro, row) for row in csv.DictReader(text.splitlines()))


def find_release(distro: str, version: str = "", codename: str = "") -> Release | None:
    """The release ``/etc/os-release`` names (ID, VERSION_ID, VERSION_CODENAME); None: unknown.

    The codename decides when both are given and disagree with each other: a point release
    (Debian 12.8's VERSION_ID is still "12"; Ubuntu's is "24.04") never changes the series.
    """
    known = releases(distro)
    if codename:
        found = next((r for r in known if r.series == codename.lower()), None)
        if found is not None:
            return found
    if version:
        return next((r for r in known if r.version and r.version == version), None)
    return None
