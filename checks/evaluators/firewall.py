"""Firewall: the controls of the ``firewall`` domain (metadata; evaluators to come).

Host firewalls on Linux and Windows, the policy table on FortiGate. FortiGate-only controls
also cite ISO/IEC 27001:2022 8.21 (security of network services) and 8.23 (web filtering).
"""

from __future__ import annotations

from baluarte.controls import Domain
from baluarte.findings import Severity

DOMAIN = Domain(
    "firewall",
    gdpr=("32(1)(b)", "25"),
    iso27001=("8.20", "8.22"),
    ens=("mp.com.1", "mp.com.4", "op.exp.2"),
    nis2=("(e)",),
    cis=("4.4", "4.5", "13.4"),
)
_FORTIGATE_ISO: dict[str, tuple[str, ...]] = {"iso27001": ("8.21", "8.23")}

DOMAIN.declare(
    "enabled",
    title="Host firewall is active",
    rationale="A host firewall limits what an attacker on the same network can reach, even "
    "when a service is exposed by mistake.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Debian Linux 12 Benchmark, Host Based Firewall; CIS Microsoft Windows "
    "Benchmarks, Windows Defender Firewall (Domain, Private and Public profiles: state on)",
)
DOMAIN.declare(
    "default_inbound_deny",
    title="Inbound traffic is denied by default",
    rationale="With a default-deny inbound policy only what was deliberately opened is "
    "reachable; a new service stays closed until someone decides otherwise.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Debian Linux 12 Benchmark, Host Based Firewall (default deny policy); CIS "
    "Microsoft Windows Benchmarks, Windows Defender Firewall (inbound connections: block)",
)
DOMAIN.declare(
    "allowed_inbound",
    title="Only the allowed inbound services are open",
    rationale="Every open port is attack surface; the policy lists the services the device "
    "exists to offer and from where, and anything else is drift.",
    severity=Severity.HIGH,
    platforms=("linux", "windows", "fortigate"),
    benchmark="CIS Controls v8 4.4, 4.5 (Baluarte: open ports compared with the policy's list)",
)
DOMAIN.declare(
    "no_any_any_accept",
    title="No any-to-any accept policy",
    rationale="A policy accepting any source to any destination with any service turns the "
    "firewall into a router and defeats segmentation.",
    severity=Severity.CRITICAL,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 3.2 (no policy uses service ALL)",
    mappings=_FORTIGATE_ISO,
)
DOMAIN.declare(
    "security_profiles",
    title="Internet-bound accept policies carry security profiles",
    rationale="Antivirus, IPS and web filtering only protect traffic of the policies they are "
    "attached to; a policy without them lets malware and exploits through unseen.",
    severity=Severity.HIGH,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 4.1.2 (IPS), 4.2.2 (antivirus)",
    mappings=_FORTIGATE_ISO,
)
DOMAIN.declare(
    "policy_logging",
    title="Every firewall policy logs its traffic",
    rationale="Without traffic logs an incident cannot be reconstructed or its reach "
    "assessed, which a breach notification needs.",
    severity=Severity.MEDIUM,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 3.4 (logging on all policies)",
    mappings=_FORTIGATE_ISO,
)
DOMAIN.declare(
    "security_services_current",
    title="FortiGuard services licensed and definitions current",
    rationale="An expired licence or stale antivirus/IPS definitions silently leave the "
    "security profiles blind to recent threats.",
    severity=Severity.HIGH,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 4.2.1 (antivirus definition updates)",
    mappings=_FORTIGATE_ISO,
)
