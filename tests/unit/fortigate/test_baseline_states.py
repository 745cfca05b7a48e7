"""The shipped baseline against the shipped lab states: hardened passes all, small-office fails all."""

from __future__ import annotations

import pytest

from baluarte.findings import Status
from checks.fortigate.endpoints import CONTROL_ENDPOINTS
from checks.fortigate.parse import collected
from tests.unit.fortigate._states import BACKUP, baseline, snapshot, state, verdicts

FORTIGATE_CONTROLS = sorted(CONTROL_ENDPOINTS)


def test_the_baseline_sets_every_fortigate_control_and_only_those():
    planned = {
        f"{domain}.{name}"
        for domain, section in baseline().sections().items()
        for name in section.controls()
    }
    assert sorted(planned) == FORTIGATE_CONTROLS
    assert baseline().applies_to.platform == ("fortigate",)


def test_hardened_unit_passes_every_control():
    out = verdicts(snapshot(state("hardened")))
    assert {c: o.status for c, o in out.items() if o.status != Status.PASS} == {}
    assert sorted(out) == FORTIGATE_CONTROLS


def test_hardened_identity_names_the_unit_and_its_firmware():
    result = collected(snapshot(state("hardened")), round_trips=17, seconds=0.4)
    assert result.identity.hostname == "FGT-ACME-HQ"
    assert result.identity.os == "FortiOS v7.4.5 build 2702"
    assert (result.identity.os_id, result.identity.os_version) == ("fortios", "7.4.5")
    assert (result.round_trips, result.seconds) == (17, 0.4)
    assert result.problems == {}


# control -> texts its observed value must hold on the small office's unit
SMALL_OFFICE = {
    "patching.minimum_versions": ["FortiOS v7.2.8 build 1639", "below 7.4.5"],
    "patching.automatic_updates": ["system.autoupdate/schedule): status disable"],
    "firewall.allowed_inbound": [
        "tcp/3389 not in the policy",
        "from any source on wan1",
        'policy 2 "RDP-remoto"',
        "VIP RDP-PC-contabilidad 203.0.113.10:3389/tcp → 192.168.1.20:3389",
    ],
    "firewall.no_any_any_accept": [
        'policy 1 "LAN-WAN" (internal → wan1) accepts srcaddr all → dstaddr all, service ALL'
    ],
    "firewall.security_profiles": [
        'policy 1 "LAN-WAN" (internal → wan1) has no antivirus, IPS, web filter profile',
        'policy 3 "Impresora-nube"',
        "utm-status disable",
    ],
    "firewall.policy_logging": [
        'policy 1 "LAN-WAN" (internal → wan1) has logtraffic utm',
        'policy 3 "Impresora-nube" (internal → wan1) has logtraffic disable',
        "the implicit deny is not logged",
    ],
    "firewall.security_services_current": [
        "antivirus definitions 92.08917 of 2026-11-21 are 7.1 days old (> 2)",
        "ips licence expired",
    ],
    "access.admin_accounts": ["unexpected privileged accounts: soporte (accprofile super_admin)"],
    "access.password_policy": [
        "no minimum password length enforced",
        "lockout after 5 failures > 3",
        "lockout lasts 30 s < 1 min",
        "passwords never expire",
    ],
    "access.admin_mfa": ["soporte (admin, accprofile super_admin) has two-factor disable"],
    "access.admin_trusted_hosts": ["soporte (admin, accprofile super_admin): no trusted hosts"],
    "access.insecure_admin_protocols": [
        "allowaccess http on internal (role lan)",
        "allowaccess telnet on internal (role lan)",
        "admin-telnet enable (system/global)",
        "allowaccess https on wan1 (role wan)",
        "allowaccess ssh on wan1 (role wan)",
    ],
    "access.admin_session_timeout": ["admintimeout 480 min"],
    "access.strong_crypto": [
        "strong-crypto disable",
        "admin-https-redirect disable",
        "TLS 1.1 allowed for admin HTTPS",
    ],
    "logging.remote_forwarding": [
        "no remote forwarding configured",
        "syslogd (status disable), fortianalyzer (status disable)",
    ],
    "logging.time_sync": ["not synchronised: system/ntp ntpsync disable"],
}


@pytest.fixture(scope="module")
def small_office():
    return verdicts(snapshot(state("small-office")))


def test_small_office_fails_every_control_but_the_backup_baluarte_takes(small_office):
    statuses = {c: o.status for c, o in small_office.items()}
    assert statuses.pop("backup.config_saved") == Status.PASS
    assert set(statuses.values()) == {Status.FAIL}, statuses


@pytest.mark.parametrize("control", sorted(SMALL_OFFICE))
def test_small_office_failure_says_precisely_what_is_wrong(small_office, control):
    observed = small_office[control].observed or ""
    for text in SMALL_OFFICE[control]:
        assert text in observed, (control, observed)
    assert small_office[control].expected


def test_config_backup_finding_carries_its_hash_never_the_text():
    out = verdicts(snapshot(state("small-office")))["backup.config_saved"]
    assert BACKUP.sha256 in (out.observed or "")
    assert BACKUP.path in (out.observed or "")
    assert str(BACKUP.size) in (out.observed or "")
    assert BACKUP.header in (out.evidence or "")
    assert "config system" not in (out.observed or "") + (out.evidence or "")
