"""EndpointFacts of a Windows host: Microsoft Defender Antivirus, Sophos Endpoint and BitLocker.

Defender in passive mode (another product is primary) is installed but not running as the
anti-malware engine. Sophos: its core services (Endpoint Defense, File Scanner) running and set
to start, the health registry saying "good" for services, tamper protection from Sophos Endpoint
Defense's ``SEDEnabled``; its signature age is that of the last successful update AutoUpdate
records in the registry (none recorded: ``error`` for Sophos unless another product passes).
A Defender whose status cannot be read (Get-MpComputerStatus fails when another product is
primary) leaves only Defender unknown, so the product that protects the PC is still judged.
Disk: the OS volume (VolumeType OperatingSystem, else the system drive) is encrypted when it is
FullyEncrypted with protection On.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from checks.facts.endpoint import DiskEncryption, EndpointFacts, ProductStatus
from checks.windows.read import Fields, Unreadable, check, host_now

__all__ = ["parse"]

_PASSIVE = ("Passive Mode", "SxS Passive Mode", "Not running", "EDR Block Mode")
_SOPHOS_CORE = ("Sophos Endpoint Defense Service", "Sophos File Scanner Service")
_NEVER = 4294967295  # a uint32 age of Get-MpComputerStatus that has never happened


def _never(days: int | None) -> str:
    """A Get-MpComputerStatus age (uint32 days): 4294967295 is "never"."""
    if days is None:
        return "unknown"
    return "never" if days == _NEVER else f"{days} days ago"


def _defender_unreadable(data: Fields, label: str) -> ProductStatus:
    """Get-MpComputerStatus failed (0x800106ba with another antivirus primary): the WinDefend
    service tells whether the engine runs; the rest of Defender is unknown, for its own controls
    only, so a product that is running (Sophos) can still be judged."""
    error = data.text("StatusError")
    service = data.optional_text("ServiceStatus")
    seen = f"Get-MpComputerStatus failed: {error}; WinDefend service {service or 'not found'}"
    stopped = service is not None and service != "Running"
    return ProductStatus(
        product="defender",
        installed=True,
        installed_detail="Get-MpComputerStatus available",
        running=False if stopped else None,
        running_detail=seen,
        realtime=False if stopped else None,
        realtime_detail=seen,
        signatures_detail=seen,
        label=label,
        tamper_detail=seen,
        problems=(f"defender.status: {seen}",),
    )


def _defender(document: Mapping[str, Any], now: datetime) -> ProductStatus:
    data = check(document, "defender.status")
    label = "Microsoft Defender Antivirus"
    if not data.flag("Present"):
        return ProductStatus(
            product="defender",
            installed=False,
            installed_detail="Get-MpComputerStatus not available",
            label=label,
        )
    if data.optional_text("StatusError") is not None:
        return _defender_unreadable(data, label)
    mode = data.text("AMRunningMode")
    service = data.flag("AMServiceEnabled")
    antivirus = data.flag("AntivirusEnabled")
    active = antivirus and mode not in _PASSIVE
    realtime = data.flag("RealTimeProtectionEnabled")
    built = data.optional_date("AntivirusSignatureLastUpdated")
    age = (now - built).total_seconds() / 86400 if built else None
    signatures = f"signatures {data.optional_text('AntivirusSignatureVersion') or 'none'} of " + (
        f"{built:%Y-%m-%d %H:%M} UTC" if built else "unknown date"
    )
    if built is None and data.optional_number("AntivirusSignatureAge") == _NEVER:
        signatures = "signatures never updated (AntivirusSignatureAge 4294967295)"
    tamper = data.flag("IsTamperProtected")
    return ProductStatus(
        product="defender",
        installed=True,
        installed_detail=f"Get-MpComputerStatus: AMProductVersion {data.text('AMProductVersion')}",
        version=data.text("AMProductVersion"),
        running=active,
        enabled=service,
        running_detail=(
            f"AMRunningMode {mode}, AMServiceEnabled {service}, AntivirusEnabled {antivirus}, "
            f"last quick scan {_never(data.optional_number('QuickScanAge'))}"
        ),
        realtime=realtime and active,
        realtime_detail=f"RealTimeProtectionEnabled {realtime}"
        + ("" if active else f" (AMRunningMode {mode})"),
        signatures_built=built,
        signature_age_days=age,
        signatures_detail=signatures,
        label=label,
        tamper_protected=tamper,
        tamper_detail=f"IsTamperProtected {tamper}",
    )


def _sophos_signatures(data: Fields, now: datetime) -> tuple[datetime | None, float | None, str]:
    """The last successful Sophos update (AutoUpdate's registry stamps, UTC) and its age."""
    last = data.optional_date("LastUpdateSuccess")
    version = data.optional_text("VirusDataVersion")
    data_text = f" (threat data {version})" if version else ""
    if last is None:
        return None, None, "the last Sophos update is not recorded in the registry" + data_text
    age = (now - last).total_seconds() / 86400
    return last, age, f"last successful Sophos update {last:%Y-%m-%d %H:%M} UTC{data_text}"


def _sophos(document: Mapping[str, Any], now: datetime) -> ProductStatus:
    data = check(document, "sophos.presence")
    label = "Sophos Endpoint"
    if not data.flag("Installed"):
        return ProductStatus(
            product="sophos",
            installed=False,
            installed_detail="no Sophos service or product",
            label=label,
        )
    services = {s.text("Name"): s for s in data.items("Services")}
    products = [p.text("DisplayName") for p in data.items("Products")]
    core = [services.get(name) for name in _SOPHOS_CORE]
    running = all(s is not None and s.text("Status") == "Running" for s in core)
    enabled = all(s is not None and s.text("StartType") != "Disabled" for s in core)
    states = [f"{n} {_state(s)}" for n, s in zip(_SOPHOS_CORE, core, strict=True)]
    health = data.optional_number("HealthServices")
    realtime: bool | None = None if health is None else (running and health == 1)
    tamper_value = data.optional_number("TamperProtectionEnabled")
    tamper = None if tamper_value is None else tamper_value == 1
    built, age, signatures = _sophos_signatures(data, now)
    return ProductStatus(
        product="sophos",
        installed=True,
        installed_detail=", ".join(products) or "Sophos services",
        running=running,
        enabled=enabled,
        running_detail="; ".join(states),
        realtime=realtime,
        realtime_detail="Sophos health registry not readable"
        if health is None
        else f"health services {health} (1 good), File Scanner {_state(core[1])}",
        signatures_built=built,
        signature_age_days=age,
        signatures_detail=signatures,
        signatures_read=built is not None,
        label=label,
        tamper_protected=tamper,
        tamper_detail="Sophos tamper protection setting not readable"
        if tamper is None
        else f"Sophos Endpoint Defense SEDEnabled {tamper_value}",
    )


def _state(service: Fields | None) -> str:
    if service is None:
        return "not installed"
    return f"{service.text('Status')} ({service.text('StartType')})"


def _disk(document: Mapping[str, Any]) -> DiskEncryption:
    data = check(document, "bitlocker.volumes")
    if not data.flag("Available"):
        return DiskEncryption(
            encrypted=False,
            root=data.text("SystemDrive"),
            source="bitlocker",
            detail="BitLocker is not available (no Get-BitLockerVolume: feature not installed)",
            kind="bitlocker",
        )
    drive = data.text("SystemDrive")
    volumes = data.items("Volumes")
    system = [v for v in volumes if v.text("VolumeType") == "OperatingSystem"] or [
        v for v in volumes if v.text("MountPoint").rstrip("\\").upper() == drive.upper()
    ]
    if not system:
        raise Unreadable(f"bitlocker.volumes: no operating system volume ({drive}) in the answer")
    v = system[0]
    status, protection = v.text("VolumeStatus"), v.text("ProtectionStatus")
    protectors = v.strings("KeyProtectorTypes")
    detail = (
        f"{v.text('MountPoint')} BitLocker {status}, protection {protection}, "
        f"{v.real('EncryptionPercentage'):g}% encrypted, {v.text('EncryptionMethod')}; "
        f"key protectors: {', '.join(protectors) or 'none'}"
    )
    return DiskEncryption(
        encrypted=status == "FullyEncrypted" and protection == "On",
        root=v.text("MountPoint"),
        layers=tuple(f"key protector {p}" for p in protectors),
        source="bitlocker",
        detail=detail,
        kind="bitlocker",
    )


def parse(document: Mapping[str, Any]) -> EndpointFacts:
    problems: list[str] = []
    products: list[ProductStatus] | None = []
    now = host_now(document)
    readers: tuple[Callable[[], ProductStatus], ...] = (
        lambda: _defender(document, now),
        lambda: _sophos(document, now),
    )
    for read in readers:
        try:
            status = read()
        except Unreadable as exc:
            # one product unknown leaves "any" and "installed" undecidable: no products at all
            problems.append(str(exc))
            products = None
            continue
        if products is not None:
            products.append(status)
    disk: DiskEncryption | None = None
    try:
        disk = _disk(document)
    except Unreadable as exc:
        problems.append(str(exc))
    return EndpointFacts(
        products=tuple(products) if products is not None else None,
        disk=disk,
        problems=tuple(problems),
    )
