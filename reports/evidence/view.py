"""Evidence report, part 1: EvidenceData shaped for the template — summary, scope, method, results.

Only data is shaped here (codes, numbers, dates already in the locale's format); every word a
reader sees comes from the catalogues, in the template.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import yaml
from babel.dates import format_datetime

from baluarte.controls import Control
from baluarte.evidence.data import EvidenceData, PackFile
from baluarte.findings import Finding, Status
from baluarte.posture import Observation, Posture, compliance_percent, counts
from reports.evidence import view_method
from reports.evidence._common import (
    SEVERITY_ORDER,
    STATUS_ORDER,
    evidence_sha256,
    finding_sort_key,
    latest_run,
    posture_of,
)
from reports.evidence.i18n import Formats
from reports.evidence.phrases import phrase
from reports.json_report import device_rows

__all__ = ["KEY_RISKS", "method", "results_by_control", "results_by_device", "scope", "summary"]

KEY_RISKS = 5  # the executive summary names the worst few; the results list them all

DeviceKey = tuple[str, str, str]
# a device's posture as the scope table shows it (the states the template names)
_STATE = {"verified": "complete", "partial": "partial", "not_verified": "none"}
_NOT_VERIFIED = ("none", "not_checked")


def summary(data: EvidenceData, fmt: Formats) -> dict[str, Any]:
    """The client's posture at the period's end, its change since the period's start, and the
    key risks: failures as last observed, critical first, whichever run observed them."""
    run = latest_run(data)
    now = posture_of(data)
    current = now.compliance_percent
    # the period's start: the first day (or week) of the trend with anything observed
    first = next((p for p in data.trend if p.compliance_percent is not None), None)
    # nothing to compare when the period's first observations are also its last day's
    start = None if first is None or first is data.trend[-1] else first.compliance_percent
    fails = sorted(
        (o for o in now.observations if o.finding.status is Status.FAIL),
        key=lambda o: (finding_sort_key(o.finding), o.finding.device),
    )
    return {
        "compliance": fmt.percent(current),
        "has_compliance": current is not None,
        "counts": now.counts,
        "findings": len(now.observations),
        "since_start": None if start is None or current is None else round(current - start, 1),
        "start_day": fmt.date(first.day) if first else "—",
        "key_risks": [_observed_row(o, fmt) for o in fails[:KEY_RISKS]],
        "more_risks": max(0, len(fails) - KEY_RISKS),
        "runs": len(data.runs),
        "latest_id": run.info.id if run else None,
        "latest_at": fmt.datetime(run.info.started_at) if run else "—",
    }


def scope(data: EvidenceData, fmt: Formats) -> dict[str, Any]:
    """Devices in scope against devices verified in the period, each with when it was last
    observed; the ones never verified named with the reason."""
    now = posture_of(data)
    tags = {(d["client"], d["site"], d["device"]): d.get("tags") for d in data.devices_in_scope}
    unsettled = _error_reasons(now.findings)  # controls of a read device that errored
    devices = []
    for d in now.devices:
        key = (d.client, d.site, d.device)
        state = _STATE[d.state]
        if d.reason == "never_checked":
            state = "not_checked"
        devices.append(
            {
                "client": d.client,
                "site": d.site,
                "device": d.device,
                "platform": d.platform,
                "tags": list(tags.get(key) or ()),
                "state": state,  # complete | partial | none (unreadable) | not_checked
                "in_scope": d.in_scope,
                "observed": fmt.datetime(d.observed_at) if d.observed_at else None,
                "runs": list(d.runs),
                # the last attempt that could not read it (none observed it after)
                "failed": fmt.datetime(d.failed_at) if d.failed_at else None,
                "failed_run": d.failed_run,
                "reasons": [
                    phrase(r, fmt.lang) for r in list(d.errors or unsettled.get(key, ()))[:3]
                ],
            }
        )
    in_scope = now.in_scope
    checked = now.verified
    return {
        "devices": devices,
        "in_scope": in_scope,
        "checked": checked,
        "coverage": fmt.percent(None if in_scope == 0 else round(100 * checked / in_scope, 1)),
        "unreachable": [d for d in devices if d["in_scope"] and d["state"] in _NOT_VERIFIED],
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
            "ended_time": _time_if_same_day(r.info.started_at, r.info.ended_at, fmt),
            "operator": r.info.operator,
            "person": None if r.info.operator_identity is None else str(r.info.operator_identity),
            "tool_version": r.info.tool_version,
            "findings": len(r.findings),
        }
        for r in data.runs
    ]
    return {
        "runs": runs,
        "operators": sorted({r.info.operator for r in data.runs}),
        "tool_versions": sorted({r.info.tool_version for r in data.runs}),
        "files": [_file(f) for f in data.files],
        # what actually happened: the transports read over, and the runs that wrote
        "reads": view_method.reads(data),
        "writes": view_method.writes(data, fmt),
    }


def _time_if_same_day(start: datetime, end: datetime | None, fmt: Formats) -> str | None:
    """The end's local time alone ("04:04") when the run ended on the day, and at the UTC
    offset, it started: the runs table keeps each run to one line on paper."""
    if end is None or start.tzinfo is None or end.tzinfo is None:
        return None
    a, b = start.astimezone(fmt.tz), end.astimezone(fmt.tz)
    if a.date() != b.date() or a.utcoffset() != b.utcoffset():
        return None
    return format_datetime(b, "HH:mm", tzinfo=fmt.tz, locale=fmt.locale)


def results_by_control(
    posture: Posture, controls: Mapping[str, Control], fmt: Formats
) -> list[dict[str, Any]]:
    """One row per control, each device as last observed: its findings per status, failing
    controls first."""
    groups: dict[str, list[Finding]] = {}
    for f in posture.findings:
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


def results_by_device(posture: Posture, fmt: Formats) -> list[dict[str, Any]]:
    """One block per device observed in the period, its controls as last observed (each with
    its run and date), failures first.

    ``rows``: every control that did not pass, in full. ``passed``: the passing ones, only
    their control ids, each still citing its evidence and run (``_cited``): a quarter of
    nightly runs over fifty devices would otherwise fill a hundred pages with "pass" rows, and
    results.json and findings.csv hold each one whole."""
    by_device: dict[DeviceKey, list[Observation]] = {}
    for o in posture.observations:
        f = o.finding
        by_device.setdefault((f.client, f.site, f.device), []).append(o)
    out = []
    for row in device_rows(posture.findings):
        own = sorted(
            by_device[(row["client"], row["site"], row["device"])],
            key=lambda o: finding_sort_key(o.finding),
        )
        out.append(
            {
                **row,
                "compliance": fmt.percent(row["compliance_percent"]),
                "observed": fmt.datetime(max(o.observed_at for o in own)),
                "runs": sorted({o.run_id for o in own}),
                "rows": [_observed_row(o, fmt) for o in own if o.finding.status != Status.PASS],
                "passed": _cited(o for o in own if o.finding.status == Status.PASS),
                "passed_count": sum(1 for o in own if o.finding.status == Status.PASS),
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


def _cited(passed: Iterable[Observation]) -> list[dict[str, Any]]:
    """Passing controls by id, those next to each other that rest on the same evidence (a
    domain's one collection, mostly) under one citation of it: the report lists a fleet's
    passes by the thousand, and a box per id was much of the PDF's layout time."""
    groups: list[dict[str, Any]] = []
    for o in sorted(passed, key=lambda o: o.finding.control):
        digest = evidence_sha256(o.finding)
        if groups and (groups[-1]["evidence_sha256"], groups[-1]["run_id"]) == (digest, o.run_id):
            groups[-1]["controls"].append(o.finding.control)
        else:
            groups.append(
                {"evidence_sha256": digest, "run_id": o.run_id, "controls": [o.finding.control]}
            )
    return groups


def _observed_row(o: Observation, fmt: Formats) -> dict[str, Any]:
    """A finding as last observed, with the run it came from and when."""
    return {**_row(o.finding, fmt), "run_id": o.run_id, "observed_at": fmt.datetime(o.observed_at)}


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
        # stored English; a catalogued phrase or template shows in the report's language
        "expected": f.expected and phrase(f.expected, fmt.lang),
        "observed": f.observed and phrase(f.observed, fmt.lang),
        "reason": f.reason and phrase(f.reason, fmt.lang),
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
