"""The ``patching:`` section of a policy."""

from __future__ import annotations

from pydantic import Field

from checks.policy.base import ControlParams, Required, Section

__all__ = [
    "GraceDays",
    "MaxCount",
    "MaxDays",
    "MinimumVersions",
    "PatchingSection",
    "SecurityUpdates",
]


class MaxCount(ControlParams):
    max: int = Field(default=0, ge=0, description="most pending updates allowed")


class SecurityUpdates(MaxCount):
    origins: list[str] | None = Field(
        default=None,
        description="origins that count as security (default: any origin ending in -security)",
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
    firmware: str | None = Field(default=None, description="FortiGate: lowest FortiOS version")


class PatchingSection(Section):
    security_updates_pending: SecurityUpdates | None = None
    updates_pending: MaxCount | None = None
    days_since_last_update: MaxDays | None = None
    automatic_updates: Required | None = None
    reboot_required: GraceDays | None = None
    kernel_current: Required | None = None
    minimum_versions: MinimumVersions | None = None
