"""What a Windows fix script answers when it fails (its JSON answer's ``error``, or the error it
throws) is shown in Spanish in a Spanish pack: the executor's ``judge`` records it as the
remediation's detail, and the pack's remediation log shows that detail through ``phrase``. The
answers come from the lab's fix handlers (which answer as the scripts do) where the lab can
fail that way, and as the scripts word them where it cannot; the host's values stay as stored.
"""

from __future__ import annotations

import copy
import dataclasses
import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from baluarte.apply import command_lines
from baluarte.evidence.data import EvidenceData
from baluarte.lab.windows import WindowsState, load_state
from baluarte.lab.windows.engine import Handler, ScriptCall
from baluarte.lab.windows.remediations import FIX_HANDLERS, updates_install
from baluarte.lab.windows.shipped import shipped_state
from baluarte.remediation import RemediationRecord, RemediationResult, Remedy
from baluarte.transports.winrm import ScriptAnswer
from checks.policy.access import InsecureProtocols
from checks.policy.patching import SecurityUpdates
from checks.windows import parse
from deploys.windows import access, patching
from deploys.windows.executor import _step, judge
from reports.evidence import render_html
from reports.evidence.phrase_table import TEMPLATES
from reports.evidence.phrase_table_fixes import FIX_KINDS, FIX_TEMPLATES
from reports.evidence.phrases import phrase
from tests.unit.deploys.windows.test_windows_remedies import rctx

from ._sample import CLIENT, SITE, evidence_data

NET = "2c41e9d7-6a58-4f3b-b0e2-93d1c7a5f612"  # office-pc's pending KB5070012


def _office_pc(edit: dict[str, dict[str, Any]] | None = None) -> WindowsState:
    raw = copy.deepcopy(shipped_state("office-pc"))
    for check, values in (edit or {}).items():
        raw["output"]["checks"][check]["data"].update(values)
    return load_state(raw)


def _plan(control: str, host: WindowsState) -> Remedy:
    """The remedy the real planner makes for office-pc's failing ``control``."""
    ctx = rctx(parse.collected(copy.deepcopy(host.output)))
    facts = ctx.collected.facts
    if control == "patching.security_updates_pending":
        out = patching.security_updates_pending(facts["patching"], SecurityUpdates(max=0), ctx)
    else:
        out = access.insecure_admin_protocols(facts["access"], InsecureProtocols(), ctx)
    assert isinstance(out, Remedy), out
    return out


def _ran(
    control: str,
    host: WindowsState,
    handler: Handler | None = None,
    checked: WindowsState | None = None,
) -> RemediationRecord:
    """The remediation record apply writes when the lab host runs the fix planned on the host
    as ``checked`` (by default as it is): the executor's judgement of the answer, then the
    command transcript."""
    remedy = _plan(control, checked or host)
    step = _step(remedy)
    script = step.commands[0]
    handler = handler or FIX_HANDLERS[script[: script.index("\n") + 1]]
    result = handler(ScriptCall(script=script, state=host, now=datetime.now(UTC)))
    answer = ScriptAnswer(
        output=[str(o) for o in result.output],
        errors=[result.terminating_error] if result.terminating_error else [],
        had_errors=result.terminating_error is not None,
        terminating=result.terminating_error,
        requests=1,
        seconds=0.1,
    )
    ok, detail = judge(answer)
    assert not ok, detail
    action = "\n".join([remedy.summary, f"- {step.what}", *command_lines(step.commands, "    ")])
    return RemediationRecord(
        client=CLIENT,
        site=SITE,
        device="pc-recepcion",
        platform="windows",
        control=control,
        result=RemediationResult.FAILED,
        action=action,
        detail="\n".join([detail, *command_lines(step.commands)]),
    )


def _first_line(record: RemediationRecord) -> str:
    return record.detail.split("\n")[0]


def _not_found() -> RemediationRecord:
    return _ran("patching.security_updates_pending", _office_pc(), updates_install(gone=[NET]))


def _not_installed() -> RemediationRecord:
    return _ran("patching.security_updates_pending", _office_pc(), updates_install(failing=[NET]))


def _rdp_held_by_policy() -> RemediationRecord:
    # a Group Policy turned NLA off after the check: the fix sets it, the policy wins
    host = _office_pc({"rdp.nla": {"PolicyUserAuthentication": 0}})
    return _ran("access.insecure_admin_protocols", host, checked=_office_pc())


# the lab's failing fixes: (record, its detail's first line in a Spanish pack)
LAB = {
    "update-not-found": (
        _not_found,
        "Windows Update no encontró 1 de 2 actualizaciones (¿reemplazadas, ocultas o instaladas "
        f"después de la comprobación?): {NET}",
    ),
    "update-not-installed": (
        _not_installed,
        "1 de 2 actualizaciones instaladas (ResultCode 3 de Windows Update); sin instalar: "
        f"{NET} (ResultCode 4)",
    ),
    "rdp-nla-held-by-policy": (
        _rdp_held_by_policy,
        "RDP sigue sin exigir NLA (¿una directiva de grupo fija UserAuthentication a 0?)",
    ),
}


@pytest.mark.parametrize("case", sorted(LAB))
def test_a_lab_fix_failure_recorded_by_the_executor_in_spanish(case: str) -> None:
    make, spanish = LAB[case]
    stored = _first_line(make())
    assert phrase(stored, "es") == spanish, stored
    assert phrase(stored, "en") == stored


# what the scripts answer or throw where the lab does not fail that way, as judge records it
WORDED = [
    (
        "RealTimeProtectionEnabled is still False after Set-MpPreference: Tamper Protection or a "
        "Group Policy keeps real-time protection off",
        "RealTimeProtectionEnabled sigue en False después de Set-MpPreference: la protección "
        "contra alteraciones o una directiva de grupo mantiene desactivada la protección en "
        "tiempo real",
    ),
    (
        "signatures are still 9 days old after Update-MpSignature: check the update source "
        "(Windows Update, WSUS, UNC share)",
        "las firmas siguen teniendo 9 días de antigüedad después de Update-MpSignature: "
        "compruebe el origen de las actualizaciones (Windows Update, WSUS, recurso compartido "
        "UNC)",
    ),
    (
        "refused: WinRM (TCP 5985) from Baluarte's address (unknown) is not provably let in: "
        "Domain: the profile was not found; Private: AllowInboundRules False, so no allow rule "
        "counts; Public: Block rule Block all (BlockAll-In), Deny RM (DenyRM) wins over any "
        "allow; turning the firewall on would cut the connection Baluarte uses",
        "rechazado: nada demuestra que WinRM (TCP 5985) desde la dirección de Baluarte "
        "(desconocida) pueda entrar: Domain: no se encontró el perfil; Private: "
        "AllowInboundRules False, así que no cuenta ninguna regla de permiso; Public: la regla "
        "Block Block all (BlockAll-In), Deny RM (DenyRM) prevalece sobre cualquier permiso; "
        "activar el cortafuegos cortaría la conexión que usa Baluarte",
    ),
    (
        "refused: WinRM (TCP 5986) from 10.0.0.5 is not provably let in: Public: no rule "
        "provably lets WinRM in; turning the firewall on would cut the connection Baluarte uses",
        "rechazado: nada demuestra que WinRM (TCP 5986) desde 10.0.0.5 pueda entrar: Public: "
        "ninguna regla demuestra que WinRM pueda entrar; activar el cortafuegos cortaría la "
        "conexión que usa Baluarte",
    ),
    (
        "profiles Domain, Public still not on with inbound Block: a Group Policy wins over the "
        "local setting",
        "los perfiles Domain, Public siguen sin estar activados con la entrada en Block: una "
        "directiva de grupo prevalece sobre la configuración local",
    ),
    (
        "EnableSMB1Protocol is still True; SMB1Protocol feature is Enabled",
        "EnableSMB1Protocol sigue en True; la característica SMB1Protocol está en estado Enabled",
    ),
    (
        "the fix script stopped with an error: SetUserAuthenticationRequired(1) returned 2",
        "el script de corrección se detuvo con un error: SetUserAuthenticationRequired(1) "
        "devolvió 2",
    ),
    (
        "the fix script stopped with an error: not a Windows Update ID (GUID): 'KB5070001'",
        "el script de corrección se detuvo con un error: no es un ID de Windows Update (GUID): "
        "'KB5070001'",
    ),
    (
        "the fix script stopped with an error: no update IDs given",
        "el script de corrección se detuvo con un error: no se indicó ningún ID de actualización",
    ),
    (
        "the update task \\Baluarte\\WindowsUpdate-5f0c1d2e3b4a49588d7e6f5a4b3c2d1e did not "
        "finish within 3300 s; it is left to finish: check Get-ScheduledTask and the Windows "
        "Update history",
        "la tarea de actualización \\Baluarte\\WindowsUpdate-5f0c1d2e3b4a49588d7e6f5a4b3c2d1e no "
        "terminó en 3300 s; se deja que termine: compruebe Get-ScheduledTask y el historial de "
        "Windows Update",
    ),
    # the Windows Update Agent's own message stays as the host gave it
    ("Windows Update: Exception from HRESULT: 0x80240024", None),
]


@pytest.mark.parametrize(("stored", "spanish"), WORDED)
def test_a_fix_script_error_in_spanish(stored: str, spanish: str | None) -> None:
    assert phrase(stored, "es") == (spanish or stored)
    assert phrase(stored, "en") == stored


def test_the_fix_frames_have_slots_of_their_own():
    """Every kind the fix scripts' part declares is a slot of its frames and of no other: it
    changes how nothing else is read."""
    slots = re.compile(r"%\((\w+)\)s")
    own = {s for t in FIX_TEMPLATES for s in slots.findall(t)}
    others = {s for t in TEMPLATES if t not in FIX_TEMPLATES for s in slots.findall(t)}
    assert set(FIX_KINDS) <= own
    assert not set(FIX_KINDS) & others


def _pack(lang: str, records: tuple[RemediationRecord, ...]) -> str:
    data: EvidenceData = evidence_data(lang)  # type: ignore[arg-type]
    runs = tuple(
        r.model_copy(update={"remediations": records}) if r.remediations else r for r in data.runs
    )
    return html.unescape(render_html(dataclasses.replace(data, runs=runs)))


def test_a_failed_windows_fix_in_the_spanish_remediation_log() -> None:
    """A record as apply writes it when a fix script failed: the Spanish pack's remediation
    log says why in Spanish, the English pack as stored; the record keeps its English."""
    records = (_not_found(), _rdp_held_by_policy())
    spanish = " ".join(_pack("es", records).split())
    for case in ("update-not-found", "rdp-nla-held-by-policy"):
        assert LAB[case][1] in spanish, case
    for english in ("not found by Windows Update", "still does not require NLA"):
        assert english not in spanish, english
    english_pack = " ".join(_pack("en", records).split())
    for record in records:
        assert _first_line(record) in english_pack
    assert "no encontró" not in english_pack
