"""One change to the hardened PC at a time, failed checks, missing fields and non-contract output."""

from __future__ import annotations

import json

import pytest

from baluarte.errors import BadAnswer
from baluarte.findings import Status
from checks.windows.document import CHECKS
from checks.windows.parse import collected, validate
from tests.unit.windows._states import data, document, not_passing, verdicts

# check -> the controls that read it (and only those)
READERS = {
    "os.build": ["patching.minimum_versions"],
    "updates.installed": ["patching.days_since_last_update"],
    "updates.pending": ["patching.security_updates_pending", "patching.updates_pending"],
    "reboot.pending": ["patching.reboot_required"],
    "wu.policy": ["patching.automatic_updates"],
    "defender.status": [
        "endpoint.installed",
        "endpoint.realtime_protection",
        "endpoint.running",
        "endpoint.signatures_current",
        "endpoint.tamper_protection",
    ],
    # a profile that is off or allows inbound by default opens every port: allowed_inbound reads it
    "firewall.profiles": [
        "firewall.allowed_inbound",
        "firewall.default_inbound_deny",
        "firewall.enabled",
    ],
    "firewall.rules": ["firewall.allowed_inbound"],
    "bitlocker.volumes": ["endpoint.disk_encryption"],
    "veeam.agent": ["backup.configured", "backup.encrypted", "backup.last_success_age"],
    "localadmins": ["access.admin_accounts"],
    "password.policy": ["access.password_policy"],
    "smb1": ["access.insecure_admin_protocols"],
    "rdp.nla": ["access.insecure_admin_protocols"],
    "time.sync": ["logging.time_sync"],
}
READERS["sophos.presence"] = READERS["defender.status"]


def test_every_check_has_its_readers_listed():
    assert sorted(READERS) == sorted(CHECKS)


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_a_failed_check_turns_only_its_controls_to_error(check_id):
    doc = document("hardened")
    doc["checks"][check_id] = {"ok": False, "error": "Access is denied.", "errorId": "E,Cmd"}
    out = verdicts(doc)
    assert not_passing(out) == {c: "error" for c in READERS[check_id]}
    for control in READERS[check_id]:
        assert f"check {check_id} failed on the host: Access is denied." in (
            out[control].reason or ""
        )


@pytest.mark.parametrize(
    ("check_id", "field", "control"),
    [
        ("updates.pending", "ResultCode", "patching.updates_pending"),
        ("wu.policy", "AUOptions", "patching.automatic_updates"),
        ("defender.status", "IsTamperProtected", "endpoint.tamper_protection"),
        ("password.policy", "LockoutBadCount", "access.password_policy"),
        ("time.sync", "Source", "logging.time_sync"),
    ],
)
def test_a_missing_field_is_an_error_naming_check_and_field(check_id, field, control):
    doc = document("hardened")
    del data(doc, check_id)[field]
    out = verdicts(doc)[control]
    assert out.status == Status.ERROR
    assert f"{check_id}: field '{field}' missing" in (out.reason or "")


def test_a_missing_field_in_a_list_names_the_row():
    doc = document("hardened")
    del data(doc, "firewall.profiles")[2]["Enabled"]
    out = verdicts(doc)["firewall.enabled"]
    assert out.status == Status.ERROR
    assert "firewall.profiles[2]: field 'Enabled' missing" in (out.reason or "")


def change(edit):
    doc = document("hardened")
    edit(doc)
    return verdicts(doc)


def test_one_change_fails_one_control_precisely():
    cases = {
        "patching.automatic_updates": (
            lambda d: data(d, "wu.policy").update(NoAutoUpdate=1),
            "NoAutoUpdate 1: automatic updates turned off by policy",
        ),
        "firewall.enabled": (
            lambda d: data(d, "firewall.profiles")[0].update(Enabled="False"),
            "off for the Domain profile",
        ),
        "endpoint.disk_encryption": (
            lambda d: data(d, "bitlocker.volumes")["Volumes"][0].update(ProtectionStatus="Off"),
            "C: BitLocker FullyEncrypted, protection Off",
        ),
        "access.insecure_admin_protocols": (
            lambda d: data(d, "rdp.nla").update(RdpEnabled=True, NlaRequiredEffective=False),
            "RDP enabled on port 3389 without Network Level Authentication",
        ),
        "logging.time_sync": (
            lambda d: data(d, "time.sync").update(
                LastSuccessfulSyncTime="2026-11-18T12:00:00.0000000Z"
            ),
            "last successful sync 240.0 h ago > 192 h",
        ),
    }
    for control, (edit, text) in cases.items():
        out = change(edit)
        also = {"firewall.allowed_inbound": "fail"} if control == "firewall.enabled" else {}
        assert not_passing(out) == {control: "fail"} | also, control
        assert text in (out[control].observed or ""), (control, out[control].observed)


def test_a_profile_off_or_allowing_inbound_opens_every_port_to_allowed_inbound():
    for edit, said in (
        (
            lambda d: data(d, "firewall.profiles")[0].update(Enabled="False"),
            "Windows Firewall profile Domain: off",
        ),
        (
            lambda d: data(d, "firewall.profiles")[2].update(DefaultInboundAction="Allow"),
            "Windows Firewall profile Public: inbound Allow by default",
        ),
    ):
        out = change(edit)["firewall.allowed_inbound"]
        assert out.status == "fail"
        assert "all ports open: all ports from any source" in (out.observed or "")
        assert said in (out.observed or "")


def test_wsus_managed_updates_pass_and_notify_only_fails():
    def wsus(d):
        data(d, "wu.policy").update(
            UseWUServer=1,
            WUServer="https://wsus01:8531",
            AUOptions=None,
            TargetReleaseVersionInfo=None,
        )
        data(d, "wu.policy").update(DeferQualityUpdatesPeriodInDays=None)

    out = change(wsus)["patching.automatic_updates"]
    assert out.status == Status.PASS and "WSUS https://wsus01:8531" in (out.observed or "")
    none = change(
        lambda d: data(d, "wu.policy").update(
            AUOptions=None, DeferQualityUpdatesPeriodInDays=None, TargetReleaseVersionInfo=None
        )
    )["patching.automatic_updates"]
    assert none.status == Status.FAIL and "no Windows Update policy" in (none.observed or "")


def test_a_local_admin_is_allowed_by_its_bare_name_in_any_case_but_a_domain_one_is_not():
    def admins(d):
        data(d, "localadmins")["Members"] = [
            {
                "Name": "PC-GERENCIA\\ADMINISTRATOR",
                "SID": "S-1-5-21-1-500",
                "ObjectClass": "User",
                "PrincipalSource": "Local",
            },
            {
                "Name": "CONTOSO\\admin-msp",
                "SID": "S-1-5-21-2-1105",
                "ObjectClass": "User",
                "PrincipalSource": "ActiveDirectory",
            },
        ]

    out = change(admins)["access.admin_accounts"]
    assert out.status == Status.FAIL
    assert out.observed.startswith("unexpected privileged accounts: CONTOSO\\admin-msp")
    assert "ADMINISTRATOR" not in out.observed


def test_defender_passive_with_sophos_active_passes_any_product():
    def sophos(d):
        data(d, "defender.status").update(AMRunningMode="Passive Mode", IsTamperProtected=False)
        names = ("Sophos Endpoint Defense Service", "Sophos File Scanner Service")
        data(d, "sophos.presence").update(
            Installed=True,
            Services=[{"Name": n, "Status": "Running", "StartType": "Automatic"} for n in names],
            Products=[{"DisplayName": "Sophos Endpoint Agent", "DisplayVersion": "2024.3"}],
            HealthOverall=1,
            HealthServices=1,
            HealthThreat=1,
            TamperProtectionEnabled=1,
            LastUpdateSuccess="2026-11-28T09:00:00.0000000Z",
            VirusDataVersion="2026112803",
        )

    out = change(sophos)
    assert not_passing(out) == {}
    assert (
        "Sophos Endpoint: Sophos Endpoint Defense SEDEnabled 1"
        in out["endpoint.tamper_protection"].observed
    )


def test_sophos_alone_never_passes_what_it_cannot_show():
    def only_sophos(d):
        d["checks"]["defender.status"]["data"] = {"Present": False}
        data(d, "sophos.presence").update(
            Installed=True,
            Services=[
                {
                    "Name": "Sophos Endpoint Defense Service",
                    "Status": "Running",
                    "StartType": "Automatic",
                }
            ],
            Products=[],
            HealthServices=None,
        )

    out = change(only_sophos)
    assert out["endpoint.signatures_current"].status == Status.ERROR
    assert (
        "the last Sophos update is not recorded in the registry"
        in out["endpoint.signatures_current"].reason
    )
    assert out["endpoint.tamper_protection"].status == Status.ERROR
    assert "not readable" in out["endpoint.tamper_protection"].reason
    assert out["endpoint.realtime_protection"].status == Status.ERROR
    assert out["endpoint.running"].status == Status.FAIL  # File Scanner not installed


def test_veeam_without_readable_settings_is_an_encryption_error_not_a_pass():
    def unreadable(d):
        data(d, "veeam.agent").update(Jobs=None, JobsError="Veeam.Agent.Configurator.exe not found")

    out = change(unreadable)
    assert out["backup.configured"].status == Status.PASS
    assert out["backup.encrypted"].status == Status.ERROR
    assert "could not be read" in out["backup.encrypted"].reason


def test_no_veeam_agent_fails_the_backup_controls():
    out = change(lambda d: data(d, "veeam.agent").update(Installed=False))
    assert out["backup.configured"].status == Status.FAIL
    assert "no Veeam Agent for Microsoft Windows installed" in out["backup.configured"].observed


def test_minimum_build_not_applicable_without_os_build_and_short_form_accepted():
    from baluarte.controls import catalogue
    from checks.policy.patching import MinimumVersions
    from tests.unit.windows._states import CTX

    facts = collected(document("hardened")).facts["patching"]
    evaluate = catalogue()["patching.minimum_versions"].evaluate
    assert evaluate(facts, MinimumVersions(), CTX).status == Status.NOT_APPLICABLE
    assert evaluate(facts, MinimumVersions(os_build="26100.7172"), CTX).status == Status.FAIL
    assert evaluate(facts, MinimumVersions(os_build="26100.7171"), CTX).status == Status.PASS
    assert evaluate(facts, MinimumVersions(os_build="24H2"), CTX).status == Status.ERROR


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Get-MpComputerStatus : not recognized", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"schema": "baluarte-windows/0", "host": {}, "checks": {}}', "schema"),
        ('{"schema": "baluarte-windows/1", "checks": {}}', "host.ComputerName"),
    ],
)
def test_output_that_is_not_the_contract_is_a_bad_answer(text, why):
    with pytest.raises(BadAnswer, match=why):
        validate(text)


def test_a_missing_or_malformed_check_is_a_bad_answer():
    doc = document("hardened")
    del doc["checks"]["smb1"]
    with pytest.raises(BadAnswer, match="lacks the checks smb1"):
        validate(json.dumps(doc))
    doc = document("hardened")
    doc["checks"]["rdp.nla"] = {"ok": True}
    with pytest.raises(BadAnswer, match=r"check rdp\.nla is ok but has no data"):
        validate(json.dumps(doc))


def test_rdp_values_the_registry_does_not_hold_read_unset_not_none():
    # no UserAuthentication value and no Group Policy: words a reader knows, never "None"
    out = change(
        lambda d: data(d, "rdp.nla").update(
            RdpEnabled=True,
            NlaRequiredEffective=False,
            UserAuthentication=None,
            PolicyUserAuthentication=None,
        )
    )
    observed = out["access.insecure_admin_protocols"].observed or ""
    assert "(UserAuthentication unset, policy unset)" in observed and "None" not in observed
