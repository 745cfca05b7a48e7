"""Endpoint controls on a Windows PC protected by Sophos with Defender passive or unreadable:
judged on the product that protects it, Defender's failures marking only Defender's fields."""

from __future__ import annotations

from typing import Any

from baluarte.findings import Status
from tests.unit.windows._states import data, document, not_passing, verdicts

ENDPOINT = (
    "endpoint.installed",
    "endpoint.running",
    "endpoint.realtime_protection",
    "endpoint.signatures_current",
    "endpoint.tamper_protection",
)
NEVER = 4294967295  # a uint32 age Get-MpComputerStatus gives for "never"
SOPHOS_SERVICES = ("Sophos Endpoint Defense Service", "Sophos File Scanner Service")
# Defender as Get-MpComputerStatus shows it with Sophos primary; Get-MpPreference threw
DEFENDER_NOT_RUNNING: dict[str, Any] = {
    "ServiceStatus": "Stopped",
    "StatusError": None,
    "PreferenceError": "Operation failed with the following error: 0x800106ba",
    "AMRunningMode": "Not running",
    "AMServiceEnabled": False,
    "AntivirusEnabled": False,
    "RealTimeProtectionEnabled": False,
    "IsTamperProtected": False,
    "AntivirusSignatureAge": 58,
    "AntivirusSignatureLastUpdated": "2026-10-01T06:10:31.0000000Z",
    "QuickScanAge": NEVER,
    "DisableRealtimeMonitoringPref": None,
    "ExclusionPathCount": None,
    "ExclusionProcessCount": None,
    "ExclusionExtensionCount": None,
}
# Get-MpComputerStatus itself threw: every status field $null
DEFENDER_UNREADABLE: dict[str, Any] = {
    **{k: None for k in DEFENDER_NOT_RUNNING},
    "ServiceStatus": "Stopped",
    "StatusError": "Operation failed with the following error: 0x800106ba",
    "PreferenceError": "Operation failed with the following error: 0x800106ba",
    "AntivirusSignatureVersion": None,
    "AMProductVersion": None,
    "BehaviorMonitorEnabled": None,
    "IoavProtectionEnabled": None,
    "DefenderSignaturesOutOfDate": None,
}


def _sophos(d: dict[str, Any]) -> None:
    data(d, "sophos.presence").update(
        Installed=True,
        Services=[
            {"Name": n, "Status": "Running", "StartType": "Automatic"} for n in SOPHOS_SERVICES
        ],
        Products=[{"DisplayName": "Sophos Endpoint Agent", "DisplayVersion": "2024.3"}],
        HealthOverall=1,
        HealthServices=1,
        HealthThreat=1,
        TamperProtectionEnabled=1,
        LastUpdateSuccess="2026-11-28T09:40:00.0000000Z",
        VirusDataVersion="2026112803",
    )


def _doc(defender: dict[str, Any], sophos: bool = True) -> dict[str, Any]:
    doc = document("hardened")
    data(doc, "defender.status").update(defender)
    if sophos:
        _sophos(doc)
    return doc


def test_sophos_primary_with_defender_not_running_is_judged_on_sophos():
    out = verdicts(_doc(DEFENDER_NOT_RUNNING))
    assert not_passing(out) == {}
    signatures = out["endpoint.signatures_current"].observed or ""
    assert "last successful Sophos update 2026-11-28 09:40 UTC (threat data 2026112803)" in (
        signatures
    )
    # the passive Defender's 58-day-old signatures and its tamper setting are not judged
    assert "Microsoft Defender" not in signatures
    assert "Microsoft Defender" not in (out["endpoint.tamper_protection"].observed or "")


def test_sophos_with_stale_updates_fails_signatures_on_sophos():
    doc = _doc(DEFENDER_NOT_RUNNING)
    data(doc, "sophos.presence")["LastUpdateSuccess"] = "2026-11-20T09:40:00.0000000Z"
    out = verdicts(doc)["endpoint.signatures_current"]
    assert out.status == Status.FAIL
    assert "Sophos Endpoint: last successful Sophos update 2026-11-20" in (out.observed or "")


def test_defender_status_unreadable_leaves_sophos_to_decide():
    out = verdicts(_doc(DEFENDER_UNREADABLE))
    assert not_passing(out) == {}


def test_defender_status_unreadable_alone_fails_running_and_errors_what_is_unknown():
    out = verdicts(_doc(DEFENDER_UNREADABLE, sophos=False))
    assert out["endpoint.installed"].status == Status.PASS
    assert out["endpoint.running"].status == Status.FAIL
    assert "Get-MpComputerStatus failed: Operation failed with the following error: 0x800106ba" in (
        out["endpoint.running"].observed or ""
    )
    assert "WinDefend service Stopped" in (out["endpoint.running"].observed or "")
    assert out["endpoint.realtime_protection"].status == Status.FAIL
    assert out["endpoint.signatures_current"].status == Status.ERROR
    assert out["endpoint.tamper_protection"].status == Status.ERROR


def test_defender_status_unreadable_with_its_service_running_is_an_error():
    defender = {**DEFENDER_UNREADABLE, "ServiceStatus": "Running"}
    out = verdicts(_doc(defender, sophos=False))
    assert {c: out[c].status for c in ENDPOINT if c != "endpoint.installed"} == {
        c: Status.ERROR for c in ENDPOINT if c != "endpoint.installed"
    }


def test_never_scanned_and_never_updated_ages_read_as_never():
    defender = {
        "QuickScanAge": NEVER,
        "AntivirusSignatureAge": NEVER,
        "AntivirusSignatureLastUpdated": None,
    }
    out = verdicts(_doc(defender, sophos=False))
    assert "last quick scan never" in (out["endpoint.running"].observed or "")
    signatures = out["endpoint.signatures_current"]
    assert signatures.status == Status.FAIL
    assert "signatures never updated" in (signatures.observed or "")


def test_a_failed_preference_read_alone_changes_no_verdict():
    doc = document("hardened")
    data(doc, "defender.status").update(
        PreferenceError="0x800106ba", DisableRealtimeMonitoringPref=None, ExclusionPathCount=None
    )
    assert not_passing(verdicts(doc)) == {}
