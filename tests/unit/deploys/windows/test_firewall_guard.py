"""The WinRM lockout guard, both of it: at plan time (facts parsed from a recorded-shape document)
and on the host (the lab's answer to firewall-profiles.ps1, which judges like the script does).

Each case is office-pc (Private inbound Allow, Public off: the fix turns both to inbound Block)
with its WinRM rule replaced by the case's rules; Baluarte connects from ME to TCP 5985.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from baluarte.lab.windows import load_state
from baluarte.lab.windows.engine import ScriptCall
from baluarte.lab.windows.remediations import FIX_HANDLERS, FIX_MARKER
from baluarte.lab.windows.shipped import shipped_state
from baluarte.remediation import Refused, Remedy
from checks.policy.base import Required
from checks.windows import parse
from deploys.windows import firewall
from deploys.windows.fixes import fix_script, invocation
from tests.unit.deploys.windows.test_windows_remedies import ME, rctx
from tests.unit.windows._states import firewall_rule

TEAMS = r"C:\Users\ana\AppData\Local\Microsoft\Teams\current\Teams.exe"
HOST_GUARD = FIX_HANDLERS[f"{FIX_MARKER}firewall-profiles\n"]


def rule(**over: Any) -> dict[str, Any]:
    """An enabled inbound rule as the collector reports it; by default one that admits WinRM."""
    return firewall_rule(5985, ME, **({"Name": "Case-In", "DisplayName": "Case rule"} | over))


def block(**over: Any) -> dict[str, Any]:
    return rule(**({"Name": "Block-In", "DisplayName": "Block rule", "Action": "Block"} | over))


def document(rules: list[dict[str, Any]], **profile: Any) -> dict[str, Any]:
    """office-pc's document: its rules but the WinRM one, plus ``rules``; ``profile`` set on the
    Private and Public profiles (the two the fix changes)."""
    doc = copy.deepcopy(shipped_state("office-pc")["output"])
    data = doc["checks"]["firewall.rules"]["data"]
    data["Rules"] = [r for r in data["Rules"] if not r["Name"].startswith("WINRM")] + rules
    for row in doc["checks"]["firewall.profiles"]["data"]:
        if row["Name"] in ("Private", "Public"):
            row.update(profile)
    return doc


def plan(doc: dict[str, Any]) -> Remedy | Refused:
    ctx = rctx(parse.collected(doc))
    result = firewall.enabled(ctx.collected.facts["firewall"], Required(), ctx)
    assert isinstance(result, Remedy | Refused), result
    return result


def host(doc: dict[str, Any], address: str = ME) -> tuple[dict[str, Any], dict[str, Any]]:
    """The host guard's answer and the host's firewall profiles after it."""
    state = load_state(shipped_state("office-pc")).model_copy(update={"output": doc})
    params = {"Profiles": ["Private", "Public"], "WinrmPort": 5985, "BaluarteAddress": address}
    script = invocation(fix_script("firewall-profiles"), params)
    result = HOST_GUARD(ScriptCall(script=script, state=state, now=datetime.now(UTC)))
    assert result.terminating_error is None and result.state is not None
    rows = result.state.output["checks"]["firewall.profiles"]["data"]
    return json.loads(result.output[0]), {r["Name"]: r for r in rows}


ADMITTED = {
    "program-system-from-our-address": [rule()],
    "program-any-from-any-address-any-port": [
        rule(Program="Any", RemoteAddress=["Any"], LocalPort=["Any"])
    ],
    "our-network-in-mask-form": [rule(RemoteAddress=["10.9.0.0/16", "192.168.1.0/255.255.255.0"])],
    "our-address-in-a-range": [rule(RemoteAddress=["192.168.1.40-192.168.1.60"])],
    "a-port-range": [rule(LocalPort=["5000-6000"])],
    "a-block-rule-for-another-program": [rule(), block(Program=TEAMS)],
    "a-block-rule-for-another-network": [rule(), block(RemoteAddress=["10.0.0.0/8"])],
    "a-block-rule-for-another-port": [rule(), block(LocalPort=["445"])],
    "a-block-rule-for-udp": [rule(), block(Protocol="UDP")],
}

# case -> (rules, profile settings, what the plan's reason names)
REFUSED: dict[str, tuple[list[dict[str, Any]], dict[str, Any], str]] = {
    "program-scoped-tcp-any-rule": (
        [rule(Program=TEAMS, LocalPort=["Any"], RemoteAddress=["Any"])],
        {},
        f"program {TEAMS} (WinRM is System)",
    ),
    "java-allow-access-click": (
        [rule(Program=r"C:\Program Files\Java\bin\java.exe", LocalPort=["Any"])],
        {},
        "java.exe (WinRM is System)",
    ),
    "remote-address-intranet": (
        [rule(RemoteAddress=["Intranet"])],
        {},
        "remote address Intranet does not prove 192.168.1.50",
    ),
    "remote-address-dns-and-gateway": (
        [rule(RemoteAddress=["DNS", "DefaultGateway"])],
        {},
        "remote address DNS, DefaultGateway",
    ),
    "remote-address-local-subnet": ([rule(RemoteAddress=["LocalSubnet"])], {}, "LocalSubnet"),
    "another-network": ([rule(RemoteAddress=["10.0.0.0/8"])], {}, "remote address 10.0.0.0/8"),
    "allow-inbound-rules-false": (
        [rule()],
        {"AllowInboundRules": "False"},
        "Private: AllowInboundRules False, so no allow rule counts",
    ),
    "a-block-rule-for-the-port": (
        [rule(), block(RemoteAddress=["Any"])],
        {},
        "Block rule Block rule (Block-In) wins over any allow",
    ),
    "a-block-rule-for-every-port": (
        [rule(), block(LocalPort=["Any"], Program="Any")],
        {},
        "Block rule",
    ),
    "a-service-scoped-rule": ([rule(Service="WinRM")], {}, "service WinRM"),
    "an-app-package-rule": ([rule(Package="S-1-15-2-1-2-3")], {}, "app package S-1-15-2-1-2-3"),
    "a-local-address": ([rule(LocalAddress=["192.168.1.20"])], {}, "local address 192.168.1.20"),
    "wireless-only": ([rule(InterfaceType="Wireless")], {}, "interface type Wireless"),
    "one-interface": ([rule(InterfaceAlias=["Ethernet 2"])], {}, "interfaces Ethernet 2"),
    "ipsec-required": ([rule(Authentication="Required")], {}, "IPsec authentication Required"),
    "another-port": ([rule(LocalPort=["5986"])], {}, "no rule provably lets WinRM in"),
    "udp": ([rule(Protocol="UDP")], {}, "no rule provably lets WinRM in"),
    "not-the-public-profile": (
        [rule(Profile="Domain, Private")],
        {},
        "Public: no rule provably lets WinRM in",
    ),
    "a-local-rule-where-group-policy-turns-local-rules-off": (
        [rule()],
        {"AllowLocalFirewallRules": "False"},
        "a Local rule, and a Group Policy turns local rules off",
    ),
}


@pytest.mark.parametrize("case", sorted(ADMITTED))
def test_a_rule_that_admits_winrm_passes_both_guards_and_the_fix_applies(case: str) -> None:
    doc = document(ADMITTED[case])
    fix = plan(doc)
    assert isinstance(fix, Remedy), fix
    assert fix.parameters["BaluarteAddress"] == ME
    answer, profiles = host(doc)
    assert "error" not in answer and answer["changed"] is True, answer
    assert "Case rule" in answer["winrmRules"]
    assert {n: (p["Enabled"], p["DefaultInboundAction"]) for n, p in profiles.items()} == {
        "Domain": ("True", "NotConfigured"),
        "Private": ("True", "Block"),
        "Public": ("True", "Block"),
    }


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_rule_that_does_not_prove_winrm_gets_in_is_refused_by_both_guards(case: str) -> None:
    rules, profile, named = REFUSED[case]
    doc = document(rules, **profile)
    refused = plan(doc)
    assert isinstance(refused, Refused), refused
    assert named in refused.reason and "lock Baluarte out" in refused.reason, refused.reason
    answer, profiles = host(doc)
    assert answer["changed"] is False
    assert answer["error"].startswith("refused: WinRM (TCP 5985) from 192.168.1.50 is not provably")
    assert profiles["Public"]["Enabled"] == "False"  # nothing changed on the host
    assert profiles["Private"]["DefaultInboundAction"] == "Allow"


def test_with_our_address_unknown_only_remote_address_any_proves_it() -> None:
    from_us = document([rule()])
    ctx = rctx(parse.collected(from_us), peer="not an address")
    result = firewall.enabled(ctx.collected.facts["firewall"], Required(), ctx)
    assert isinstance(result, Refused)
    assert "does not prove Baluarte's address (unknown)" in result.reason
    answer, _ = host(from_us, address="")
    assert "error" in answer
    anyone = document([rule(RemoteAddress=["Any"])])
    answer, _ = host(anyone, address="")
    assert answer["changed"] is True


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda d: d["checks"]["firewall.rules"]["data"]["Rules"][-1].pop("Service"), "Service"),
        (lambda d: d["checks"]["firewall.rules"]["data"]["Rules"][-1].pop("Action"), "Action"),
        (lambda d: d["checks"]["firewall.rules"]["data"]["Rules"][-1].pop("Package"), "Package"),
        (lambda d: d["checks"]["firewall.rules"]["data"]["Rules"][0].pop("Program"), "Program"),
    ],
    ids=["no-service", "no-action", "no-package", "another-rule-without-program"],
)
def test_an_older_document_without_a_condition_is_refused_at_plan_time(
    edit: Any, named: str
) -> None:
    doc = document([rule(Program="Any", RemoteAddress=["Any"], LocalPort=["Any"])])
    edit(doc)
    refused = plan(doc)
    assert isinstance(refused, Refused), refused
    assert f"field '{named}' missing" in refused.reason
    assert "nothing shows that WinRM (TCP 5985) stays reachable" in refused.reason


def test_a_profile_without_allow_inbound_rules_reported_is_refused() -> None:
    doc = document([rule()])
    for row in doc["checks"]["firewall.profiles"]["data"]:
        del row["AllowInboundRules"]
    refused = plan(doc)
    assert isinstance(refused, Refused)
    assert "Private: AllowInboundRules not reported" in refused.reason


def test_enum_values_as_numbers_are_judged_like_their_names() -> None:
    numbers = rule(Enabled=1, Direction=1, Action=2, Profile=0, InterfaceType=0)
    numbers |= {"Authentication": 0, "Source": 1}
    doc = document([numbers], AllowInboundRules=1)
    assert isinstance(plan(doc), Remedy)
    doc = document([numbers, block(Action=4, Profile=4, Enabled=1, Direction=1)])
    refused = plan(doc)
    assert isinstance(refused, Refused) and "Public: Block rule" in refused.reason
    assert isinstance(plan(document([numbers], AllowInboundRules=0)), Refused)
    disabled = rule(Enabled=2)
    assert isinstance(plan(document([disabled])), Refused)


def test_the_host_script_takes_typed_inputs_and_judges_every_condition() -> None:
    text = fix_script("firewall-profiles")
    assert (
        "param([string[]]$Profiles, [int]$WinrmPort, [string]$BaluarteAddress, [switch]$DryRun)"
        in text
    )
    assert "ConvertFrom-Json" not in text
    admits = text.split("function Test-Admits {", 1)[1].split("\n}\n", 1)[0]
    for condition in (
        "$Rule.Action -ne 'Allow'",
        "@('Any', 'System') -notcontains $Rule.Program",
        "$Rule.Service -ne 'Any' -or $Rule.Package",
        "Test-Within $_ $me",
        "Test-Any $Rule.LocalAddress",
        "Test-Any $Rule.InterfaceAlias",
        "$Rule.InterfaceType -ne 'Any'",
        "$Rule.Authentication -ne 'NotRequired'",
        "AllowLocalFirewallRules",
    ):
        assert condition in admits, condition
    assert "AllowInboundRules.ToString() -eq 'False'" in text
    assert "Test-Blocks $_ $name" in text
    # the change comes only after the judgement found nothing missing
    assert text.index("$problems.Count -gt 0") < text.index("Set-NetFirewallProfile")
