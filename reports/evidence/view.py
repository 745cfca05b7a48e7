"""Evidence report, part 1: EvidenceData shaped for the template — summary, scope, method, results.

Only data is shaped here (codes, numbers, dates already in the locale's format); every word a
reader sees comes from the catalogues, in the template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from baluarte.controls import Control
from baluarte.evidence.data import EvidenceData, PackFile
from baluarte.findings import Finding, Status
from baluarte.run import RunRecord
from reports.evidence._common import (
    SEVERITY_ORDER,
    STATUS_ORDER,
    evidence_sha256,
    finding_sort_key,
    latest_run,
)
from reports.evidence.i18n import Formats
from reports.json_report import compliance_percent, counts, device_rows

__all__ = ["KEY_RISKS", "method", "results_by_control", "results_by_device", "scope", "summary"]

KEY_RISKS = 5  # the executive summary names the worst few; the results list them all

DeviceKey = tuple[str, str, str]


def summary(data: EvidenceData, fmt: Formats) -> dict[str, Any]:
    """Overall compliance of the latest run, its change over the period, and the key risks."""
    run = latest_run(data)
    findings = run.findings if run else ()
    judged = [p.compliance_percent for p in data.trend if p.compliance_percent is not None]
    current = compliance_percent(findings)
    first = judged[0] if len(judged) > 1 else None
    previous = judged[-2] if len(judged) > 1 else None
    fails = sorted((f for f in findings if f.status is Status.FAIL), key=finding_sort_key)
    return {
        "compliance": fmt.percent(current),
        "has_compliance": current is not None,
        "counts": counts(findings),
        "findings": len(findings),
        "since_previous": None if previous is None or current is None else current - previous,
        "since_first": None if first is None or current is None else current - first,
        "key_risks": [_row(f, fmt) for f in fails[:KEY_RISKS]],
        "more_risks": max(0, len(fails) - KEY_RISKS),
        "runs": len(data.runs),
        "latest_id": run.info.id if run else None,
        "latest_at": fmt.datetime(run.info.started_at) if run else "—",
    }


def scope(data: EvidenceData, fmt: Formats) -> dict[str, Any]:
    """Devices in scope against devices checked in the latest run; unreachable ones named."""
    run = latest_run(data)
    findings = run.findings if run else ()
    rows = {(r["client"], r["site"], r["device"]): r for r in device_rows(findings)}
    reasons = _error_reasons(findings)
    keys: dict[DeviceKey, dict[str, Any]] = {
        (d["client"], d["site"], d["device"]): d for d in data.devices_in_scope
    }
    in_inventory = set(keys)
    for key, checked_row in rows.items():  # checked, no longer in the inventory: shown
        keys.setdefault(key, {"platform": checked_row["platform"], "tags": []})
    devices = []
    for key in sorted(keys):
        row = rows.get(key)
        state = "not_checked" if row is None else row["check_coverage"]
        devices.append(
            {
                "client": key[0],
                "site": key[1],
                "device": key[2],
                "platform": keys[key].get("platform") or (row or {}).get("platform", ""),
                "tags": list(keys[key].get("tags") or ()),
                "state": state,  # complete | partial | none (unreachable) | not_checked
                "in_scope": key in in_inventory,
                "reasons": reasons.get(key, [])[:3],
            }
        )
    in_scope = len(data.devices_in_scope)
    checked = sum(1 for d in devices if d["in_scope"] and d["state"] in ("complete", "partial"))
    return {
        "devices": devices,
        "in_scope": in_scope,
        "checked": checked,
        "coverage": fmt.percent(None if in_scope == 0 else round(100 * checked / in_scope, 1)),
        "unreachable": [d for d in devices if d["state"] in ("none", "not_checked")],
        "partial": [d for d in devices if d["state"] == "partial"],
    }


def method(data: EvidenceData, fmt: Formats) -> dict[str, Any]:
    """Who ran what, with which tool, against which baselines (files with versions and hashes)."""
    runs = [
        {
            "id": r.info.id,
            "kind": str(r.info.kind),
            "incomplete": r.info.incomplete,
            "started": fmt.datetime(r.info.started_at),
            "ended": fmt.datetime(r.info.ended_at),
            "operator": r.info.operator,
            "tool_version": r.info.tool_version,
            "findings": len(r.findings),
        }
        for r in data.runs
    ]
    platforms = sorted(
        {f.platform for r in data.runs for f in r.findings}
        | {str(d.get("platform")) for d in data.devices_in_scope if d.get("platform")}
    )
    return {
        "runs": runs,
        "operators": sorted({r.info.operator for r in data.runs}),
        "tool_versions": sorted({r.info.tool_version for r in data.runs}),
        "files": [_file(f) for f in data.files],
        "platforms": platforms,
    }


def results_by_control(
    run: RunRecord | None, controls: Mapping[str, Control], fmt: Formats
) -> list[dict[str, Any]]:
    """One row per control of the latest run: its findings per status, failing controls first."""
    groups: dict[str, list[Finding]] = {}
    for f in run.findings if run else ():
        groups.setdefault(f.control, []).append(f)
    position = {cid: i for i, cid in enumerate(controls)}
    rows: list[dict[str, Any]] = []
    for cid, own in groups.items():
        worst = min(STATUS_ORDER.index(f.status) for f in own)
        ctl = controls.get(cid)
        # an unknown control: the most severe of its findings
        severity = (
            ctl.severity
            if ctl
            else min(own, key=lambda f: SEVERITY_ORDER.index(f.severity)).severity
        )
        rows.append(
            {
                "id": cid,
                "title": ctl.title if ctl else None,
                "severity": str(severity),
                "status": str(STATUS_ORDER[worst]),
                "counts": counts(own),
                "compliance": fmt.percent(compliance_percent(own)),
                "failing": sorted(f.device for f in own if f.status is Status.FAIL),
                "_key": (
                    worst,
                    SEVERITY_ORDER.index(severity),
                    position.get(cid, len(position)),
                    cid,
                ),
            }
        )
    rows.sort(key=lambda r: r.pop("_key"))
    return rows


def results_by_device(run: RunRecord | None, fmt: Formats) -> list[dict[str, Any]]:
    """One block per device of the latest run, its findings failures first."""
    findings = run.findings if run else ()
    by_device: dict[DeviceKey, list[Finding]] = {}
    for f in findings:
        by_device.setdefault((f.client, f.site, f.device), []).append(f)
    out = []
    for row in device_rows(findings):
        own = sorted(by_device[(row["client"], row["site"], row["device"])], key=finding_sort_key)
        out.append(
            {
                **row,
                "compliance": fmt.percent(row["compliance_percent"]),
                "rows": [_row(f, fmt) for f in own],
            }
        )
    # devices with failures or errors first, then by name
    out.sort(
        key=lambda d: (
            d["counts"]["fail"] + d["counts"]["error"] == 0,
            d["client"],
            d["site"],
            d["device"],
        )
    )
    return out


def _row(f: Finding, fmt: Formats) -> dict[str, Any]:
    digest = evidence_sha256(f)
    return {
        "client": f.client,
        "site": f.site,
        "device": f.device,
        "platform": f.platform,
        "control": f.control,
        "policy": f.policy,
        "status": str(f.status),
        "severity": str(f.severity),
        "expected": f.expected,
        "observed": f.observed,
        "reason": f.reason,
        "evidence_sha256": digest,
        "waiver": None
        if f.waiver is None
        else {**f.waiver.model_dump(mode="json"), "expires_text": fmt.date(f.waiver.expires)},
    }


def _error_reasons(findings: Sequence[Finding]) -> dict[DeviceKey, list[str]]:
    out: dict[DeviceKey, list[str]] = {}
    for f in findings:
        if f.status is Status.ERROR and f.reason:
            seen = out.setdefault((f.client, f.site, f.device), [])
            if f.reason not in seen:
                seen.append(f.reason)
    return out


def _file(f: PackFile) -> dict[str, Any]:
    """A baseline file with the id, version and title it declares (when it is still readable)."""
    info: dict[str, Any] = {
        "role": f.role,
        "path": f.path,
        "sha256": f.sha256,
        "available": f.text is not None,
    }
    doc: Any = None
    if f.text is not None and f.role == "policy":
        try:
            doc = yaml.safe_load(f.text)
        except yaml.YAMLError:
            doc = None
    meta = doc if isinstance(doc, dict) else {}
    for key in ("id", "version", "title"):
        value = meta.get(key)
        info[key] = None if value is None else str(value)
    return info
