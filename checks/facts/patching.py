"""PatchFacts: what a device's patch level is, whatever the platform it came from.

``None`` always means "could not tell"; an evaluator that needs it reports ``error``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["AutoUpdates", "Firmware", "PatchFacts", "PendingUpdate", "RebootState"]


class PendingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    installed: str | None  # None: a new package the upgrade would install
    candidate: str
    origins: tuple[str, ...] = ()
    security: bool = False
    # Windows Update: the update's KB articles and MSRC severity (name is then its title)
    kb: tuple[str, ...] = ()
    severity: str | None = None


class AutoUpdates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: str | None  # "unattended-upgrades", "dnf-automatic", "windows-update", "fortiguard"
    installed: bool
    enabled: bool
    security_origin: bool  # the automatic run targets the security origin
    detail: str = ""


class RebootState(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    required: bool
    since: datetime | None = None  # when the need arose, if known
    reasons: tuple[str, ...] = ()
    source: str = ""  # "needrestart", "reboot-required file", "kernel comparison"


class Firmware(BaseModel):
    """An appliance's firmware (FortiOS), from the unit's own answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product: str  # "FortiOS"
    reported: str  # as the unit reports it: "v7.4.5"
    version: str | None  # "7.4.5"; None: the reported text is not a version
    build: int | None = None
    source: str = ""  # what reported it: "the REST API response envelope"


class PatchFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    package_manager: str | None  # "apt", "dnf", None when neither was found
    pending: tuple[PendingUpdate, ...] | None
    last_update: datetime | None
    last_update_source: str = ""
    history_read: bool = True  # False: the update records could not be read at all
    automatic_updates: AutoUpdates | None
    reboot: RebootState | None
    kernel_running: str | None
    kernel_newest: str | None
    kernel_running_version: str | None = None  # package version of the running kernel
    kernel_newest_version: str | None = None
    packages: dict[str, str] | None  # installed package -> version
    # how `packages` and the kernel versions order: Debian's rules or rpm's (rpmvercmp)
    version_scheme: Literal["deb", "rpm"] = "deb"
    lists_age_hours: float | None = None  # how fresh the package lists the pending set comes from
    problems: tuple[str, ...] = ()  # what the collector could not read, and why
    # appliances (FortiGate): the firmware replaces packages; set only for them
    firmware: Firmware | None = None
    # Windows: the OS build as "10.0.<CurrentBuild>.<UBR>", and the edition it belongs to
    os_build: str | None = None
    os_name: str = ""

    @property
    def security_pending(self) -> tuple[PendingUpdate, ...] | None:
        if self.pending is None:
            return None
        return tuple(u for u in self.pending if u.security)
