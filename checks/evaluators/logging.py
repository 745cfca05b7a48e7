"""Logging: the controls of the ``logging`` domain (metadata; evaluators to come)."""

from __future__ import annotations

from baluarte.controls import Domain
from baluarte.findings import Severity

DOMAIN = Domain(
    "logging",
    gdpr=("5(2)", "33(5)", "32(1)(d)"),
    iso27001=("8.15", "8.17"),
    ens=("op.exp.8",),
    nis2=("(b)",),
    cis=("8.2", "8.4", "8.9"),
)

DOMAIN.declare(
    "remote_forwarding",
    title="Logs are forwarded to a remote collector",
    rationale="Logs kept only on the device are lost with it and can be erased by whoever "
    "compromised it; a breach must be documented (GDPR 33(5)).",
    severity=Severity.MEDIUM,
    platforms=("linux", "fortigate"),
    benchmark="CIS Debian Linux 12 Benchmark, System Logging (send logs to a remote host); "
    "CIS FortiGate 7.0.x Benchmark v1.3.0 7.3.1 (centralised logging)",
)
DOMAIN.declare(
    "time_sync",
    title="The clock is synchronised with NTP",
    rationale="Without a common, correct time, events on different devices cannot be put in "
    "order and evidence timestamps are worthless.",
    severity=Severity.MEDIUM,
    platforms=("linux", "windows", "fortigate"),
    benchmark="CIS Debian Linux 12 Benchmark, Configure Time Synchronization; CIS FortiGate "
    "7.0.x Benchmark v1.3.0 2.1.4",
)
