"""PatchFacts: what a device's patch level is, whatever the platform it came from.

``None`` always means "could not tell"; an evaluator that needs it reports ``error``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "AutoUpdates",
    "Firmware",
    "KernelPackage",
    "OsRelease",
    "PackageLists",
    "PackageSource",
    "PatchFacts",
    "PendingUpdate",
    "RebootState",
]


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
    # Windows Update: the update's UpdateID (GUID, lower case), what a fix selects it by (titles
    # are localised); None where the check did not collect it
    update_id: str | None = None
    # why an upgrade run leaves it out although it is pending: "held" (apt-mark hold),
    # "deferred by phasing", "kept back"; "" when an upgrade installs it
    kept: str = ""


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
    # what gave evidence: "needrestart", "reboot-required file", "kernel comparison"; "" when
    # nothing did, and then ``required`` False proves nothing (see ``unknown``)
    source: str = ""
    unknown: str = ""  # with no source: what was looked at, and why none of it could tell


class PackageSource(BaseModel):
    """One configured package source (an apt suite, a dnf repository) and its fetched metadata."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str  # "http://deb.debian.org/debian bookworm-security"; a dnf repository id
    entry: str = ""  # where it is configured: "/etc/apt/sources.list.d/x.list:1"
    site: str = ""  # the host serving it: "security.debian.org" (paid archives are told by it)
    fetched: bool  # its metadata is on the device: apt-get update (dnf makecache) got it once
    # when the archive published the metadata on the device (Release ``Date:``, repomd
    # revision): how stale the device's view of that source is, at most
    published_at: datetime | None = None
    valid_until: datetime | None = None  # the archive's own expiry of it (``Valid-Until:``)
    origin: str = ""
    label: str = ""
    suite: str = ""
    security: bool = False  # publishes security fixes (Debian-Security, a -security pocket…)
    # republished continuously (a -security pocket, a Valid-Until, dnf advisories),
    # so an old publish date means an old refresh; a release pocket keeps its release date
    continuous: bool = False


class PackageLists(BaseModel):
    """The sources a device's pending updates are computed from (apt lists, dnf metadata)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: tuple[PackageSource, ...] = ()
    problem: str = ""  # why the sources could not be read; "" when they were


class OsRelease(BaseModel):
    """``/etc/os-release``: which distribution release the device runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str  # "debian", "ubuntu", "rocky"
    version_id: str = ""
    codename: str = ""  # VERSION_CODENAME
    id_like: tuple[str, ...] = ()
    ubuntu_codename: str = ""  # derivatives (Linux Mint) name their Ubuntu base here
    pretty_name: str = ""


class KernelPackage(BaseModel):
    """An installed package that ships a kernel image (found by file ownership, not by name)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    package: str  # "linux-image-6.1.0-27-amd64", "proxmox-kernel-6.8.12-4-pve-signed"
    version: str  # the package's version, in the device's version scheme
    release: str  # the kernel it ships, as ``uname -r`` names it: "6.1.0-27-amd64"
    # kernels that supersede each other: Debian's flavour ("amd64", "cloud-amd64", "pve"),
    # rpm's package name ("kernel-core")
    family: str


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
    # pending upgrades an upgrade run leaves out whose candidate and origin could not be
    # established (one entry each, named where known; why in ``problems``): they count as
    # pending, and whether any is a security update is unknown
    unclassified: tuple[str, ...] = ()
    last_update: datetime | None
    last_update_source: str = ""
    # False: some update records could not be read (an unreadable log), so a newer update may
    # be among them; ``last_update`` is the newest of those that could
    history_read: bool = True
    automatic_updates: AutoUpdates | None
    reboot: RebootState | None
    kernel_running: str | None
    kernel_newest: str | None
    # package version of the running kernel: from ``uname -v`` where it carries one (Debian,
    # Ubuntu, Proxmox; the package may have been upgraded in place since boot), else from the
    # package that ships it; None: neither
    kernel_running_version: str | None = None
    kernel_running_version_source: str = ""  # "uname -v", "package linux-image-…", "uname -r"
    kernel_newest_version: str | None = None
    kernel_family: str | None = None  # the running kernel's family (see KernelPackage.family)
    kernel_provider: KernelPackage | None = None  # the installed package shipping it; None: none
    kernels: tuple[KernelPackage, ...] | None = None  # every installed kernel; None: unread
    # what proves the device is a container (its kernel is the host's), e.g. "/.dockerenv";
    # None: nothing does (a container is never assumed)
    container: str | None = None
    packages: dict[str, str] | None  # installed package -> version
    # how `packages` and the kernel versions order: Debian's rules or rpm's (rpmvercmp)
    version_scheme: Literal["deb", "rpm"] = "deb"
    # the sources the pending set comes from; None only where updates are not computed from
    # package lists on the device (Windows Update searches online, FortiGate has firmware)
    package_sources: PackageLists | None = None
    os_release: OsRelease | None = None
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
