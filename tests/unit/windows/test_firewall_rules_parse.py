"""firewall.rules and firewall.profiles as the check reports them: block rules, every condition
of a rule, enum values as names or numbers, and older documents without them."""

from __future__ import annotations

import copy
from typing import Any

from baluarte.lab.windows.shipped import shipped_state
from checks.facts.firewall import FirewallFacts
from checks.windows import firewall


def facts(edit: Any = None) -> FirewallFacts:
    doc = copy.deepcopy(shipped_state("office-pc")["output"])
    if edit is not None:
        edit(doc)
    return firewall.parse(doc)


def rules(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = doc["checks"]["firewall.rules"]["data"]["Rules"]
    return rows


def test_every_condition_of_each_rule_is_read() -> None:
    found = facts()
    assert found.windows_rules is not None and found.windows_rules_problem == ""
    winrm = next(r for r in found.windows_rules if r.name == "WINRM-HTTP-In-TCP")
    assert (winrm.action, winrm.profiles, winrm.program, winrm.service) == (
        "Allow", ("Domain", "Private"), "System", "Any"
    )  # fmt: skip
    assert winrm.remote_addresses == ("LocalSubnet",) and winrm.local_addresses == ("Any",)
    assert (winrm.interface_types, winrm.interfaces, winrm.package) == (("Any",), ("Any",), "")
    assert (winrm.authentication, winrm.source) == ("NotRequired", "Local")


def test_a_block_rule_is_kept_for_the_guard_but_is_not_an_open_rule() -> None:
    def add_block(doc: dict[str, Any]) -> None:
        rules(doc).append(rules(doc)[-1] | {"Name": "Block-5985", "Action": "Block"})

    found = facts(add_block)
    assert found.open_inbound is not None
    assert not any("Block-5985" in r.where for r in found.open_inbound)
    assert found.windows_rules is not None
    assert [r.action for r in found.windows_rules if r.name == "Block-5985"] == ["Block"]


def test_enum_numbers_are_read_as_their_names() -> None:
    def numbers(doc: dict[str, Any]) -> None:
        rules(doc)[-1].update(Enabled=1, Direction=1, Action=2, Profile=3, InterfaceType=6)
        rules(doc)[-1].update(Authentication=1, Source=2)
        rules(doc)[0].update(Enabled=2)  # disabled: decides nothing
        doc["checks"]["firewall.profiles"]["data"][1].update(
            Enabled=1, DefaultInboundAction=4, AllowInboundRules=0, AllowLocalFirewallRules=2
        )

    found = facts(numbers)
    assert found.windows_rules is not None
    rule = next(r for r in found.windows_rules if r.name == "WINRM-HTTP-In-TCP")
    assert (rule.action, rule.profiles, rule.interface_types) == (
        "Allow", ("Domain", "Private"), ("Wireless", "RemoteAccess")
    )  # fmt: skip
    assert (rule.authentication, rule.source) == ("Required", "GroupPolicy")
    assert "CoreNet-ICMP6-DU-In" not in {r.name for r in found.windows_rules}
    assert found.profiles is not None
    private = found.profiles[1]
    assert (private.enabled, private.inbound_setting, private.default_inbound) == (
        True, "Block", "drop"
    )  # fmt: skip
    assert (private.allow_inbound_rules, private.allow_local_rules) == (False, True)


def test_an_older_document_keeps_its_open_rules_but_gives_the_guard_nothing() -> None:
    def older(doc: dict[str, Any]) -> None:
        for row in rules(doc):
            for key in ("Enabled", "Direction", "Action", "Service", "InterfaceType"):
                row.pop(key)
        for row in doc["checks"]["firewall.profiles"]["data"]:
            row.pop("AllowInboundRules")

    found = facts(older)
    assert found.windows_rules is None
    assert "Rules[0]: field 'Enabled' missing" in found.windows_rules_problem
    assert found.open_inbound is not None
    assert len([r for r in found.open_inbound if "rule" in r.where]) == 3
    assert found.profiles is not None
    assert all(p.allow_inbound_rules is None for p in found.profiles)
