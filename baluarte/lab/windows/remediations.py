"""The lab's answers to Baluarte's Windows fix scripts (``deploys/windows/ps/*.ps1``).

A fix script starts with ``# baluarte-windows-fix id=<fix-id>`` and carries its parameters as
a hashtable (``$baluarteParameters = @{ Name = value … }``). Each handler reads them, changes
the served state document as the real script changes the host — so the next check script sees
the change — and answers ONE JSON string ``{changed, before, after, rebootRequired?, error?}``.
``-DryRun`` changes nothing. Times written to the state are the state's own clock
(``host.Now``): the server shifts them to the present like every other timestamp.

    win.faults.add(Fault("ps_terminating", script=FIX_MARKER + "firewall-profiles"))
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable, Collection, Mapping
from functools import partial
from typing import Any

from baluarte.lab.windows import firewall
from baluarte.lab.windows.engine import Handler, ScriptCall, ScriptResult
from checks.windows.patching_categories import SECURITY, counts_as_update, origins

__all__ = ["FIX_HANDLERS", "FIX_MARKER", "script_parameters", "updates_install"]

_CRITICAL = "e6cf1350-c01b-414d-a61f-263d14d133b4"  # the Critical Updates classification

FIX_MARKER = "# baluarte-windows-fix id="
_PARAM_LINE = re.compile(r"^\s+(\w+) = (.+)$")
# a single-quoted literal: any of PowerShell's quote characters inside is doubled
_STRING = re.compile("'((?:[^'\u2018-\u201b]|(['\u2018-\u201b])\\2)*)'")
_DOUBLED = re.compile("(['\u2018-\u201b])\\1")


def _value(text: str) -> Any:
    text = text.strip()
    if text in ("$true", "$false"):
        return text == "$true"
    if text.startswith("@(") and text.endswith(")"):
        return [_DOUBLED.sub(r"\1", m[0]) for m in _STRING.findall(text[2:-1])]
    if text.startswith("'"):
        return _DOUBLED.sub(r"\1", text[1:-1])
    return int(text) if text.lstrip("-").isdigit() else text


def script_parameters(script: str) -> dict[str, Any]:
    """The ``$baluarteParameters`` hashtable of a fix script's text, as Python values."""
    out: dict[str, Any] = {}
    inside = False
    for line in script.splitlines():
        if line.startswith("$baluarteParameters = @{"):
            inside = True
        elif inside and line == "}":
            break
        elif inside:
            match = _PARAM_LINE.match(line)
            if match:
                out[match.group(1)] = _value(match.group(2))
    return out


class _Failed(Exception):
    """The host's cmdlet would throw: the pipeline ends Failed with this message."""


def _data(doc: dict[str, Any], check: str) -> Any:
    entry = doc["checks"].get(check) or {}
    if not entry.get("ok"):
        raise _Failed(str(entry.get("error") or f"{check} is not readable on this host"))
    return entry["data"]


# A fix: (state document to change in place, parameters, host clock) -> the script's answer.
_Fix = Callable[[dict[str, Any], dict[str, Any], str], dict[str, Any]]


def _defender_realtime(doc: dict[str, Any], params: dict[str, Any], now: str) -> dict[str, Any]:
    data = _data(doc, "defender.status")
    before = {"RealTimeProtectionEnabled": bool(data["RealTimeProtectionEnabled"])}
    if before["RealTimeProtectionEnabled"] or params.get("DryRun"):
        return {"changed": False, "before": before, "after": before}
    data["RealTimeProtectionEnabled"] = True
    data["DisableRealtimeMonitoringPref"] = False
    after = {"RealTimeProtectionEnabled": True, "IsTamperProtected": data["IsTamperProtected"]}
    return {"changed": True, "before": before, "after": after}


def _signatures(data: dict[str, Any]) -> dict[str, Any]:
    keys = ("AntivirusSignatureVersion", "AntivirusSignatureLastUpdated", "AntivirusSignatureAge")
    return {k: data.get(k) for k in keys}


def _defender_signatures(doc: dict[str, Any], params: dict[str, Any], now: str) -> dict[str, Any]:
    data = _data(doc, "defender.status")
    before = _signatures(data)
    if params.get("DryRun"):
        return {"changed": False, "before": before, "after": before}
    major, _, rest = str(data.get("AntivirusSignatureVersion") or "1.0.0.0").partition(".")
    minor = rest.split(".")[0] if rest else "0"
    data["AntivirusSignatureVersion"] = f"{major}.{int(minor or 0) + 2}.0.0"
    data["AntivirusSignatureLastUpdated"] = now
    data["AntivirusSignatureAge"] = 0
    data["DefenderSignaturesOutOfDate"] = False
    return {"changed": True, "before": before, "after": _signatures(data)}


def _firewall(doc: dict[str, Any], params: dict[str, Any], now: str) -> dict[str, Any]:
    names = list(params.get("Profiles") or [])
    rows = [p for p in _data(doc, "firewall.profiles") if p["Name"] in names]
    _data(doc, "firewall.rules")  # the script reads the rules first: unreadable, it stops
    keys = ("Name", "Enabled", "DefaultInboundAction")
    before = [{k: p[k] for k in keys} for p in rows]
    answer: dict[str, Any] = {"changed": False, "before": before, "after": before}
    port = int(params.get("WinrmPort") or 0)
    address = str(params.get("BaluarteAddress") or "")
    answer["winrmRules"] = firewall.admitting_rules(doc, names, port, address)
    problems = firewall.guard_refusal(doc, names, port, address)
    if problems:
        who = address or "Baluarte's address (unknown)"
        answer["error"] = (
            f"refused: WinRM (TCP {port}) from {who} is not provably let in: "
            f"{'; '.join(problems)}; turning the firewall on would cut the connection Baluarte uses"
        )
    elif not params.get("DryRun"):
        for row in rows:
            row.update(Enabled="True", DefaultInboundAction="Block")
        answer.update(changed=True, after=[{k: p[k] for k in keys} for p in rows])
    return answer


def _insecure(doc: dict[str, Any], params: dict[str, Any], now: str) -> dict[str, Any]:
    smb, rdp = _data(doc, "smb1"), _data(doc, "rdp.nla")

    def state() -> dict[str, Any]:
        out: dict[str, Any] = {}
        if params.get("Smb1Server"):
            out["EnableSMB1Protocol"] = bool(smb["ServerEnableSMB1Protocol"])
        if params.get("Smb1Feature"):
            out["SMB1FeatureState"] = smb["SMB1FeatureState"]
        if params.get("RdpNla"):
            out["UserAuthenticationRequired"] = 1 if rdp.get("NlaRequiredEffective") else 0
        return out

    before = state()
    if params.get("DryRun"):
        return {"changed": False, "before": before, "after": before, "rebootRequired": False}
    reboot = False
    if params.get("Smb1Server"):
        smb["ServerEnableSMB1Protocol"] = False
    if params.get("Smb1Feature"):
        smb["SMB1FeatureState"] = "DisablePending"
        reboot = True
        _reboot_pending(doc, "CBSRebootPending", now)
    error = None
    if params.get("RdpNla"):
        rdp["UserAuthentication"] = 1
        if rdp.get("PolicyUserAuthentication") == 0:  # the Group Policy value wins
            error = "RDP still does not require NLA (a Group Policy sets UserAuthentication 0?)"
        else:
            rdp["NlaRequiredEffective"] = True
    answer = {"changed": True, "before": before, "after": state(), "rebootRequired": reboot}
    return answer | ({"error": error} if error else {})


def _reboot_pending(doc: dict[str, Any], signal: str, now: str) -> None:
    entry = doc["checks"].get("reboot.pending") or {}
    data = entry.get("data") if entry.get("ok") else None
    if not isinstance(data, dict):
        return
    data.setdefault("Signals", {})[signal] = True
    if not data.get("RebootPending"):
        data["RebootPending"] = True
        data["Since"] = now
        data["SinceSource"] = "Baluarte lab: a fix needing a reboot"


def _update_ids(params: dict[str, Any]) -> list[str]:
    """The fix's UpdateIds as its outer script validates them: GUIDs, or it throws."""
    ids: list[str] = []
    for text in params.get("UpdateIds") or []:
        try:
            ids.append(str(uuid.UUID(str(text))))
        except ValueError:
            raise _Failed(f"not a Windows Update ID (GUID): '{text}'") from None
    if not ids:
        raise _Failed("no update IDs given")
    return ids


def _uid(update: Mapping[str, Any]) -> str:
    return str(update.get("UpdateID") or "").lower()


def _recount(pending: dict[str, Any]) -> None:
    rest = pending["Updates"]
    pending["PendingCount"] = len(rest)
    pending["SecurityCount"] = sum(
        bool(SECURITY & set(origins(u.get("Categories", []), u.get("CategoryIDs", []))))
        or u.get("MsrcSeverity") in ("Critical", "Important")
        for u in rest
    )
    pending["CriticalCount"] = sum(_CRITICAL in u.get("CategoryIDs", []) for u in rest)


def _record_installs(doc: dict[str, Any], done: list[dict[str, Any]], now: str) -> None:
    installed = _data(doc, "updates.installed")
    entries = [
        {
            "Title": u["Title"],
            "UpdateID": _uid(u),
            "Date": now,
            "ResultCode": 2,
            "CategoryIDs": list(u.get("CategoryIDs", [])),
        }
        for u in done
    ]
    installed["History"] = entries + list(installed.get("History") or [])
    for update in done:  # Get-HotFix lists CBS packages only: not drivers, definitions or MSRT
        if counts_as_update(update["Title"], update.get("CategoryIDs", [])):
            for kb in update.get("KB") or ():
                installed.setdefault("HotFixes", []).append(
                    {"HotFixID": kb, "Description": "Update", "InstalledOn": now}
                )
    installed["HotFixCount"] = len(installed.get("HotFixes", []))


def _updates(
    doc: dict[str, Any],
    params: dict[str, Any],
    now: str,
    gone: frozenset[str] = frozenset(),
    failing: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    ids = _update_ids(params)
    before = {"pending": ids}
    if params.get("DryRun"):
        return {"changed": False, "before": before, "after": before, "rebootRequired": False}
    pending = _data(doc, "updates.pending")
    # the task's search as SYSTEM: what is still offered, matched on UpdateID only
    found = [u for u in pending["Updates"] if _uid(u) in ids and _uid(u) not in gone]
    history = _data(doc, "updates.installed").get("History") or []
    done_before = {_uid(h) for h in history} - gone  # installed since the check: done
    rest = [i for i in ids if i not in {_uid(u) for u in found}]
    already = [i for i in rest if i in done_before]
    not_found = [i for i in rest if i not in done_before]
    done = [u for u in found if _uid(u) not in failing]
    failed = [f"{_uid(u)} (ResultCode 4)" for u in found if _uid(u) in failing]
    pending["Updates"] = [u for u in pending["Updates"] if u not in done]
    _recount(pending)
    if done:
        _record_installs(doc, done, now)
    reboot = any(u.get("RebootRequired") for u in done)
    if reboot:
        _reboot_pending(doc, "WURebootRequired", now)
    code = None if not found else 2 if not failed else 3 if done else 4
    after = {
        "installed": [_uid(u) for u in done],
        "alreadyInstalled": already,
        "failed": failed,
        "notFound": not_found,
        "resultCode": code,
        "finished": now,
    }
    answer = {"changed": bool(done), "before": before, "after": after, "rebootRequired": reboot}
    # the outer script's judgement: anything not found, or fewer installed than asked, fails
    if not_found:
        answer["error"] = (
            f"{len(not_found)} of {len(ids)} updates not found by Windows Update (superseded, "
            f"hidden or installed since the check?): {', '.join(not_found)}"
        )
    elif len(done) + len(already) < len(ids):
        answer["error"] = (
            f"{len(done)} of {len(ids)} updates installed (Windows Update ResultCode {code}); "
            f"not installed: {', '.join(failed)}"
        )
    return answer


def updates_install(gone: Collection[str] = (), failing: Collection[str] = ()) -> Handler:
    """The updates-install handler on a host where the updates ``gone`` (UpdateIDs) are no
    longer offered (superseded or installed since the check) and ``failing`` fail to install."""
    lost = frozenset(str(uuid.UUID(i)) for i in gone)
    broken = frozenset(str(uuid.UUID(i)) for i in failing)
    return _handler(partial(_updates, gone=lost, failing=broken))


def _handler(fix: _Fix) -> Handler:
    def handle(call: ScriptCall) -> ScriptResult:
        doc = copy.deepcopy(call.state.output)
        now = str(doc["host"]["Now"])  # the state's clock: shifted to the present when served
        try:
            # bound as PSRP parameters (apply), else written into the text (a plan's invocation)
            params = dict(call.parameters) or script_parameters(call.script)
            answer = fix(doc, params, now)
        except _Failed as exc:
            return ScriptResult(terminating_error=str(exc))
        state = call.state.model_copy(update={"output": doc})
        text = json.dumps(answer, separators=(",", ":"))
        return ScriptResult(output=(text,), state=state)

    return handle


_FIXES: Mapping[str, _Fix] = {
    "defender-realtime": _defender_realtime,
    "defender-signatures": _defender_signatures,
    "firewall-profiles": _firewall,
    "insecure-protocols": _insecure,
    "updates-install": _updates,
}
FIX_HANDLERS: Mapping[str, Handler] = {
    f"{FIX_MARKER}{fix}\n": _handler(function) for fix, function in _FIXES.items()
}
