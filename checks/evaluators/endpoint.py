"""Endpoint protection: the controls of the ``endpoint`` domain (metadata; evaluators to come).

Disk encryption protects confidentiality rather than integrity, so it adds GDPR 32(1)(a),
ISO/IEC 27001:2022 8.24, ENS mp.si.2 / mp.eq.* and CIS Controls 3.6 to the domain's mappings.
"""

from __future__ import annotations

from baluarte.controls import Domain
from baluarte.findings import Severity

DOMAIN = Domain(
    "endpoint",
    gdpr=("32(1)(b)",),
    iso27001=("8.7",),
    ens=("op.exp.6",),
    nis2=("(e)", "(g)"),
    cis=("10.1", "10.2", "10.7"),
)
_WINDOWS_AV = "CIS Microsoft Windows Benchmarks, Microsoft Defender Antivirus"

DOMAIN.declare(
    "installed",
    title="Anti-malware is installed",
    rationale="Anti-malware stops and records known malicious software before it runs.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 10.1",
)
DOMAIN.declare(
    "running",
    title="Anti-malware engine is running and enabled",
    rationale="An installed but stopped engine protects nothing and is a common result of "
    "failed updates or tampering.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 10.1",
)
DOMAIN.declare(
    "realtime_protection",
    title="Real-time protection is on",
    rationale="On-access scanning catches malware when a file is written or opened, not at "
    "the next scheduled scan.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark=f"{_WINDOWS_AV} (real-time protection)",
)
DOMAIN.declare(
    "signatures_current",
    title="Anti-malware signatures are current",
    rationale="Signature-based detection is only as good as its last update.",
    severity=Severity.MEDIUM,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 10.2",
)
DOMAIN.declare(
    "tamper_protection",
    title="Tamper protection is on",
    rationale="Tamper protection stops malware and careless users from switching the "
    "protection off.",
    severity=Severity.MEDIUM,
    platforms=("windows",),
    benchmark=f"{_WINDOWS_AV}",
)
DOMAIN.declare(
    "disk_encryption",
    title="The system volume is encrypted",
    rationale="A lost or stolen laptop or disk without encryption is a personal-data breach; "
    "with it, usually not one that must be notified.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 3.6; CIS Microsoft Windows Benchmarks, BitLocker Drive Encryption",
    mappings={
        "gdpr": ("32(1)(a)",),
        "iso27001": ("8.24",),
        "ens": ("mp.si.2", "mp.eq.*"),
        "cis": ("3.6",),
    },
)
