"""Windows patching on recorded-shape documents: classification by GUID (Spanish hosts), the
last real update (not Defender's), a disabled Windows Update service, paused updates; and the
check scripts that collect what those need."""

from __future__ import annotations

from typing import Any

import tree_sitter
import tree_sitter_powershell

from baluarte.controls import catalogue
from baluarte.findings import Outcome
from checks.policy.patching import SecurityUpdates
from checks.windows import parse
from checks.windows.script import PS_DIR
from tests.unit.windows._states import CTX, data, document, verdicts

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
SECURITY = "0fa1201d-4330-4fa8-8ae9-b877473b6441"
DEFINITIONS = "e0789628-ce08-4437-be74-2495b842f43b"
DEFENDER = "8c3fcc84-7410-4a95-8b89-a166a0190486"
UPDATES = "cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83"


def outcome(doc: dict[str, Any], control: str) -> Outcome:
    return verdicts(doc)[control]


# -- classification by GUID ----------------------------------------------------------------------


def spanish_security_update(doc: dict[str, Any]) -> None:
    """hardened's pending list plus one security update, as a Spanish host names it."""
    data(doc, "updates.pending")["Updates"].append(
        {
            "Title": "Actualización de seguridad para Microsoft Edge (KB5070099)",
            "UpdateID": "4b6d8f0a-2c4e-4f6a-8b0d-2e4f6a8b0d2f",
            "KB": ["KB5070099"],
            "MsrcSeverity": None,  # not every security update carries a severity
            "Categories": ["Actualizaciones de seguridad", "Microsoft Edge"],
            "CategoryIDs": [SECURITY, "c4c2e0a2-4b6d-4f8a-9c0e-2a4c6e8a0c2e"],
            "IsDownloaded": False,
            "RebootRequired": False,
            "ReleaseDate": "2026-11-27T18:00:00.0000000Z",
        }
    )


def test_a_security_update_named_in_spanish_is_found_by_its_classification_guid() -> None:
    doc = document("hardened")
    spanish_security_update(doc)
    out = outcome(doc, "patching.security_updates_pending")
    assert out.status == "fail"
    assert "1 pending security update" in out.observed and "KB5070099" in out.observed
    [update] = [u for u in parse.collected(doc).facts["patching"].pending if u.kb == ("KB5070099",)]
    # policies' origins keep their English names; products stay as the host named them
    assert update.origins == ("Security Updates", "Microsoft Edge")


def test_policy_origins_match_classifications_on_a_spanish_host() -> None:
    doc = document("hardened")
    spanish_security_update(doc)
    facts = parse.collected(doc).facts["patching"]
    evaluate = catalogue()["patching.security_updates_pending"].evaluate
    assert evaluate is not None
    by_origin = evaluate(facts, SecurityUpdates(max=0, origins=["Security Updates"]), CTX)
    assert by_origin.status == "fail" and "KB5070099" in by_origin.observed


def test_pending_updates_without_classification_guids_are_an_error_not_a_pass() -> None:
    doc = document("hardened")
    spanish_security_update(doc)
    for update in data(doc, "updates.pending")["Updates"]:
        del update["CategoryIDs"]  # a document of the old script: names only
    out = outcome(doc, "patching.security_updates_pending")
    assert out.status == "error" and "CategoryIDs" in out.reason


# -- the last real update ------------------------------------------------------------------------


def defender_newest(doc: dict[str, Any]) -> None:
    """Defender's own installs (definitions several a day, its platform, MSRT) come first."""
    data(doc, "updates.installed")["History"][:0] = [
        {
            "Title": "Security Intelligence Update for Microsoft Defender Antivirus - KB2267602 "
            "(Version 1.441.101.0) - Current Channel (Broad)",
            "UpdateID": "1d3f5b7d-9f1b-4d3f-a5b7-d9f1b3d5f7b9",
            "Date": "2026-11-28T11:02:00.0000000Z",
            "ResultCode": 2,
            "CategoryIDs": [DEFINITIONS, DEFENDER],
        },
        {
            "Title": "Actualización de la plataforma antimalware de Microsoft Defender Antivirus "
            "- KB4052623 (versión 4.18.25100.9)",
            "UpdateID": "6e8a0c2e-4f6a-4b8c-9e0a-2c4e6a8c0e24",
            "Date": "2026-11-27T09:00:00.0000000Z",
            "ResultCode": 2,
            "CategoryIDs": [UPDATES, DEFENDER],
        },
        {
            "Title": "Herramienta de eliminación de software malintencionado de Windows x64 - "
            "v5.142 (KB890830)",
            "UpdateID": "a3e5b7c9-0d24-4e61-8f7a-1b3c5d7e9f30",
            "Date": "2026-11-26T09:00:00.0000000Z",
            "ResultCode": 2,
            "CategoryIDs": ["28bc880e-0592-4cbf-8f95-c79b17911d5f"],
        },
    ]


def test_days_since_last_update_counts_the_last_real_update_not_defender_definitions() -> None:
    doc = document("office-pc")
    defender_newest(doc)
    out = outcome(doc, "patching.days_since_last_update")
    assert out.status == "fail"
    assert "40.0 days ago" in out.observed and "(KB5066835)" in out.observed


def test_with_only_defender_installs_on_record_the_last_update_does_not_pass() -> None:
    doc = document("office-pc")
    installed = data(doc, "updates.installed")
    installed["History"] = []
    installed["HotFixes"] = []
    defender_newest(doc)
    out = outcome(doc, "patching.days_since_last_update")
    assert out.status == "fail" and "no successful update installation" in out.observed


def test_an_unreadable_history_leaves_get_hotfix_and_never_passes_an_old_one() -> None:
    doc = document("office-pc")
    installed = data(doc, "updates.installed")
    installed.update(History=[], HistoryError="0x80070422 (the service is disabled)")
    out = outcome(doc, "patching.days_since_last_update")
    assert out.status == "error" and "0x80070422" in out.reason
    fresh = document("hardened")
    data(fresh, "updates.installed").update(History=[], HistoryError="0x80070422")
    assert outcome(fresh, "patching.days_since_last_update").status == "pass"


# -- automatic updates: a disabled service, paused updates ---------------------------------------


def test_a_disabled_windows_update_service_fails_automatic_updates_with_the_reason() -> None:
    doc = document("hardened")
    data(doc, "wu.policy").update(
        WuauservStartType="Disabled",
        DefaultAUService=None,
        ServiceManagerError="Exception from HRESULT: 0x80070422",
    )
    out = outcome(doc, "patching.automatic_updates")
    assert out.status == "fail"
    assert "the Windows Update service (wuauserv) is disabled" in out.observed
    assert "0x80070422" in out.observed


def test_updates_paused_in_settings_fail_automatic_updates() -> None:
    doc = document("hardened")  # host.Now 2026-11-28 12:00 UTC
    data(doc, "wu.policy").update(
        PauseUpdatesExpiryTime="2026-12-19T09:30:00Z",
        PauseQualityUpdatesStartTime="2026-11-21T09:30:00Z",
        PauseQualityUpdatesEndTime="2026-12-19T09:30:00Z",
    )
    out = outcome(doc, "patching.automatic_updates")
    assert out.status == "fail"
    assert "Windows Update is paused: updates paused in Settings until 2026-12-19 09:30 UTC" in (
        out.observed
    )


def test_a_pause_that_has_expired_or_only_holds_feature_updates_passes() -> None:
    doc = document("hardened")
    data(doc, "wu.policy").update(
        PauseUpdatesExpiryTime="2026-11-01T09:30:00Z",
        PauseQualityUpdatesEndTime="2026-11-01T09:30:00Z",
        PauseFeatureUpdatesEndTime="2026-12-30T00:00:00Z",
    )
    out = outcome(doc, "patching.automatic_updates")
    assert out.status == "pass"
    assert "feature updates paused in Settings until 2026-12-30 00:00 UTC" in out.observed


def test_a_quality_pause_by_policy_fails_for_35_days_from_its_start() -> None:
    doc = document("hardened")
    data(doc, "wu.policy").update(
        PolicyPauseQualityUpdates=1, PolicyPauseQualityUpdatesStartTime="2026-11-10"
    )
    out = outcome(doc, "patching.automatic_updates")
    assert out.status == "fail" and "paused by policy until 2026-12-15 00:00 UTC" in out.observed
    data(doc, "wu.policy").update(PolicyPauseQualityUpdatesStartTime="2026-10-01")
    assert outcome(doc, "patching.automatic_updates").status == "pass"


def test_a_pause_set_by_an_mdm_fails_like_a_group_policy_one() -> None:
    # Intune writes the Policy CSP's Update values under PolicyManager\current\device\Update
    assert "PolicyManager\\current\\device\\Update" in _script("wu.policy.ps1")
    assert "MdmPauseQualityUpdatesStartTime" in _script("wu.policy.ps1")
    doc = document("hardened")
    data(doc, "wu.policy").update(
        MdmPauseQualityUpdates=1, MdmPauseQualityUpdatesStartTime="2026-11-10"
    )
    out = outcome(doc, "patching.automatic_updates")
    assert out.status == "fail" and "paused by policy until 2026-12-15 00:00 UTC" in out.observed
    # set by both, said once
    data(doc, "wu.policy").update(
        PolicyPauseQualityUpdates=1, PolicyPauseQualityUpdatesStartTime="2026-11-10"
    )
    assert outcome(doc, "patching.automatic_updates").observed.count("paused by policy") == 1
    data(doc, "wu.policy").update(
        MdmPauseQualityUpdatesStartTime="2026-10-01", PolicyPauseQualityUpdatesStartTime=None,
        PolicyPauseQualityUpdates=None,
    )  # fmt: skip
    assert outcome(doc, "patching.automatic_updates").status == "pass"


def test_an_unreadable_pause_time_is_an_error_not_a_pass() -> None:
    doc = document("hardened")
    data(doc, "wu.policy").update(PauseUpdatesExpiryTime="19/12/2026 9:30:00")
    out = outcome(doc, "patching.automatic_updates")
    assert out.status == "error" and "PauseUpdatesExpiryTime" in out.reason


# -- the check scripts ---------------------------------------------------------------------------


def _script(name: str) -> str:
    return (PS_DIR / name).read_text(encoding="utf-8")


def _try_bodies(text: str) -> list[str]:
    found: list[str] = []
    stack = [PARSER.parse(text.encode()).root_node]
    while stack:
        node = stack.pop()
        if node.type == "try_statement" and node.text is not None:
            found.append(node.text.decode())
        stack.extend(node.children)
    return found


def test_wu_policy_reads_the_service_start_type_before_a_com_call_that_may_fail() -> None:
    text = _script("wu.policy.ps1")
    assert text.index("Get-Service -Name wuauserv") < text.index("Microsoft.Update.ServiceManager")
    assert any("Microsoft.Update.ServiceManager" in body for body in _try_bodies(text))
    for name in ("PauseUpdatesExpiryTime", "PauseQualityUpdatesEndTime", "PauseQualityUpdates"):
        assert f"-Name '{name}'" in text
    assert "[datetime]" not in text


def test_update_checks_collect_guids_and_ids_not_only_localised_names() -> None:
    # the search (started before the checks) collects; updates.pending classifies
    search, pending = _script("_updates_search.ps1"), _script("updates.pending.ps1")
    assert "Identity.UpdateID" in search and "CategoryID" in search
    for text in (search, pending):
        assert "'Security Updates'" not in text and "'Critical Updates'" not in text
    installed = _script("updates.installed.ps1")
    assert "CategoryIDs =" in installed and "LastSuccessfulInstall" not in installed
    assert any("QueryHistory" in body for body in _try_bodies(installed))


def test_a_hotfix_date_powershell_cannot_read_leaves_it_undated_not_the_check_failed() -> None:
    # Get-HotFix's InstalledOn parses WMI text whose format varies with the host
    text = _script("updates.installed.ps1")
    assert "InstalledOn = ConvertTo-IsoDate $_.InstalledOn" not in text
    assert any("$_.InstalledOn" in body for body in _try_bodies(text))
    # and an undated hotfix with no history entry is no evidence of a recent update
    doc = document("hardened")
    installed = data(doc, "updates.installed")
    for fix in installed["HotFixes"]:
        fix["InstalledOn"] = None
    installed.update(LatestHotFix=None, History=[])
    assert outcome(doc, "patching.days_since_last_update").status != "pass"
