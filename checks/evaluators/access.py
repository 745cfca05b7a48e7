"""Access hardening: the controls of the ``access`` domain (metadata; evaluators to come)."""

from __future__ import annotations

from baluarte.controls import Domain
from baluarte.findings import Severity

DOMAIN = Domain(
    "access",
    gdpr=("32(1)(b)", "25(2)"),
    iso27001=("8.2", "8.5", "5.15", "5.16", "5.17", "5.18"),
    ens=("op.acc.1", "op.acc.2", "op.acc.3", "op.acc.4", "op.acc.5", "op.acc.6", "op.exp.2"),
    nis2=("(i)", "(j)"),
    cis=("4.7", "5.4", "6.5"),
)

DOMAIN.declare(
    "ssh_password_authentication",
    title="SSH password authentication is off",
    rationale="Keys cannot be guessed; passwords on an SSH port are brute-forced around the clock.",
    severity=Severity.HIGH,
    platforms=("linux",),
    benchmark="Baluarte default (not a CIS Debian Linux 12 Benchmark recommendation); CIS "
    "Controls v8 6.5",
)
DOMAIN.declare(
    "ssh_root_login",
    title="SSH root login is restricted",
    rationale="Logging in as root directly leaves no record of who did what and gives a "
    "guessed credential full control.",
    severity=Severity.HIGH,
    platforms=("linux",),
    benchmark="CIS Debian Linux 12 Benchmark, Configure SSH Server (sshd PermitRootLogin is "
    "disabled)",
)
DOMAIN.declare(
    "admin_accounts",
    title="Privileged accounts are exactly the allowed ones",
    rationale="Forgotten or unexpected administrator accounts are how access outlives the "
    "people and contracts that justified it.",
    severity=Severity.HIGH,
    platforms=("linux", "windows", "fortigate"),
    benchmark="CIS Controls v8 5.4; CIS FortiGate 7.0.x Benchmark v1.3.0 2.4.3 (admin profiles)",
)
DOMAIN.declare(
    "password_policy",
    title="Password length, complexity and lockout meet the policy",
    rationale="Short passwords and unlimited attempts make guessing practical.",
    severity=Severity.MEDIUM,
    platforms=("linux", "windows", "fortigate"),
    benchmark="CIS Microsoft Windows Benchmarks 1.1 (Password Policy), 1.2 (Account Lockout "
    "Policy); CIS FortiGate 7.0.x Benchmark v1.3.0 2.2.1, 2.2.2; CIS Debian Linux 12 "
    "Benchmark, PAM (pwquality, faillock)",
)
DOMAIN.declare(
    "admin_mfa",
    title="FortiGate administrators use two-factor authentication",
    rationale="A stolen administrator password alone must not open the firewall.",
    severity=Severity.HIGH,
    platforms=("fortigate",),
    benchmark="CIS Controls v8 6.5 (no CIS FortiGate Benchmark recommendation)",
)
DOMAIN.declare(
    "admin_trusted_hosts",
    title="FortiGate administrators are restricted to trusted hosts",
    rationale="Trusted hosts keep the management interface closed to everyone outside the "
    "administrators' networks, even with valid credentials.",
    severity=Severity.HIGH,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 2.4.2",
)
DOMAIN.declare(
    "insecure_admin_protocols",
    title="No insecure management protocols",
    rationale="Telnet, HTTP, FTP and rsh send credentials in clear; SMBv1 and RDP without NLA "
    "are well-known attack paths; management on internet-facing interfaces invites attacks.",
    severity=Severity.HIGH,
    platforms=("linux", "windows", "fortigate"),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 1.3, 2.4.5; CIS Microsoft Windows "
    "Benchmarks (SMB v1 disabled, RDP requires Network Level Authentication)",
)
DOMAIN.declare(
    "admin_session_timeout",
    title="Idle administrator sessions time out",
    rationale="An unattended, logged-in management session is an open door.",
    severity=Severity.MEDIUM,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 2.4.4",
)
DOMAIN.declare(
    "strong_crypto",
    title="Administrative access uses strong cryptography",
    rationale="Weak ciphers and old TLS versions let an attacker on the path read or take "
    "over management sessions.",
    severity=Severity.MEDIUM,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 2.1.9, 2.1.10, 2.4.5",
)
