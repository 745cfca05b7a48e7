"""OSCAL Assessment Results (1.2.1, as compliance-trestle models it) for an evidence pack.

One ``result`` per Run of the period. Each Finding becomes an ``observation`` (method TEST,
subject the Device as an inventory item); the SHA-256 of its raw evidence sits in back-matter
resources the observation points to. Each control of a run becomes one OSCAL ``finding``:
``satisfied`` only when every judged device passed. Each failing or waived Finding becomes a
``risk``: ``open``, or ``deviation-approved`` with the waiver's reason and expiry.

Our own vocabulary (Baluarte status, severity, device, run id) is in props under ``NS``, as the
OSCAL allowed-values rules require for names they do not define.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from baluarte.evidence.data import EvidenceData
from baluarte.findings import Finding, Status
from baluarte.run import RunRecord
from baluarte.text import inert_json, inert_tree
from reports.evidence._common import evidence_sha256

__all__ = ["NS", "OSCAL_VERSION", "assessment_results", "assessment_results_json"]

OSCAL_VERSION = "1.2.1"  # what compliance-trestle's models validate
NS = "https://baluarte.example/ns/oscal"
# deterministic UUIDs (v5): the same period and runs give the same document
_ROOT = uuid.uuid5(uuid.NAMESPACE_URL, NS)
JUDGED = (Status.PASS, Status.FAIL, Status.ERROR, Status.WAIVED)


def assessment_results(data: EvidenceData) -> dict[str, Any]:
    """The period's runs as an OSCAL ``assessment-results`` document (JSON-ready dict)."""
    # device and file text (observed values, reasons, waiver texts): control characters shown
    return {"assessment-results": inert_tree(_document(data))}


def assessment_results_json(data: EvidenceData) -> bytes:
    """``assessment_results`` as the pack's file: JSON on one line, written in one pass."""
    return inert_json({"assessment-results": _document(data)}) + b"\n"


def _document(data: EvidenceData) -> dict[str, Any]:
    tool = _uid("tool", data.tool_version)
    parties = _parties(data)
    resources: dict[str, dict[str, Any]] = {}
    doc: dict[str, Any] = {
        "uuid": _uid(
            "ar",
            data.client,
            str(data.period_from),
            str(data.period_to),
            *(str(r.info.id) for r in data.runs),
        ),
        "metadata": {
            "title": f"Baluarte assessment results: {data.client}",
            "last-modified": _ts(data.generated_at),
            "version": data.tool_version,
            "oscal-version": OSCAL_VERSION,
            "roles": [
                {"id": "assessor", "title": "Assessor (ran the checks)"},
                {"id": "assessment-subject-owner", "title": "Client whose devices were assessed"},
            ],
            "parties": [p for p, _ in parties.values()],
            "responsible-parties": [
                {
                    "role-id": role,
                    "party-uuids": [p["uuid"] for p, r in parties.values() if r == role],
                }
                for role in ("assessor", "assessment-subject-owner")
            ],
        },
        # The assessment plan is described by the pack's policies/ and inventory.json; it is not
        # published as an OSCAL document, so this names it by a URN rather than a resolvable href.
        "import-ap": {
            "href": f"urn:baluarte:assessment-plan:{_token(data.client)}",
            "remarks": "Not an OSCAL document: the assessment plan is the policy, waiver and "
            "inventory files in this evidence pack (policies/, inventory.json), whose SHA-256 "
            "hashes are in MANIFEST.sha256.",
        },
        "results": [_result(run, data, tool, parties, resources) for run in data.runs]
        or [_empty_result(data)],
    }
    if resources:
        doc["back-matter"] = {"resources": list(resources.values())}
    return doc


def _result(
    run: RunRecord,
    data: EvidenceData,
    tool: str,
    parties: dict[str, tuple[dict[str, Any], str]],
    resources: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    rid = str(run.info.id)
    items = _inventory_items(run.findings, rid)
    observations, risks = [], []
    by_control: dict[str, list[tuple[Finding, str, str | None]]] = {}
    operator = parties.get(f"person:{run.info.operator}")
    # what every observation of the run shares is built once and shared (the same JSON): a
    # quarter of nightly runs is a hundred thousand observations
    actors = [{"type": "tool", "actor-uuid": tool}]
    if operator is not None:
        actors.append({"type": "party", "actor-uuid": operator[0]["uuid"]})
    shared = _Shared([{"actors": actors}], _ts(run.info.started_at), {})
    for i, f in enumerate(run.findings):
        obs_id = _uid("obs", rid, str(i))
        obs = _observation(f, obs_id, items, shared, resources)
        observations.append(obs)
        risk_id = None
        if f.status in (Status.FAIL, Status.WAIVED):
            risk_id = _uid("risk", rid, str(i))
            risks.append(_risk(f, risk_id, obs_id))
        by_control.setdefault(f.control, []).append((f, obs_id, risk_id))
    result: dict[str, Any] = {
        "uuid": _uid("result", rid),
        "title": f"Run {rid} ({run.info.kind})",
        "description": f"Baluarte {run.info.tool_version} {run.info.kind} run {rid} for "
        f"{data.client}, by {run.info.operator}; state {run.info.state}.",
        "start": _ts(run.info.started_at),
        "props": [_prop("run-id", rid), _prop("run-state", str(run.info.state))],
        "reviewed-controls": {
            "control-selections": [
                {"include-controls": [{"control-id": cid} for cid in sorted(by_control)]}
                if by_control
                else {"description": "No control was evaluated in this run."}
            ]
        },
    }
    if run.info.ended_at is not None:
        result["end"] = _ts(run.info.ended_at)
    if items:
        result["local-definitions"] = {
            "components": [_tool_component(tool, data.tool_version)],
            "inventory-items": list(items.values()),
        }
    if observations:
        result["observations"] = observations
    if risks:
        result["risks"] = risks
    if by_control:
        result["findings"] = [_finding(cid, rows, rid) for cid, rows in sorted(by_control.items())]
    return result


class _Shared(NamedTuple):
    """Parts of a run's observations that are the same for many: built once, shared."""

    origins: list[dict[str, Any]]
    collected: str
    props: dict[tuple[str, str, str, str | None], list[dict[str, str]]]


def _observation(
    f: Finding,
    obs_id: str,
    items: dict[tuple[str, str, str], dict[str, Any]],
    shared: _Shared,
    resources: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    key = (str(f.status), str(f.severity), f.platform, f.policy)
    props = shared.props.get(key)
    if props is None:
        props = shared.props[key] = [
            _prop("status", key[0]),
            _prop("severity", key[1]),
            _prop("platform", f.platform),
            *([_prop("policy", f.policy)] if f.policy else []),
        ]
    obs: dict[str, Any] = {
        "uuid": obs_id,
        "title": f"{f.device}: {f.control}",
        "description": _describe(f),
        "props": props,
        "methods": _METHODS,
        "types": _TYPES,
        "origins": shared.origins,
        "subjects": [
            {
                "subject-uuid": items[(f.client, f.site, f.device)]["uuid"],
                "type": "inventory-item",
                "title": f.device,
            }
        ],
        "collected": shared.collected,
    }
    digest = evidence_sha256(f)
    if digest is not None:
        res = resources.setdefault(digest, _resource(digest))
        obs["relevant-evidence"] = [
            {
                "href": f"#{res['uuid']}",
                "description": "Raw collector output; SHA-256 in back-matter.",
            }
        ]
    return obs


_METHODS = ["TEST"]
_TYPES = ["finding"]


def _risk(f: Finding, risk_id: str, obs_id: str) -> dict[str, Any]:
    risk: dict[str, Any] = {
        "uuid": risk_id,
        "title": f"{f.control} not met on {f.device}",
        "description": _describe(f),
        "statement": f"Control {f.control} ({f.severity}) is not met on {f.client}/{f.site}/"
        f"{f.device}: expected {f.expected or 'n/a'}, observed {f.observed or 'n/a'}.",
        "props": [_prop("severity", str(f.severity))],
        "status": "open",
        "related-observations": [{"observation-uuid": obs_id}],
    }
    w = f.waiver
    if w is not None:  # OSCAL risks have no remarks: the waiver goes in the statement and props
        risk["props"] += [
            _prop("waiver-approved-by", w.approved_by),
            _prop("waiver-expires", w.expires.isoformat()),
            *([_prop("waiver-ticket", w.ticket)] if w.ticket else []),
        ]
    if f.status is Status.WAIVED and w is not None:
        risk["status"] = "deviation-approved"
        risk["deadline"] = _ts(datetime.combine(w.expires, datetime.max.time(), UTC))
        risk["statement"] += (
            f" Deviation approved by {w.approved_by}"
            + (f" (ticket {w.ticket})" if w.ticket else "")
            + f" until {w.expires.isoformat()}: {w.reason}"
        )
    elif w is not None and w.expired:
        risk["statement"] += f" A waiver expired on {w.expires.isoformat()}: {w.reason}"
    return risk


def _finding(cid: str, rows: list[tuple[Finding, str, str | None]], rid: str) -> dict[str, Any]:
    statuses = {f.status for f, _, _ in rows}
    target: dict[str, Any] = {"type": "objective-id", "target-id": cid}
    if statuses & {Status.FAIL, Status.WAIVED}:
        target["status"] = {"state": "not-satisfied", "reason": "fail"}
    elif Status.ERROR in statuses:  # could not evaluate: never "satisfied"
        target["status"] = {"state": "not-satisfied", "reason": "other"}
        target["props"] = [_prop("result", "error")]
    elif Status.PASS in statuses:
        target["status"] = {"state": "satisfied", "reason": "pass"}
    else:  # not applicable on every device: not a pass either
        target["status"] = {"state": "not-satisfied", "reason": "other"}
        target["implementation-status"] = {"state": "not-applicable"}
        target["props"] = [_prop("result", "not-applicable")]
    devices = sorted({f.device for f, _, _ in rows})
    finding: dict[str, Any] = {
        "uuid": _uid("finding", rid, cid),
        "title": f"{cid}: {target['status']['state']}",
        "description": f"{cid} on {len(devices)} device(s): "
        + ", ".join(
            f"{s}={sum(1 for f, _, _ in rows if f.status is s)}"
            for s in Status
            if any(f.status is s for f, _, _ in rows)
        ),
        "target": target,
        "related-observations": [{"observation-uuid": o} for _, o, _ in rows],
    }
    risks = [r for _, _, r in rows if r is not None]
    if risks:
        finding["related-risks"] = [{"risk-uuid": r} for r in risks]
    return finding


def _inventory_items(
    findings: Iterable[Finding], rid: str
) -> dict[tuple[str, str, str], dict[str, Any]]:
    items: dict[tuple[str, str, str], dict[str, Any]] = {}
    for f in findings:
        key = (f.client, f.site, f.device)
        if key not in items:
            items[key] = {
                "uuid": _uid("device", *key),
                "description": f"{f.platform} device {f.device} at {f.client}/{f.site}",
                "props": [
                    _prop("device", f.device),
                    _prop("site", f.site),
                    _prop("platform", f.platform),
                ],
            }
    return items


def _tool_component(tool: str, version: str) -> dict[str, Any]:
    return {
        "uuid": tool,
        "type": "software",
        "title": f"Baluarte {version}",
        "description": "Compliance-as-code tool that collected and evaluated the findings.",
        "status": {"state": "operational"},
    }


def _parties(data: EvidenceData) -> dict[str, tuple[dict[str, Any], str]]:
    """Parties by key → (party, role): the technicians who ran the checks, and the client."""
    out: dict[str, tuple[dict[str, Any], str]] = {}
    for name in sorted({data.operator, *(r.info.operator for r in data.runs)}):
        party = {"uuid": _uid("party", "person", name), "type": "person", "name": name}
        out[f"person:{name}"] = (party, "assessor")
    client = {
        "uuid": _uid("party", "client", data.client),
        "type": "organization",
        "name": data.legal_name or data.client,
        "short-name": data.client,
    }
    out[f"client:{data.client}"] = (client, "assessment-subject-owner")
    return out


def _resource(digest: str) -> dict[str, Any]:
    return {
        "uuid": _uid("evidence", digest),
        "title": f"Raw evidence {digest[:12]}",
        "description": "The raw collector output of a finding: the finding's evidence text "
        "(UTF-8) in results.json of this pack.",
        "rlinks": [{"href": "results.json", "hashes": [{"algorithm": "SHA-256", "value": digest}]}],
    }


def _empty_result(data: EvidenceData) -> dict[str, Any]:
    """OSCAL requires at least one result: a period without runs says so."""
    start = data.period_from or data.generated_at.date()
    return {
        "uuid": _uid("result", "none", data.client),
        "title": "No run in the period",
        "description": "No check or apply run was stored for this client in the period.",
        "start": _ts(datetime.combine(start, datetime.min.time(), UTC)),
        "reviewed-controls": {"control-selections": [{"description": "No control was evaluated."}]},
    }


def _describe(f: Finding) -> str:
    parts = [f"Status {f.status}."]
    if f.expected is not None:
        parts.append(f"Expected: {f.expected}.")
    if f.observed is not None:
        parts.append(f"Observed: {f.observed}.")
    if f.reason:
        parts.append(f"Reason: {f.reason}.")
    return " ".join(parts)


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": value}


def _uid(*parts: str) -> str:
    """``str(uuid.uuid5(_ROOT, "\\x1f".join(parts)))``, spelled out (RFC 4122 §4.3): a pack
    names two UUIDs per finding, and building each UUID object was a tenth of the export."""
    h = bytearray(hashlib.sha1(_ROOT.bytes + "\x1f".join(parts).encode()).digest()[:16])
    h[6] = h[6] & 0x0F | 0x50  # version 5
    h[8] = h[8] & 0x3F | 0x80  # RFC 4122 variant
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def _ts(moment: datetime) -> str:
    """RFC 3339 with an offset (OSCAL requires one); naive times are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def _token(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-._" else "-" for ch in text)
