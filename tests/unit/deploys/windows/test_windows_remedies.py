"""Windows remedies: facts (parsed from the shipped lab states) + params + context → Remedy /
Manual / Refused / None; the fix scripts; the executor's preview and its reading of answers."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import tree_sitter
import tree_sitter_powershell

from baluarte.apply import DeviceWork
from baluarte.collected import Collected, CollectOptions
from baluarte.controls import EvalContext, catalogue
from baluarte.inventory import Client, Device, DeviceRef, Site
from baluarte.lab.windows.remediations import script_parameters
from baluarte.lab.windows.shipped import shipped_state
from baluarte.plan import DevicePlan
from baluarte.remediation import Manual, Refused, Remedy, RemedyContext
from baluarte.transports.winrm import ScriptAnswer
from checks.policy.access import InsecureProtocols
from checks.policy.base import Required
from checks.policy.endpoint import ProductRequired, SignatureAge
from checks.policy.patching import MaxCount, SecurityUpdates
from checks.windows import parse
from checks.windows.script import changing_commands
from deploys.windows import MANUAL, REMEDIES, access, endpoint, firewall, patching
from deploys.windows.executor import EXECUTOR, judge
from deploys.windows.fixes import (
    FIX_IDS,
    FIX_MARKER,
    PS_DIR,
    fix_id,
    fix_script,
    invocation,
    literal,
)

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
FORBIDDEN = ("Disable-PSRemoting", "Stop-Service", "Set-Service", "Remove-NetFirewallRule")
ME = "192.168.1.50"  # Baluarte's address, inside office-pc's LocalSubnet (192.168.1.0/24)
WINRM_RULE = {
    "Name": "Baluarte-WinRM-In",
    "DisplayName": "WinRM from the provider (Baluarte)",
    "Group": "",
    "Profile": "Any",
    "Protocol": "TCP",
    "LocalPort": ["5985"],
    "RemoteAddress": ["192.168.1.0/24"],
    "Program": "System",
    "Enabled": "True",
    "Direction": "Inbound",
    "Action": "Allow",
    "Source": "Local",
    "LocalAddress": ["Any"],
    "Package": "",
    "Service": "Any",
    "InterfaceType": "Any",
    "InterfaceAlias": ["Any"],
    "Authentication": "NotRequired",
}


def state(name: str = "office-pc", *, rules: list[dict[str, Any]] | None = None) -> Collected:
    doc = copy.deepcopy(shipped_state(name)["output"])
    if rules is not None:
        doc["checks"]["firewall.rules"]["data"]["Rules"] = rules
    return parse.collected(doc)


def rctx(collected: Collected, *, peer: str = ME, port: int = 5985) -> RemedyContext:
    device = Device(
        name="pc1",
        platform="windows",
        address="192.168.1.20",
        port=port,
        winrm={"user": "baluarte", "password": "env:NOPE", "auth": "ntlm", "https": False},
    )
    identity = collected.identity.model_copy(update={"peer": peer})
    now = EvalContext(now=datetime.now(UTC))
    return RemedyContext(
        device=device, collected=collected.model_copy(update={"identity": identity}), ctx=now
    )


def remedy(result: Remedy | Manual | Refused | None) -> Remedy:
    assert isinstance(result, Remedy), result
    return result


def broken(source: str) -> bool:
    return PARSER.parse(source.encode("utf-8")).root_node.has_error


# -- catalogue coverage and scripts --------------------------------------------------------------


def test_every_windows_control_has_a_remedy_or_a_manual_text() -> None:
    windows = {c.id for c in catalogue().values() if "windows" in c.platforms}
    assert windows == set(REMEDIES) | set(MANUAL)
    assert not set(REMEDIES) & set(MANUAL)
    assert all(len(text) > 40 for text in MANUAL.values())


def test_there_is_one_script_per_fix_and_nothing_else() -> None:
    assert sorted(p.stem for p in PS_DIR.glob("*.ps1")) == sorted(FIX_IDS)


@pytest.mark.parametrize("fix", FIX_IDS)
def test_every_fix_script_parses_starts_with_its_marker_and_never_touches_winrm(fix: str) -> None:
    text = fix_script(fix)
    assert text.splitlines()[0] == f"{FIX_MARKER}{fix}"
    assert fix_id(text) == fix
    assert "param(" in text and "ConvertTo-Json -Compress" in text
    assert not broken(text)
    wrapped = invocation(text, {"Profiles": ["Private", "Public"], "WinrmPort": 5985})
    assert not broken(wrapped)
    commands = {c.lower() for c in changing_commands(text, "fix") + _commands(text)}
    assert not commands & {f.lower() for f in FORBIDDEN}, commands
    assert "winrm" not in " ".join(line for line in text.splitlines() if "Service" in line)


def _commands(text: str) -> list[str]:
    names: list[str] = []
    stack = [PARSER.parse(text.encode()).root_node]
    while stack:
        node = stack.pop()
        if node.type == "command_name" and node.text is not None:
            names.append(node.text.decode())
        stack.extend(node.children)
    return names


def test_the_update_tasks_own_script_parses_too() -> None:
    text = fix_script("updates-install")
    inner = _inner(text)
    assert "Microsoft.Update.Session" in inner and not broken(inner)
    # as the task runs it: the IDs written in as a string-array literal
    ids = "'8f6a3c52-1b7e-4d0a-9c31-5e2f7a9b4d01', '2c41e9d7-6a58-4f3b-b0e2-93d1c7a5f612'"
    assert not broken(inner.replace("__WANTED__", ids).replace("__RESULT__", r"C:\x.json"))
    assert "Register-ScheduledTask" in _commands(text)
    assert "Unregister-ScheduledTask" in _commands(text)


def test_the_gate_would_catch_a_forbidden_command() -> None:
    injected = fix_script("firewall-profiles") + "\nStop-Service WinRM\n"
    assert "Stop-Service" in _commands(injected)


def test_parameters_render_as_powershell_and_read_back_in_the_lab() -> None:
    params = {"Titles": ["KB1 'quoted'", "two, with comma"], "TimeoutSeconds": 30, "RdpNla": True}
    text = invocation(fix_script("updates-install"), params)
    assert text.startswith(f"{FIX_MARKER}updates-install\n$baluarteParameters = @{{\n")
    assert "    Titles = @('KB1 ''quoted''', 'two, with comma')\n" in text
    assert text.rstrip().endswith("} @baluarteParameters")
    assert script_parameters(text) == params
    assert not broken(text)


def test_every_powershell_quote_character_is_doubled_so_a_value_stays_a_value() -> None:
    # PowerShell ends a single-quoted string at ‘ ’ ‚ ‛ as well as at '
    hostile = "KB1\u2019; Stop-Service WinRM; \u2018"
    params = {"Titles": [hostile, "it's"], "Note": "a\u201bb\u201ac"}
    text = invocation(fix_script("updates-install"), params)
    assert "    Titles = @('KB1\u2019\u2019; Stop-Service WinRM; \u2018\u2018', 'it''s')\n" in text
    assert "    Note = 'a\u201b\u201bb\u201a\u201ac'\n" in text
    assert script_parameters(text) == params
    for quote in "'\u2018\u2019\u201a\u201b":
        inner = literal(f"x{quote}y")[1:-1]
        assert inner == f"x{quote}{quote}y"


# -- remedies on the office PC, none on the hardened host ---------------------------------------


PARAMS: dict[str, Any] = {
    "patching.security_updates_pending": SecurityUpdates(max=0),
    "patching.updates_pending": MaxCount(max=5),
    "firewall.enabled": Required(),
    "firewall.default_inbound_deny": Required(),
    "endpoint.realtime_protection": ProductRequired(),
    "endpoint.signatures_current": SignatureAge(max_days=2),
    "access.insecure_admin_protocols": InsecureProtocols(forbidden=("smbv1", "rdp_without_nla")),
}
DOMAIN = {cid: cid.split(".")[0] for cid in PARAMS}


def test_a_compliant_host_gets_no_remedy() -> None:
    hardened = rctx(state("hardened"))
    for cid, function in REMEDIES.items():
        facts = hardened.collected.facts[DOMAIN[cid]]
        assert function(facts, PARAMS[cid], hardened) is None, cid


def test_defender_remedies_run_their_fix_scripts() -> None:
    ctx = rctx(state())
    facts = ctx.collected.facts["endpoint"]
    realtime = remedy(endpoint.realtime_protection(facts, ProductRequired(), ctx))
    assert realtime.script == fix_script("defender-realtime") and realtime.parameters == {}
    assert "RealTimeProtectionEnabled False" in realtime.before
    signatures = remedy(endpoint.signatures_current(facts, SignatureAge(max_days=2), ctx))
    assert signatures.script == fix_script("defender-signatures")
    assert "Update-MpSignature" in signatures.summary
    sophos = endpoint.realtime_protection(facts, ProductRequired(product="sophos"), ctx)
    assert isinstance(sophos, Manual) and "console" in sophos.text


def test_defender_signatures_fix_takes_the_policy_s_max_days_as_a_typed_parameter() -> None:
    ctx = rctx(state())
    facts = ctx.collected.facts["endpoint"]
    signatures = remedy(endpoint.signatures_current(facts, SignatureAge(max_days=5), ctx))
    assert signatures.parameters == {"MaxDays": 5}
    text = invocation(signatures.script, signatures.parameters)
    assert script_parameters(text) == {"MaxDays": 5}
    # the script compares with it, not with a day of its own, and declares it an [int]
    assert "[int]$MaxDays" in signatures.script
    assert "AntivirusSignatureAge -gt $MaxDays" in signatures.script
    assert "-gt 1" not in signatures.script


def test_insecure_protocols_fix_only_what_the_facts_say_is_wrong() -> None:
    ctx = rctx(state())
    facts = ctx.collected.facts["access"]
    both = remedy(access.insecure_admin_protocols(facts, PARAMS[_ACCESS], ctx))
    assert both.script == fix_script("insecure-protocols")
    # removing the feature takes minutes: the shell waits for it rather than stop DISM midway
    assert both.parameters == {
        "Smb1Server": True,
        "Smb1Feature": True,
        "RdpNla": True,
        "TimeoutSeconds": access.FEATURE_SECONDS,
    }
    assert access.FEATURE_SECONDS >= 600
    assert "reboot" in both.after
    only_rdp = access.insecure_admin_protocols(
        facts, InsecureProtocols(forbidden=("rdp_without_nla",)), ctx
    )
    assert remedy(only_rdp).parameters == {"RdpNla": True}
    doc = copy.deepcopy(shipped_state("office-pc")["output"])
    doc["checks"]["rdp.nla"]["data"]["PolicyUserAuthentication"] = 0
    gpo = rctx(parse.collected(doc))
    result = access.insecure_admin_protocols(
        gpo.collected.facts["access"], InsecureProtocols(forbidden=("rdp_without_nla",)), gpo
    )
    assert isinstance(result, Manual) and "Group Policy" in result.text


_ACCESS = "access.insecure_admin_protocols"


def test_updates_remedies_list_exactly_the_updates_they_install() -> None:
    ctx = rctx(state())
    facts = ctx.collected.facts["patching"]
    security = remedy(patching.security_updates_pending(facts, SecurityUpdates(max=0), ctx))
    ids = security.parameters["UpdateIds"]
    assert ids == ["8f6a3c52-1b7e-4d0a-9c31-5e2f7a9b4d01", "2c41e9d7-6a58-4f3b-b0e2-93d1c7a5f612"]
    assert "Titles" not in security.parameters
    assert security.parameters["TimeoutSeconds"] == patching.TIMEOUT_SECONDS
    assert "(KB5070001)" in security.before and "(KB5070012)" in security.after
    everything = remedy(patching.updates_pending(facts, MaxCount(max=5), ctx))
    assert len(everything.parameters["UpdateIds"]) == 6
    assert "Intel Corporation - Display - 32.0.101.6979" in everything.before
    assert not broken(invocation(everything.script, everything.parameters))


def test_an_update_without_an_update_id_refuses_the_fix_instead_of_matching_titles() -> None:
    doc = copy.deepcopy(shipped_state("office-pc")["output"])
    del doc["checks"]["updates.pending"]["data"]["Updates"][1]["UpdateID"]  # an older document
    ctx = rctx(parse.collected(doc))
    facts = ctx.collected.facts["patching"]
    result = patching.security_updates_pending(facts, SecurityUpdates(max=0), ctx)
    assert isinstance(result, Refused), result
    assert "no Windows Update ID" in result.reason and "(KB5070012)" in result.reason
    assert "KB5070001" not in result.reason  # only the one without an ID is named
    assert isinstance(patching.updates_pending(facts, MaxCount(max=5), ctx), Refused)


def _inner(text: str) -> str:
    return text.split("$inner = @'\n", 1)[1].split("\n'@", 1)[0]


def test_the_update_fix_matches_update_ids_and_never_parses_json_for_its_input() -> None:
    text = fix_script("updates-install")
    assert "param([string[]]$UpdateIds," in text
    # PowerShell 5.1's ConvertFrom-Json emits a JSON array as ONE object: never for the IDs
    assert "ConvertFrom-Json" not in _inner(text)
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert sum("ConvertFrom-Json" in line for line in code) == 1  # the result file: an object
    assert "[guid]::TryParse" in text
    assert "$wanted = [string[]]@(__WANTED__)" in _inner(text)
    assert "Identity.UpdateID" in _inner(text) and ".Title" not in _inner(text)


def test_the_update_fix_fails_on_updates_not_found_or_not_installed() -> None:
    text = fix_script("updates-install")
    judged = text.split("Remove-Item -LiteralPath $resultFile -Force", 1)[1]
    assert "} elseif ($notFound.Count -gt 0) {\n        $result['error'] =" in judged
    fewer = "} elseif ($installedIds.Count + $already.Count -lt $ids.Count) {\n"
    assert fewer + "        $result['error'] =" in judged


# -- the WinRM lockout guard ---------------------------------------------------------------------


def test_firewall_remedy_with_a_rule_that_keeps_winrm_reachable() -> None:
    rules = [*shipped_state("office-pc")["output"]["checks"]["firewall.rules"]["data"]["Rules"]]
    ctx = rctx(state(rules=[*rules, WINRM_RULE]))
    facts = ctx.collected.facts["firewall"]
    fix = remedy(firewall.enabled(facts, Required(), ctx))
    assert fix.script == fix_script("firewall-profiles")
    assert fix.parameters == {
        "Profiles": ["Private", "Public"],
        "WinrmPort": 5985,
        "BaluarteAddress": ME,
    }
    assert fix == firewall.default_inbound_deny(facts, Required(), ctx)
    assert "-Public off" in fix.diff and "+Public on, inbound Block" in fix.diff


def test_firewall_guard_refuses_without_a_winrm_rule() -> None:
    rules = shipped_state("office-pc")["output"]["checks"]["firewall.rules"]["data"]["Rules"]
    no_winrm = [r for r in rules if not r["Name"].startswith("WINRM")]
    ctx = rctx(state(rules=no_winrm))
    result = firewall.enabled(ctx.collected.facts["firewall"], Required(), ctx)
    assert isinstance(result, Refused)
    assert "TCP 5985" in result.reason and "lock Baluarte out" in result.reason
    assert "Public: no rule provably lets WinRM in" in result.reason


def test_firewall_guard_refuses_when_the_shipped_rule_does_not_cover_every_profile() -> None:
    # office-pc's own WinRM rule: Domain and Private only, but Public is turned on too
    ctx = rctx(state())
    result = firewall.default_inbound_deny(ctx.collected.facts["firewall"], Required(), ctx)
    assert isinstance(result, Refused)
    assert "Windows Remote Management (HTTP-In)" in result.reason


def test_baluarte_address_from_the_route_when_the_host_does_not_say() -> None:
    ctx = rctx(state(), peer="")
    local = ctx.device.model_copy(update={"address": "127.0.0.1"})
    ctx = RemedyContext(device=local, collected=ctx.collected, ctx=ctx.ctx)
    assert str(firewall.baluarte_address(ctx)) == "127.0.0.1"


# -- executor: preview and reading the answer ----------------------------------------------------


def test_preview_shows_the_exact_text_apply_runs_without_a_round_trip() -> None:
    ctx = rctx(state())
    fix = remedy(
        access.insecure_admin_protocols(ctx.collected.facts["access"], PARAMS[_ACCESS], ctx)
    )
    site = Site(name="hq", devices=(ctx.device,))
    ref = DeviceRef(Client(name="acme", legal_name="ACME", sites=(site,)), site, ctx.device)
    work = DeviceWork(DevicePlan(ref, ()), ((_ACCESS, fix),))
    [(key, outcomes)] = list(EXECUTOR.preview([work], CollectOptions()))
    assert key == ref.key and not isinstance(outcomes, Exception)
    [outcome] = outcomes
    assert outcome.will_change and outcome.success is None
    [step] = outcome.steps
    assert step.commands == (invocation(fix.script, fix.parameters),)
    assert step.what.startswith("run fix insecure-protocols")


def answer(*output: str, terminating: str | None = None) -> ScriptAnswer:
    return ScriptAnswer(
        output=list(output),
        errors=[terminating] if terminating else [],
        had_errors=terminating is not None,
        terminating=terminating,
        requests=1,
        seconds=0.1,
    )


def test_judge_reads_one_json_answer() -> None:
    ok = json.dumps(
        {"changed": True, "before": {"a": 0}, "after": {"a": 1}, "rebootRequired": True}
    )
    assert judge(answer(ok)) == (
        True,
        'changed true; before {"a": 0}; after {"a": 1}; a reboot is needed to complete it',
    )
    failed = json.dumps({"changed": True, "error": "a Group Policy wins"})
    assert judge(answer(failed)) == (False, "a Group Policy wins")
    assert judge(answer(terminating="Access is denied"))[0] is False
    assert judge(answer("not json"))[0] is False
    assert judge(answer())[0] is False
    assert judge(answer(json.dumps({"before": 1})))[0] is False
