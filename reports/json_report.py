"""JSON report: a stored Run as one versioned document, every field in docs/report-schema.md.

``report_dict`` is also the data the HTML report is drawn from, so the two never disagree.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from baluarte.controls import DOMAINS, Control, Domain, catalogue
from baluarte.findings import Finding, Status, WaiverRef
from baluarte.history import ControlState, Drift, TrendPoint, drift, trend
from baluarte.posture import Posture, PosturePoint, compliance_percent, counts
from baluarte.run import RunInfo, RunRecord
from baluarte.timezones import DEFAULT_TIMEZONE, RunZone, offset_text

__all__ = [
    "SCHEMA_VERSION",
    "compliance_percent",
    "counts",
    "device_rows",
    "domain_of",
    "domain_sort_key",
    "drift_dict",
    "load_controls",
    "posture_dict",
    "posture_point_dict",
    "render_json",
    "report_dict",
    "trend_point_dict",
]

# MAJOR.MINOR: a minor bump only adds fields; a major bump renames, removes or changes meaning.
SCHEMA_VERSION = "1.5"

DeviceKey = tuple[str, str, str]  # client, site, device


def load_controls() -> Mapping[str, Control]:
    """The control catalogue, or as much of it as exists.

    A domain whose evaluator module is not written yet is skipped rather than failing the
    report: a stored Run must stay renderable, and unknown controls are shown by id.
    """
    try:
        return catalogue()
    except ModuleNotFoundError:
        pass
    out: dict[str, Control] = {}
    for name in DOMAINS:
        module_name = f"checks.evaluators.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise  # the module exists but is broken: that is a bug to surface
            continue
        domain: Domain = module.DOMAIN
        out.update((ctl.id, ctl) for ctl in domain.controls.values())
    return out


def render_json(
    run: RunRecord,
    *,
    controls: Mapping[str, Control] | None = None,
    history: Sequence[RunRecord] = (),
    timezone: RunZone | None = None,
) -> str:
    """The Run as a JSON document (UTF-8 text, indented, trailing newline)."""
    data = report_dict(run, controls=controls, history=history, timezone=timezone)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def report_dict(
    run: RunRecord,
    *,
    controls: Mapping[str, Control] | None = None,
    history: Sequence[RunRecord] = (),
    timezone: RunZone | None = None,
    past: tuple[Drift, Sequence[TrendPoint]] | None = None,
) -> dict[str, Any]:
    """The Run as JSON-ready data: only str, int, float, bool, None, lists and dicts.

    ``history``: the earlier complete runs of the run's client scope, oldest first
    (``baluarte.history.earlier_runs``); drift and trend are drawn from them. ``past``: that
    drift and trend already drawn (``baluarte.history.drifts`` and ``trend`` over many runs at
    once), so a caller reporting every run of a period need not redraw them per run.
    ``timezone``: the zone its client's times are shown in (``baluarte.timezones.run_zone``;
    None: the default).
    Timestamps stay UTC; the zone is named beside them.
    """
    zone = timezone or RunZone(DEFAULT_TIMEZONE, "default")
    known = load_controls() if controls is None else controls
    earlier = [r for r in history if r.info.id != run.info.id]
    findings = run.findings
    devices = device_rows(findings)
    return {
        "schema_version": SCHEMA_VERSION,
        "run": _run(run.info),
        "timezone": {
            "name": zone.name,
            "utc_offset": offset_text(run.info.started_at, zone.name),
            "source": zone.source,
        },
        "summary": {
            "findings": len(findings),
            "counts": counts(findings),
            "compliance_percent": compliance_percent(findings),
            "devices_reported": len(devices),
            "devices_with_errors": sum(1 for d in devices if d["check_coverage"] != "complete"),
            "by_client": _by_client(findings),
            "by_domain": _by_domain(findings),
        },
        "devices": devices,
        "controls": [_control(cid, known.get(cid)) for cid in _control_ids(findings, known)],
        "waivers": _waivers(findings),
        "findings": [_finding(f) for f in findings],
        "remediations": [
            {**r.model_dump(mode="json"), "domain": domain_of(r.control)} for r in run.remediations
        ],
        "drift": drift_dict(drift(earlier, run) if past is None else past[0]),
        "trend": {
            "points": [
                trend_point_dict(p) for p in (trend([*earlier, run]) if past is None else past[1])
            ]
        },
    }


def drift_dict(d: Drift) -> dict[str, Any]:
    """A Drift as the report's ``drift`` section."""
    return {
        "from_run": d.from_run,
        "newly_failing": [_state(s) for s in d.newly_failing],
        "newly_passing": [_state(s) for s in d.newly_passing],
        "still_failing": [_state(s) for s in d.still_failing],
    }


def trend_point_dict(p: TrendPoint) -> dict[str, Any]:
    return {
        "run_id": p.run_id,
        "started_at": p.started_at.isoformat(),
        "compliance_percent": p.compliance_percent,
        "counts": dict(p.counts),
    }


def posture_dict(p: Posture, trend: Sequence[PosturePoint] = ()) -> dict[str, Any]:
    """A client's posture (``baluarte.posture``) as JSON-ready data: each in-scope device and
    control as last observed, with its run and date; the devices and why any is not verified;
    ``trend``, posture per day (or week)."""
    return {
        "at": None if p.at is None else p.at.isoformat(),
        "compliance_percent": p.compliance_percent,
        "counts": p.counts,
        "devices_in_scope": p.in_scope,
        "devices_verified": p.verified,
        "devices": [
            {
                "client": d.client,
                "site": d.site,
                "device": d.device,
                "platform": d.platform,
                "in_scope": d.in_scope,
                "state": d.state,
                "not_verified_reason": d.reason,
                "observed_at": None if d.observed_at is None else d.observed_at.isoformat(),
                "runs": list(d.runs),
                "failed_attempt": None
                if d.failed_at is None
                else {
                    "run_id": d.failed_run,
                    "at": d.failed_at.isoformat(),
                    "errors": list(d.errors),
                },
            }
            for d in p.devices
        ],
        "findings": [
            {**_finding(o.finding), "run_id": o.run_id, "observed_at": o.observed_at.isoformat()}
            for o in p.observations
        ],
        "trend": [posture_point_dict(t) for t in trend],
    }


def posture_point_dict(t: PosturePoint) -> dict[str, Any]:
    """One day (or ISO week) of a posture trend."""
    return {
        "day": t.day.isoformat(),
        "weekly": t.weekly,
        "compliance_percent": t.compliance_percent,
        "counts": dict(t.counts),
        "devices_verified": t.verified,
        "devices_in_scope": t.in_scope,
        "runs": list(t.runs),
    }


def _state(s: ControlState) -> dict[str, Any]:
    hours = None
    if s.time_to_remediate is not None:
        hours = round(s.time_to_remediate.total_seconds() / 3600, 1)
    return {
        "client": s.client,
        "site": s.site,
        "device": s.device,
        "control": s.control,
        "domain": domain_of(s.control),
        "status": str(s.status),
        "previous": None if s.previous is None else str(s.previous),
        "failing_since": None if s.failing_since is None else s.failing_since.isoformat(),
        "time_to_remediate_hours": hours,
    }


def domain_of(control_id: str) -> str:
    return control_id.partition(".")[0]


def device_rows(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """One row per Device that has findings, sorted by client, site, device."""
    by_device: dict[DeviceKey, list[Finding]] = {}
    for f in findings:
        by_device.setdefault((f.client, f.site, f.device), []).append(f)
    rows = []
    for (client, site, device), own in sorted(by_device.items()):
        c = counts(own)
        evaluated = len(own) - c["not_applicable"]
        if c["error"] == 0:
            coverage = "complete"
        elif c["error"] >= evaluated:
            coverage = "none"  # nothing could be judged: typically unreachable
        else:
            coverage = "partial"
        rows.append(
            {
                "client": client,
                "site": site,
                "device": device,
                "platform": own[0].platform,
                "findings": len(own),
                "counts": c,
                "compliance_percent": compliance_percent(own),
                "check_coverage": coverage,
            }
        )
    return rows


def domain_sort_key(domain: str) -> tuple[int, str]:
    """Known domains in catalogue order, any other after them alphabetically."""
    return (DOMAINS.index(domain) if domain in DOMAINS else len(DOMAINS), domain)


def _run(info: RunInfo) -> dict[str, Any]:
    duration = None
    if info.ended_at is not None:
        duration = int((info.ended_at - info.started_at).total_seconds())
    return {
        "id": info.id,
        "kind": str(info.kind),
        "state": str(info.state),
        "incomplete": info.incomplete,
        "started_at": info.started_at.isoformat(),
        "ended_at": None if info.ended_at is None else info.ended_at.isoformat(),
        "duration_seconds": duration,
        "operator": info.operator,
        "operator_identity": None
        if info.operator_identity is None
        else info.operator_identity.model_dump(mode="json"),
        "tool_version": info.tool_version,
        "inventory_sha256": info.inventory_sha256,
        "scope": dict(info.scope),
        "devices_in_scope": info.devices_total,
        "input_files": [{"role": f.role, "path": f.path, "sha256": f.sha256} for f in info.files],
    }


def _by_client(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.client, []).append(f)
    return [
        {
            "client": client,
            "devices": len({(f.site, f.device) for f in own}),
            "findings": len(own),
            "counts": counts(own),
            "compliance_percent": compliance_percent(own),
        }
        for client, own in sorted(groups.items())
    ]


def _by_domain(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(domain_of(f.control), []).append(f)
    return [
        {
            "domain": domain,
            "findings": len(own),
            "counts": counts(own),
            "compliance_percent": compliance_percent(own),
        }
        for domain, own in sorted(groups.items(), key=lambda kv: domain_sort_key(kv[0]))
    ]


def _control_ids(findings: Iterable[Finding], known: Mapping[str, Control]) -> list[str]:
    """The controls the findings name: by domain, then catalogue order, unknown ones last."""
    position = {cid: i for i, cid in enumerate(known)}
    ids = {f.control for f in findings}
    return sorted(
        ids,
        key=lambda cid: (domain_sort_key(domain_of(cid)), position.get(cid, len(position)), cid),
    )


def _control(control_id: str, ctl: Control | None) -> dict[str, Any]:
    if ctl is None:
        return {
            "id": control_id,
            "known": False,
            "domain": domain_of(control_id),
            "title": None,
            "rationale": None,
            "default_severity": None,
            "benchmark": None,
            "mappings": {},
        }
    return {
        "id": control_id,
        "known": True,
        "domain": ctl.domain,
        "title": ctl.title,
        "rationale": ctl.rationale,
        "default_severity": str(ctl.severity),
        "benchmark": ctl.benchmark,
        "mappings": {k: list(v) for k, v in ctl.mappings.items()},
    }


def _waiver(w: WaiverRef) -> dict[str, Any]:
    return {
        "reason": w.reason,
        "approved_by": w.approved_by,
        "ticket": w.ticket,
        "expires": w.expires.isoformat(),
        "expired": w.expired,
    }


def _waivers(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Each distinct Waiver the run judged findings under, with what it covered."""
    groups: dict[WaiverRef, list[Finding]] = {}
    for f in findings:
        if f.waiver is not None:
            groups.setdefault(f.waiver, []).append(f)
    rows = []
    for w, own in groups.items():
        row = _waiver(w)
        row["findings"] = len(own)
        row["controls"] = sorted({f.control for f in own})
        row["devices"] = [
            {"client": c, "site": s, "device": d}
            for c, s, d in sorted({(f.client, f.site, f.device) for f in own})
        ]
        rows.append(row)
    return sorted(rows, key=lambda r: (r["expires"], r["controls"], r["reason"]))


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "client": f.client,
        "site": f.site,
        "device": f.device,
        "platform": f.platform,
        "control": f.control,
        "domain": domain_of(f.control),
        "policy": f.policy,
        "status": str(f.status),
        # error findings: unreadable (the device could not be read; exit 3) or undetermined
        "error_kind": None if f.status is not Status.ERROR else str(f.error_kind or "unreadable"),
        "severity": str(f.severity),
        "expected": f.expected,
        "observed": f.observed,
        "reason": f.reason,
        "evidence": f.evidence,
        "waiver": None if f.waiver is None else _waiver(f.waiver),
    }
