"""The JSON report: versioned, faithful to the stored Run, counts consistent with findings."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from baluarte.findings import Finding, Severity, Status
from baluarte.history import drifts, trend
from baluarte.run import RunRecord, RunState
from reports.json_report import SCHEMA_VERSION, render_json, report_dict

from ..test_history import _history
from ._sample import (
    ACTIVE_WAIVER,
    EXPIRED_WAIVER,
    SCRIPT_EVIDENCE,
    UNKNOWN_CONTROL,
    sample_controls,
    sample_findings,
    sample_run,
)


def _load(run: RunRecord | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render_json(run or sample_run(), controls=sample_controls()))
    return doc


def _finding(device: str, control: str, status: Status, client: str = "acme") -> Finding:
    return Finding(
        client=client,
        site="hq",
        device=device,
        platform="linux",
        control=control,
        status=status,
        severity=Severity.HIGH,
    )


def test_json_round_trips_with_schema_version_and_run_metadata():
    doc = _load()
    assert doc["schema_version"] == SCHEMA_VERSION == "1.5"
    run = doc["run"]
    assert run["id"] == 42
    assert run["kind"] == "check"
    assert run["state"] == "complete" and run["incomplete"] is False
    assert run["started_at"] == "2026-11-27T02:00:13+01:00"
    assert run["ended_at"] == "2026-11-27T02:03:20+01:00"
    assert run["duration_seconds"] == 187
    assert run["operator"] == "ana.garcia"
    assert run["tool_version"] == "0.1.0"
    assert run["inventory_sha256"].startswith("9f2c")
    assert run["devices_in_scope"] == 6
    assert {f["role"]: f["sha256"] for f in run["input_files"]} == {
        "inventory": "a" * 64,
        "policy": "b" * 64,
        "waivers": "c" * 64,
    }


def test_render_json_equals_report_dict():
    run, controls = sample_run(), sample_controls()
    assert json.loads(render_json(run, controls=controls)) == report_dict(run, controls=controls)


def test_findings_keep_every_stored_field():
    doc = _load()
    assert len(doc["findings"]) == len(sample_findings())
    for stored, emitted in zip(sample_findings(), doc["findings"], strict=True):
        expected = stored.model_dump(mode="json")
        assert {k: emitted[k] for k in expected} == expected
        assert emitted["domain"] == stored.control.split(".")[0]
    evidence = [f["evidence"] for f in doc["findings"]]
    assert SCRIPT_EVIDENCE in evidence  # JSON keeps evidence verbatim; escaping is HTML's job


def test_summary_counts_match_the_findings():
    doc = _load()
    by_status = Counter(f["status"] for f in doc["findings"])
    assert doc["summary"]["counts"] == {s: by_status.get(s, 0) for s in Status}
    assert doc["summary"]["findings"] == len(doc["findings"]) == sum(by_status.values())
    for row in doc["summary"]["by_client"]:
        own = Counter(f["status"] for f in doc["findings"] if f["client"] == row["client"])
        assert row["counts"] == {s: own.get(s, 0) for s in Status}
    for row in doc["summary"]["by_domain"]:
        own = Counter(f["status"] for f in doc["findings"] if f["domain"] == row["domain"])
        assert row["counts"] == {s: own.get(s, 0) for s in Status}
    for row in doc["devices"]:
        own = Counter(f["status"] for f in doc["findings"] if f["device"] == row["device"])
        assert row["counts"] == {s: own.get(s, 0) for s in Status}


def test_by_client_and_by_domain_cover_every_finding_once():
    doc = _load()
    total = doc["summary"]["findings"]
    assert sum(r["findings"] for r in doc["summary"]["by_client"]) == total
    assert sum(r["findings"] for r in doc["summary"]["by_domain"]) == total
    assert [r["client"] for r in doc["summary"]["by_client"]] == [
        "acme",
        "bodega-lopez",
        "clinica-sur",
    ]
    # Domains come in catalogue order, not alphabetically.
    assert [r["domain"] for r in doc["summary"]["by_domain"]] == [
        "patching",
        "firewall",
        "backup",
        "access",
    ]


def test_compliance_leaves_waived_and_not_applicable_out():
    findings = (
        _finding("a", "patching.x", Status.PASS),
        _finding("a", "patching.y", Status.FAIL),
        _finding("a", "patching.z", Status.WAIVED),
        _finding("a", "firewall.x", Status.WAIVED),
        _finding("a", "firewall.y", Status.NOT_APPLICABLE),
    )
    doc = _load(sample_run(findings=findings))
    assert doc["summary"]["compliance_percent"] == 50.0
    firewall = next(r for r in doc["summary"]["by_domain"] if r["domain"] == "firewall")
    assert firewall["compliance_percent"] is None  # nothing judged: no figure, not 0 or 100


def test_errors_lower_compliance_and_mark_device_coverage():
    findings = (
        _finding("down", "patching.x", Status.ERROR),
        _finding("down", "patching.y", Status.ERROR),
        _finding("down", "firewall.y", Status.NOT_APPLICABLE),
        _finding("half", "patching.x", Status.PASS),
        _finding("half", "patching.y", Status.ERROR),
        _finding("fine", "patching.x", Status.PASS),
    )
    doc = _load(sample_run(findings=findings))
    coverage = {d["device"]: d["check_coverage"] for d in doc["devices"]}
    assert coverage == {"down": "none", "half": "partial", "fine": "complete"}
    assert doc["summary"]["devices_with_errors"] == 2
    assert doc["summary"]["compliance_percent"] == 40.0


def test_incomplete_run_says_so_and_has_no_end():
    doc = _load(sample_run(state=RunState.RUNNING))
    assert doc["run"]["incomplete"] is True
    assert doc["run"]["state"] == "running"
    assert doc["run"]["ended_at"] is None and doc["run"]["duration_seconds"] is None
    assert doc["summary"]["devices_reported"] == 5 < doc["run"]["devices_in_scope"]


def test_control_missing_from_catalogue_is_kept_by_id():
    controls = {c["id"]: c for c in _load()["controls"]}
    assert controls[UNKNOWN_CONTROL]["known"] is False
    assert controls[UNKNOWN_CONTROL]["title"] is None
    known = controls["patching.security_updates_pending"]
    assert known["known"] is True
    assert known["title"] == "No security updates pending"
    assert known["mappings"]["ens"] == ["op.exp.4"]
    assert set(controls) == {f.control for f in sample_findings()}


def test_renders_without_a_catalogue_argument():
    # The live catalogue may lack domains still being written; the report must still render.
    doc = json.loads(render_json(sample_run()))
    unknown = next(c for c in doc["controls"] if c["id"] == UNKNOWN_CONTROL)
    assert unknown["known"] is False


def test_waivers_listed_once_each_with_expiry_state():
    doc = _load()
    waivers = {w["ticket"]: w for w in doc["waivers"]}
    assert set(waivers) == {ACTIVE_WAIVER.ticket, EXPIRED_WAIVER.ticket}
    assert waivers["CSUR-77"]["expired"] is True
    assert waivers["ACME-1042"]["expired"] is False
    assert waivers["ACME-1042"]["expires"] == "2027-01-31"
    assert waivers["ACME-1042"]["devices"] == [
        {"client": "acme", "site": "madrid-hq", "device": "srv-files"},
    ]
    assert waivers["ACME-1042"]["controls"] == ["patching.reboot_required"]


def test_empty_run_renders_with_zero_counts():
    doc = _load(sample_run(findings=()))
    assert doc["summary"]["counts"] == dict.fromkeys(Status, 0)
    assert doc["summary"]["compliance_percent"] is None
    assert doc["findings"] == [] and doc["devices"] == [] and doc["waivers"] == []


def test_a_run_reported_with_its_drift_and_trend_drawn_at_once_is_the_same_document():
    runs = _history(7)
    points = trend(runs)
    slow = [report_dict(r, history=runs[:i]) for i, r in enumerate(runs)]
    fast = [
        report_dict(r, past=(d, points[: i + 1]))
        for i, (r, d) in enumerate(zip(runs, drifts(runs), strict=True))
    ]
    assert json.dumps(fast) == json.dumps(slow)
    assert any(doc["drift"]["still_failing"] for doc in slow)
    assert any(doc["drift"]["newly_passing"] for doc in slow)
