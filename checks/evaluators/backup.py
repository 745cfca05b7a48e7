"""Backup: the controls of the ``backup`` domain (metadata; evaluators to come)."""

from __future__ import annotations

from baluarte.controls import Domain
from baluarte.findings import Severity

DOMAIN = Domain(
    "backup",
    gdpr=("32(1)(c)", "32(1)(d)"),
    iso27001=("8.13", "5.30"),
    ens=("mp.info.6",),
    nis2=("(c)",),
    cis=("11.1", "11.2", "11.3", "11.4", "11.5"),
)

DOMAIN.declare(
    "configured",
    title="A backup job covers the required data",
    rationale="Data that no job covers cannot be restored after ransomware, a failed disk or "
    "a mistaken deletion.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 11.2",
)
DOMAIN.declare(
    "last_success_age",
    title="The last successful backup is recent",
    rationale="A configured job that has been failing for days gives a false sense of safety; "
    "what counts is the age of the last good copy.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 11.2",
)
DOMAIN.declare(
    "encrypted",
    title="Backups are encrypted",
    rationale="A backup holds every personal record of the client; unencrypted, its loss or "
    "theft is a breach.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Controls v8 11.3",
)
DOMAIN.declare(
    "restore_tested",
    title="A restore was tested recently",
    rationale="GDPR 32(1)(d) asks for regular testing; only a restore proves a backup is usable.",
    severity=Severity.MEDIUM,
    platforms=("linux",),
    benchmark="CIS Controls v8 11.5 (test data recovery quarterly)",
)
DOMAIN.declare(
    "config_saved",
    title="The unit's configuration is backed up",
    rationale="A firewall replaced after a failure must come back with its rules; a recent "
    "configuration backup makes that minutes instead of days.",
    severity=Severity.MEDIUM,
    platforms=("fortigate",),
    benchmark="CIS Controls v8 11.1, 11.2",
)
