"""The intervention report, per device: each change with before → after, what was done or why
not, and the control's status at the re-check; the device's other controls; and the devices
nothing was planned for (pure, as ``view``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from baluarte.findings import Finding, Status
from baluarte.remediation import RemediationRecord, RemediationResult, backup_of
from reports.evidence.view_history import _prose  # a record's lines that are not commands
from reports.intervention.words import Words
from reports.json_report import load_controls

__all__ = ["RESULT_ORDER", "DeviceKey", "device", "other", "result_names", "status_names"]

# what was done first, then what was not, then what is left to a technician
RESULT_ORDER = (
    RemediationResult.APPLIED,
    RemediationResult.FAILED,
    RemediationResult.NOT_RUN,
    RemediationResult.REFUSED,
    RemediationResult.MANUAL,
)
_STATUS_ORDER = (Status.FAIL, Status.ERROR, Status.WAIVED, Status.NOT_APPLICABLE, Status.PASS)
_PLATFORMS = {"linux": "Linux", "windows": "Windows", "fortigate": "FortiGate"}
DeviceKey = tuple[str, str, str]


def result_names(w: Words) -> dict[RemediationResult, str]:
    return {
        RemediationResult.APPLIED: w._("Changed"),
        RemediationResult.FAILED: w._("Failed"),
        RemediationResult.NOT_RUN: w._("Not run"),
        RemediationResult.REFUSED: w._("Refused"),
        RemediationResult.MANUAL: w._("Deferred (manual)"),
    }


def status_names(w: Words) -> dict[Status, str]:
    """The evidence report's names (the report catalogues): "Cumple", "No cumple"…"""
    return {
        Status.PASS: w.plain("Pass"),
        Status.FAIL: w.plain("Fail"),
        Status.ERROR: w.plain("Error"),
        Status.WAIVED: w.plain("Waived"),
        Status.NOT_APPLICABLE: w.plain("Not applicable"),
    }


def _platform(name: str) -> str:
    return _PLATFORMS.get(name, name)


def _title(w: Words, control: str) -> str:
    ctl = load_controls().get(control)
    return w.plain(ctl.title) if ctl is not None else control


def device(
    w: Words, key: DeviceKey, findings: Sequence[Finding], records: Sequence[RemediationRecord]
) -> dict[str, Any]:
    """A device something was planned for: its changes, its backups, the rest of its checks."""
    changed = {r.control for r in records}
    order = {r: i for i, r in enumerate(RESULT_ORDER)}
    rows = [_change(w, r) for r in sorted(records, key=lambda r: (order[r.result], r.control))]
    notes = _shared_reasons(rows)
    backups = sorted({b for r in records if (b := backup_of(r)) is not None})
    untouched = [f for f in findings if f.control not in changed]
    return {
        "client": key[0],
        "site": key[1],
        "device": key[2],
        "platform": _platform(records[0].platform),
        "checked": w._n("%(count)d control checked", "%(count)d controls checked", len(findings)),
        "found": w._n(
            "%(count)d not met before the intervention",
            "%(count)d not met before the intervention",
            len(records),
        ),
        "after": _counts(w, findings),
        "backups": [{"path": path, "sha256": sha} for path, sha in backups],
        # made or attempted, with before → after; the manual ones after them, as work to do
        "changes": [row for row in rows if row["result"] != RemediationResult.MANUAL],
        "deferred": [row for row in rows if row["result"] == RemediationResult.MANUAL],
        "notes": [{"n": n, "text": text} for n, text in enumerate(notes, 1)],
        "unchanged": _unchanged(w, untouched),
    }


def _change(w: Words, r: RemediationRecord) -> dict[str, Any]:
    """One record: the change (or why there was none), before → after, the re-check."""
    if r.result in (RemediationResult.MANUAL, RemediationResult.REFUSED):
        # nothing was planned to run: the record's action and detail are the reason
        what, why = "", w.stored(r.detail or r.action)
    else:
        # the planned change's summary (its first line), and what stopped it when it did not apply
        summary = _prose(r.action)[:1]
        what = w.stored(summary[0]) if summary else ""
        why = ""
        if r.result is not RemediationResult.APPLIED:
            what = w._("Planned: %(change)s", change=what) if what else ""
            why = "\n".join(w.stored(line) for line in _prose(r.detail))
    verified = r.verification
    return {
        "control": r.control,
        "title": _title(w, r.control),
        "result": str(r.result),
        "result_name": result_names(w)[r.result],
        "what": what,
        "why": why,
        "before": w.stored(r.before),
        "after": w.stored(r.after),
        "verified": str(verified) if verified is not None else "none",
        "verified_name": status_names(w)[verified] if verified is not None
        else w._("not re-checked"),
    }  # fmt: skip


def _shared_reasons(rows: list[dict[str, Any]]) -> list[str]:
    """A reason several of a device's rows give (a unit that refused its backup fails every
    change) is written once, under the table, and those rows point to it by number."""
    seen = Counter(row["why"] for row in rows if row["why"])
    notes: list[str] = []
    for row in rows:
        why = row["why"]
        row["note"] = None
        if why and seen[why] > 1:
            if why not in notes:
                notes.append(why)
            row["note"], row["why"] = notes.index(why) + 1, ""
    return notes


def _counts(w: Words, findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """How many of ``findings`` ended each way, failures first, the statuses that occur only."""
    names = status_names(w)
    seen = Counter(f.status for f in findings)
    return [{"status": str(s), "name": names[s], "count": seen[s]} for s in _STATUS_ORDER
            if seen[s]]  # fmt: skip


def _unchanged(w: Words, findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """The device's other controls by status as re-checked; a control that could not be
    read with its reason (an error is never a pass)."""
    status = status_names(w)
    out = []
    for s in _STATUS_ORDER:
        own = sorted((f for f in findings if f.status is s), key=lambda f: f.control)
        if own:
            out.append(
                {
                    "status": str(s),
                    "name": status[s],
                    "controls": [
                        {
                            "control": f.control,
                            "title": _title(w, f.control),
                            "reason": w.stored(f.reason or "") if s is Status.ERROR else "",
                        }
                        for f in own
                    ],
                }
            )
    return out


def other(w: Words, key: DeviceKey, findings: Sequence[Finding]) -> dict[str, Any]:
    """A device with nothing planned: checked, and its results; or why it could not be."""
    unread = [f for f in findings if f.status is Status.ERROR]
    reasons = sorted({w.stored(f.reason) for f in unread if f.reason})
    return {
        "client": key[0],
        "site": key[1],
        "device": key[2],
        "platform": _platform(findings[0].platform) if findings else "",
        "checked": len(findings),
        "after": _counts(w, findings),
        "reasons": reasons[:3],
    }
