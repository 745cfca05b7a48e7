"""OSCAL assessment results: valid for compliance-trestle, one result per run, evidence hashed,
a risk per failure, deviation-approved for waivers."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
from trestle.oscal.assessment_results import Model

from baluarte.findings import Status
from reports.evidence.oscal import NS, assessment_results

from ._sample import ACTIVE_WAIVER, EVIDENCE, evidence_data


@pytest.fixture(scope="module")
def doc() -> dict:
    return assessment_results(evidence_data())


def test_trestle_validates_it(doc):
    model = Model.parse_obj(json.loads(json.dumps(doc)))
    assert model.assessment_results.metadata.oscal_version.__root__ == "1.2.1"


def test_trestle_rejects_a_broken_document(doc):
    broken = json.loads(json.dumps(doc))
    broken["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] = "error"
    with pytest.raises(ValueError):
        Model.parse_obj(broken)


def test_one_result_per_run(doc):
    data = evidence_data()
    results = doc["assessment-results"]["results"]
    assert len(results) == len(data.runs)
    for result, run in zip(results, data.runs, strict=True):
        assert result["start"] == run.info.started_at.isoformat()
        assert result["end"] == run.info.ended_at.isoformat()
        ids = [
            c["control-id"]
            for c in result["reviewed-controls"]["control-selections"][0]["include-controls"]
        ]
        assert ids == sorted({f.control for f in run.findings})
        assert len(result["observations"]) == len(run.findings)
        for obs in result["observations"]:
            assert obs["methods"] == ["TEST"]
            assert obs["subjects"][0]["type"] == "inventory-item"


def test_a_risk_per_failure_and_deviation_approved_for_waivers(doc):
    data = evidence_data()
    for result, run in zip(doc["assessment-results"]["results"], data.runs, strict=True):
        failing = [f for f in run.findings if f.status in (Status.FAIL, Status.WAIVED)]
        risks = result.get("risks", [])
        assert len(risks) == len(failing)
        approved = [r for r in risks if r["status"] == "deviation-approved"]
        assert len(approved) == sum(1 for f in failing if f.status is Status.WAIVED)
        assert all(r["status"] == "open" for r in risks if r not in approved)
    last = doc["assessment-results"]["results"][-1]["risks"]
    (kernel,) = [r for r in last if r["status"] == "deviation-approved"]
    assert ACTIVE_WAIVER.reason in kernel["statement"]
    assert kernel["deadline"].startswith("2027-01-31T23:59:59")
    # the expired waiver's finding is a plain open risk
    assert any("expired on 2026-11-20" in r["statement"] and r["status"] == "open" for r in last)


def test_findings_per_control_are_satisfied_only_when_all_pass(doc):
    last = doc["assessment-results"]["results"][-1]
    states = {f["target"]["target-id"]: f["target"]["status"] for f in last["findings"]}
    assert states["firewall.no_any_any_accept"]["state"] == "not-satisfied"
    assert states["backup.config_saved"] == {"state": "satisfied", "reason": "pass"}
    # unreachable device: could not evaluate → never satisfied
    assert states["backup.last_success_age"] == {"state": "not-satisfied", "reason": "other"}
    assert states["patching.reboot_required"]["state"] == "not-satisfied"  # waived


def test_raw_evidence_is_hashed_in_back_matter(doc):
    ar = doc["assessment-results"]
    resources = {r["uuid"]: r for r in ar["back-matter"]["resources"]}
    digest = hashlib.sha256(EVIDENCE.encode()).hexdigest()
    hashes = {h["value"] for r in resources.values() for h in r["rlinks"][0]["hashes"]}
    assert digest in hashes
    for result in ar["results"]:
        for obs in result["observations"]:
            for ev in obs.get("relevant-evidence", []):
                assert ev["href"].lstrip("#") in resources


def test_import_ap_is_a_urn_and_explained(doc):
    ap = doc["assessment-results"]["import-ap"]
    assert ap["href"].startswith("urn:baluarte:assessment-plan:")
    assert "policies/" in ap["remarks"]


def test_document_is_reproducible(doc):
    assert assessment_results(evidence_data()) == doc


def test_every_uuid_is_the_name_based_uuid5_of_its_name(doc):
    """The UUIDs are spelled out rather than built as UUID objects: still uuid5 (same UUIDs in
    every pack made from the same runs)."""
    root = uuid.uuid5(uuid.NAMESPACE_URL, NS)
    result = doc["assessment-results"]["results"][0]
    run_id = result["props"][0]["value"]
    assert result["uuid"] == str(uuid.uuid5(root, f"result\x1f{run_id}"))
    first = result["observations"][0]["uuid"]
    assert first == str(uuid.uuid5(root, f"obs\x1f{run_id}\x1f0"))
