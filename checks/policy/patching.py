"""The ``patching:`` section of a policy."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from checks.policy.base import ControlParams, Required, Section

__all__ = [
    "GraceDays",
    "MaxCount",
    "MaxDays",
    "MinimumVersions",
    "PackageSources",
    "PatchingSection",
    "SecurityUpdates",
    "firmware_parts",
]

# "7.4.5", "v7.4.5", "7.4.5 build 2702", "v7.4.5,build2702" (as FortiOS prints it)
_FIRMWARE = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?:\s*[,-]?\s*(?:build|b)\s*(\d+))?", re.IGNORECASE)


def firmware_parts(text: str) -> tuple[int, int, int, int | None] | None:
    """A firmware version as (major, minor, patch, build or None); None when not one."""
    m = _FIRMWARE.fullmatch(text.strip())
    if not m:
        return None
    return int(m[1]), int(m[2]), int(m[3]), int(m[4]) if m[4] else None


# Baluarte default: a week. Debian's security archive republishes at least daily and marks its
# metadata valid for a week (Valid-Until), so a week-old view is already one apt would refuse.
LISTS_MAX_AGE_DAYS = 7


class MaxCount(ControlParams):
    """A pending-update count; on apt and dnf devices, only from fresh enough package lists."""

    max: int = Field(default=0, ge=0, description="most pending updates allowed")
    max_lists_age_days: int = Field(
        default=LISTS_MAX_AGE_DAYS,
        ge=0,
        description="apt/dnf: the count is trusted only from package lists published at most "
        "this many days ago (their continuously published sources); older or unknown is error",
    )


class SecurityUpdates(MaxCount):
    origins: list[str] | None = Field(
        default=None,
        description="origins that count as security (default: any origin ending in -security)",
    )


class PackageSources(ControlParams):
    """``package_sources``: the sources the pending updates are computed from can be trusted.

    Freshness is each source's publish time (Release ``Date:``, repomd revision) for the sources
    an archive republishes continuously (-security pockets, a Release with Valid-Until, dnf
    repositories with advisories); a release pocket keeps its release date and is not judged
    on it. ``extended_support`` says which support phases count as supported: ``none``, the
    regular one only; ``lts`` (default) also Debian LTS, which is free and ships through the
    same security archive; ``paid`` also Debian ELTS (Freexian) and Ubuntu Pro ESM/Legacy,
    when the device has a source on that archive (deb.freexian.com, esm.ubuntu.com).
    """

    max_age_days: int = Field(
        default=LISTS_MAX_AGE_DAYS,
        ge=0,
        description="most days since each continuously published source's metadata was published",
    )
    security_source: bool = Field(
        default=True, description="a security source must be configured and fetched"
    )
    supported_release: bool = Field(
        default=True, description="the release must be within its support period (distro-info)"
    )
    extended_support: Literal["none", "lts", "paid"] = Field(
        default="lts",
        description="support phases that count: none (regular only), lts (also Debian LTS), "
        "paid (also Debian ELTS, Ubuntu Pro ESM, when their source is configured)",
    )


class MaxDays(ControlParams):
    max: int = Field(default=14, ge=0, description="most days since the last successful update")


class GraceDays(ControlParams):
    grace_days: int = Field(default=7, ge=0, description="days a pending reboot is tolerated")


class MinimumVersions(ControlParams):
    packages: dict[str, str] = Field(
        default_factory=dict, description="package name -> lowest acceptable version"
    )
    os_build: str | None = Field(default=None, description="Windows: lowest OS build")
    firmware: str | None = Field(
        default=None,
        description='FortiGate: lowest FortiOS version, e.g. "7.4.5", "v7.4.5" or "7.4.5 build'
        ' 2702"',
    )

    @field_validator("firmware")
    @classmethod
    def _firmware_version(cls, value: str | None) -> str | None:
        if value is not None and firmware_parts(value) is None:
            raise PydanticCustomError(
                "wrong_value",
                "'{value}' is not a FortiOS version: write it as 7.4.5, v7.4.5 or 7.4.5 build 2702",
                {"value": value},
            )
        return value


class PatchingSection(Section):
    security_updates_pending: SecurityUpdates | None = None
    updates_pending: MaxCount | None = None
    days_since_last_update: MaxDays | None = None
    automatic_updates: Required | None = None
    reboot_required: GraceDays | None = None
    kernel_current: Required | None = None
    minimum_versions: MinimumVersions | None = None
    package_sources: PackageSources | None = None
