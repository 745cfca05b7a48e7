"""EndpointFacts of a Windows host: Microsoft Defender Antivirus, Sophos Endpoint and BitLocker.

Defender in passive mode (another product is primary) is installed but not running as the
anti-malware engine. Sophos: its core services (Endpoint Defense, File Scanner) running and set
to start, the health registry saying "good" for services, tamper protection from Sophos Endpoint
Defense's ``SEDEnabled``; its signature age is not read by the Windows check, so that control is
``error`` for Sophos unless another product passes. Disk: the OS volume (VolumeType
OperatingSystem, else the system drive) is encrypted when it is FullyEncrypted with protection On.
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
    mode = data.text("AMRunningMode")
    service = data.flag("AMServiceEnabled")
    antivirus = data.flag("AntivirusEnabled")
    active = antivirus and mode not in _PASSIVE
    realtime = data.flag("RealTimeProtectionEnabled")
    built = data.optional_date("AntivirusSignatureLastUpdated")
    age = (now - built).total_seconds() / 86400 if built else None
    tamper = data.flag("IsTamperProtected")
    return ProductStatus(
        product="defender",
        installed=True,
        installed_detail=f"Get-MpComputerStatus: AMProductVersion {data.text('AMProductVersion')}",
        version=data.text("AMProductVersion"),
        running=active,
        enabled=service,
        running_detail=(
            f"AMRunningMode {mode}, AMServiceEnabled {service}, AntivirusEnabled {antivirus}"
        ),
        realtime=realtime and active,
        realtime_detail=f"RealTimeProtectionEnabled {realtime}"
        + ("" if active else f" (AMRunningMode {mode})"),
        signatures_built=built,
        signature_age_days=age,
        signatures_detail=f"signatures {data.text('AntivirusSignatureVersion')} of "
        + (f"{built:%Y-%m-%d %H:%M} UTC" if built else "unknown date"),
        label=label,
        tamper_protected=tamper,
        tamper_detail=f"IsTamperProtected {tamper}",
    )


def _sophos(document: Mapping[str, Any]) -> ProductStatus:
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
        signatures_detail="the Sophos signature age is not read on Windows",
        signatures_read=False,
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
        lambda: _sophos(document),
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
