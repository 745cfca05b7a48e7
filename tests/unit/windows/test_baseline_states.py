"""The Windows baseline against the shipped lab states: hardened passes all, office-pc fails."""

from __future__ import annotations

import pytest

from baluarte.controls import catalogue
from baluarte.findings import Status
from checks.windows.parse import collected
from tests.unit.windows._states import baseline, document, verdicts

WINDOWS_CONTROLS = sorted(c.id for c in catalogue().values() if "windows" in c.platforms)


def test_the_baseline_sets_every_windows_control_and_only_those():
    planned = {f"{d}.{n}" for d, s in baseline().sections().items() for n in s.controls()}
    assert sorted(planned) == WINDOWS_CONTROLS and len(planned) == 22
    assert baseline().applies_to.platform == ("windows",)


def test_hardened_pc_passes_every_control():
    out = verdicts(document("hardened"))
    assert {c: o.status for c, o in out.items() if o.status != Status.PASS} == {}
    assert sorted(out) == WINDOWS_CONTROLS


def test_identity_names_the_host_and_its_build():
    result = collected(document("office-pc"), round_trips=1, seconds=2.5)
    assert result.identity.hostname == "PC-RECEPCION"
    assert result.identity.os == "Microsoft Windows 11 Pro 24H2"
    assert (result.identity.os_id, result.identity.os_version) == ("windows", "10.0.26100.4349")
    assert (result.round_trips, result.seconds, result.problems) == (1, 2.5, {})


# control -> texts its observed value must hold on the office PC
OFFICE_PC = {
    "patching.security_updates_pending": [
        "2 pending security updates",
        "(KB5070001) [Critical]",
        "(KB5070012) [Important]",
    ],
    "patching.updates_pending": ["6 pending updates", "Intel Corporation - Display"],
    "patching.days_since_last_update": ["2026-10-19 12:00 UTC (40.0 days ago", "(KB5066835)"],
    "patching.automatic_updates": ["AUOptions 2: notify before download"],
    "patching.reboot_required": [
        "reboot pending since 2026-11-18 (10.1 days)",
        "Component Based Servicing RebootPending; PendingFileRenameOperations",
    ],
    "patching.minimum_versions": ["build 10.0.26100.4349 is below 10.0.26100.6899"],
    "firewall.enabled": ["off for the Public profile"],
    "firewall.default_inbound_deny": ["default inbound Allow in the Private profile"],
    "firewall.allowed_inbound": [
        "5 inbound rules beyond the policy",
        "all ports from any source (Windows Firewall profile Public: off)",
        "(Windows Firewall profile Private: inbound Allow by default)",
        "tcp/3389 from any source (Windows Firewall rule RemoteDesktop-UserMode-In-TCP, profiles Any",
        "tcp/445 from any source",
        "tcp/5985 from 192.168.1.0/24, fe80::/64",
    ],
    "endpoint.realtime_protection": [
        "Microsoft Defender Antivirus: RealTimeProtectionEnabled False"
    ],
    "endpoint.signatures_current": ["signatures 1.439.210.0 of 2026-11-19 08:02 UTC, 9.2 days old"],
    "endpoint.tamper_protection": ["IsTamperProtected False"],
    "endpoint.disk_encryption": [
        "C: BitLocker FullyDecrypted, protection Off",
        "key protectors: none",
    ],
    "backup.last_success_age": [
        "session Success finished 2026-11-16 21:28 UTC (1 failed session since): 278.5 hours ago"
    ],
    "backup.encrypted": ["Backup Job PC-RECEPCION: backup encryption off"],
    "access.admin_accounts": ["unexpected privileged accounts: PC-RECEPCION\\soporte"],
    "access.password_policy": [
        "minimum length 0 < 14",
        "0 character classes required < 3 (PasswordComplexity 0)",
        "no account lockout after failed logins (LockoutBadCount 0)",
    ],
    "access.insecure_admin_protocols": [
        "smbv1: SMB1 server protocol enabled",
        "smbv1: SMB1Protocol feature Enabled",
        "rdp_without_nla: RDP enabled on port 3389 without Network Level Authentication",
    ],
    "logging.time_sync": ["not synchronised: source Local CMOS Clock"],
}
# Defender ships with Windows and its engine runs; the job exists: these pass on the office PC
OFFICE_PC_PASSING = ["backup.configured", "endpoint.installed", "endpoint.running"]


@pytest.fixture(scope="module")
def office_pc():
    return verdicts(document("office-pc"))


def test_office_pc_fails_every_control_it_is_weak_on(office_pc):
    statuses = {c: o.status for c, o in office_pc.items()}
    assert sorted(c for c, s in statuses.items() if s == Status.PASS) == OFFICE_PC_PASSING
    assert sorted(c for c, s in statuses.items() if s == Status.FAIL) == sorted(OFFICE_PC)


@pytest.mark.parametrize("control", sorted(OFFICE_PC))
def test_office_pc_failure_says_precisely_what_is_wrong(office_pc, control):
    observed = office_pc[control].observed or ""
    for text in OFFICE_PC[control]:
        assert text in observed, (control, observed)
    assert office_pc[control].expected
