"""The intervention report's page, from an ``apply`` run alone (pure: no store, no files).

Per device (``view_device``): what was checked, what was found failing (before), what was
changed (before → after), what was deferred to a technician (manual) or refused, failed or not
run and why, and each control's status at the re-check; for the run: who (the person
responsible and the account), when (in the client's zone), the change ticket and its approver.
Every word is the report's (``words.py``); stored English phrases are shown in the report's
language where catalogued; what devices and input files said is passed on as text — the
template escapes it and makes its control characters visible.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from baluarte.evidence.data import Lang
from baluarte.findings import Finding, Status
from baluarte.remediation import RemediationRecord, RemediationResult
from baluarte.run import RunRecord
from baluarte.timezones import RunZone
from reports.evidence.i18n import Formats
from reports.intervention.view_device import RESULT_ORDER, DeviceKey, device, other, result_names
from reports.intervention.words import Words
from reports.printed.signing import Signature, verify_command

__all__ = ["page"]

Item = TypeVar("Item", Finding, RemediationRecord)


def page(
    run: RunRecord,
    lang: Lang,
    *,
    timezone: RunZone,
    generated_at: datetime,
    signature: Signature | None = None,
) -> dict[str, Any]:
    """Everything the template shows, in ``lang``."""
    w = Words(lang)
    fmt = Formats(lang, timezone.name)
    findings = _by_device(run.findings)
    records = _by_device(run.remediations)
    devices = sorted(set(findings) | set(records))
    worked = [device(w, k, findings.get(k, []), records[k]) for k in devices if k in records]
    others = [other(w, key, findings.get(key, [])) for key in devices if key not in records]
    named = run.info.scope.get("client")  # a client in scope with nothing found is still named
    clients = sorted({key[0] for key in devices} | ({named} if named else set()))
    return {
        "lang": lang,
        "title": w._("Intervention report"),
        "clients": ", ".join(clients) or "—",
        "run_id": run.info.id,
        "running": w._("Run %(id)s", id=run.info.id),
        "generated": w._("Generated %(when)s", when=fmt.datetime(generated_at)),
        "generated_iso": generated_at.isoformat(timespec="seconds"),
        "verdict": _verdict(w, run),
        "verdict_level": _level(run),
        "facts": _facts(w, run, fmt),
        "zone_note": _zone_note(w, timezone),
        "tally": _tally(w, run.remediations),
        "devices": worked,
        "others": others,
        "signature": signature,
        "verify_command": verify_command(signature),
    }


def _by_device(items: Iterable[Item]) -> dict[DeviceKey, list[Item]]:
    out: dict[DeviceKey, list[Item]] = {}
    for item in items:
        out.setdefault((item.client, item.site, item.device), []).append(item)
    return out


def _facts(w: Words, run: RunRecord, fmt: Formats) -> list[dict[str, str]]:
    """Who, when, under which change: the lines a client signs off."""
    info = run.info
    tickets = sorted({r.ticket for r in run.remediations if r.ticket})
    approvers = sorted({r.approved_by for r in run.remediations if r.approved_by})
    person = info.operator_identity
    state = w._("interrupted: incomplete") if info.incomplete else w._("complete")
    return [
        {"label": w._("Run"), "value": w._("no. %(id)s, %(state)s", id=info.id, state=state)},
        {"label": w._("Started"), "value": fmt.datetime(info.started_at)},
        {"label": w._("Ended"), "value": fmt.datetime(info.ended_at)},
        {"label": w._("Technician responsible"),
         "value": str(person) if person is not None else w._("not recorded")},
        {"label": w._("Account that ran it"), "value": info.operator},
        {"label": w._("Change ticket"), "value": "; ".join(tickets) or w._("none given")},
        {"label": w._("Change approved by"), "value": "; ".join(approvers) or w._("none given")},
        {"label": w._("Tool"), "value": f"Baluarte {info.tool_version}"},
    ]  # fmt: skip


def _verified(records: Sequence[RemediationRecord]) -> int:
    return sum(
        1
        for r in records
        if r.result is RemediationResult.APPLIED and r.verification is Status.PASS
    )


def _level(run: RunRecord) -> str:
    """good: every change made and verified | partial | poor: none was | none: nothing was
    needed | stopped: the run was interrupted"""
    if run.info.incomplete:
        return "stopped"
    if not run.remediations:
        return "none"
    done = _verified(run.remediations)
    if done == len(run.remediations):
        return "good"
    return "partial" if done else "poor"


def _verdict(w: Words, run: RunRecord) -> str:
    level, total = _level(run), len(run.remediations)
    if level == "stopped":
        return w._(
            "The intervention was interrupted before it ended: this report says what was done "
            "until then."
        )
    if level == "none":
        return w._("Nothing needed changing: no control checked was failing.")
    if level == "good":
        return w._n(
            "The change was made and verified.", "All %(count)d changes were made and verified.",
            total,
        )  # fmt: skip
    if level == "poor":
        return w._n(
            "The change could not be made and verified: the reason is given below.",
            "None of the %(count)d changes could be made and verified: the reasons are given "
            "below.",
            total,
        )
    return w._n(
        "%(done)s of %(count)d change was made and verified; the rest are listed below with "
        "the reason.",
        "%(done)s of %(count)d changes were made and verified; the rest are listed below with "
        "the reason.",
        total,
        done=_verified(run.remediations),
    )


def _tally(w: Words, records: Sequence[RemediationRecord]) -> list[dict[str, Any]]:
    """How many changes ended each way, in ``RESULT_ORDER``, the ones that happened only."""
    seen = Counter(r.result for r in records)
    names = result_names(w)
    return [{"result": str(r), "name": names[r], "count": seen[r]} for r in RESULT_ORDER
            if seen[r]]  # fmt: skip


def _zone_note(w: Words, timezone: RunZone) -> str:
    if timezone.source == "inventory":
        return ""
    return w._(
        "Times in %(zone)s, the default: the inventory the run read has changed since, or it "
        "names different zones for the run's clients.",
        zone=timezone.name,
    )
