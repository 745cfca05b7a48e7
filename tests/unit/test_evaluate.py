"""Planning and evaluation around the pure evaluators: what applies, and what is never a pass."""

import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from baluarte.collected import Collected, HostIdentity
from baluarte.engine import exit_status
from baluarte.errors import TimedOut
from baluarte.evaluate import evaluate_device
from baluarte.findings import Severity, Status
from baluarte.inventory import load_inventory
from baluarte.plan import plan
from baluarte.policy import load_policies
from baluarte.waivers import load_waivers
from checks.facts.patching import AutoUpdates, PatchFacts, RebootState

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
INVENTORY = """\
clients:
  - name: acme
    legal_name: ACME Asesores S.L.
    sites:
      - name: hq
        devices:
          - {name: srv1, platform: linux, address: 10.0.0.5, tags: [server]}
          - {name: pc1, platform: linux, address: 10.0.0.6, tags: [desk]}
"""
POLICY = """\
id: base
version: "1"
title: Base
applies_to: {platform: linux}
patching:
  security_updates_pending: {max: 0, severity: critical}
  updates_pending: {max: 0, enabled: false}
  automatic_updates: {required: true}
firewall:
  enabled: {required: true}
"""
SERVERS = """\
id: servers
version: "1"
title: Servers
extends: base
applies_to: {platform: linux, tags: [server]}
patching:
  updates_pending: {max: 5}
"""


@pytest.fixture
def setup(tmp_path: Path):
    (tmp_path / "inv.yaml").write_text(INVENTORY)
    (tmp_path / "pol").mkdir()
    (tmp_path / "pol" / "base.yaml").write_text(POLICY)
    (tmp_path / "pol" / "servers.yaml").write_text(SERVERS)
    (tmp_path / "waivers.yaml").write_text(
        "waivers:\n  - {control: patching.automatic_updates, client: acme, devices: [srv1],"
        " reason: r, approved_by: boss, expires: 2027-01-01}\n"
    )
    inventory = load_inventory([tmp_path / "inv.yaml"])
    policies = load_policies(tmp_path / "pol")
    waivers = load_waivers(tmp_path / "waivers.yaml")
    return inventory, policies, waivers


def facts() -> PatchFacts:
    return PatchFacts(
        package_manager="apt", pending=(), last_update=NOW, automatic_updates=AutoUpdates(
            tool="unattended-upgrades", installed=False, enabled=False, security_origin=False),
        reboot=RebootState(required=False), kernel_running="k", kernel_newest="k", packages={},
    )  # fmt: skip


def test_disabled_controls_are_not_planned_and_extends_adds_them_back(setup):
    inventory, policies, _ = setup
    plans = {p.ref.name: p for p in plan(inventory, policies)}
    pc = [(c.policy, c.control.id) for c in plans["pc1"].controls]
    assert ("base", "patching.updates_pending") not in pc
    srv = [(c.policy, c.control.id) for c in plans["srv1"].controls]
    assert ("servers", "patching.updates_pending") in srv


def test_severity_override_waiver_and_unimplemented_controls(setup):
    inventory, policies, waivers = setup
    srv = next(p for p in plan(inventory, policies, device="srv1") if p.ref.name == "srv1")
    result = Collected(identity=HostIdentity(), facts={"patching": facts()})
    got = {
        (f.policy, f.control): f
        for f in evaluate_device(
            srv, result, collected_domains={"patching"}, waivers=waivers, now=NOW
        )
    }
    sec = got[("base", "patching.security_updates_pending")]
    assert sec.status is Status.PASS and sec.severity is Severity.CRITICAL
    auto = got[("base", "patching.automatic_updates")]
    assert auto.status is Status.WAIVED and auto.waiver is not None
    assert "result without waiver: fail" in auto.reason
    # the catalogue checks firewall.enabled on Linux: a collection missing from the
    # installation (here: not among the collected domains) is "could not tell", never n/a
    fw = got[("base", "firewall.enabled")]
    assert fw.status is Status.ERROR
    assert fw.reason == (
        "firewall.enabled cannot be checked: the linux firewall collection is missing from this "
        "installation of Baluarte (reinstall it)"
    )


def test_a_control_its_policy_does_not_require_is_not_applicable_naming_the_policy(tmp_path):
    (tmp_path / "inv.yaml").write_text(INVENTORY)
    (tmp_path / "pol").mkdir()
    (tmp_path / "pol" / "relaxed.yaml").write_text(
        'id: relaxed\nversion: "1"\ntitle: Relaxed\napplies_to: {platform: linux}\n'
        "patching:\n  automatic_updates: {required: false}\n"
    )
    (tmp_path / "waivers.yaml").write_text("waivers: []\n")
    inventory, policies = load_inventory([tmp_path / "inv.yaml"]), load_policies(tmp_path / "pol")
    srv = next(p for p in plan(inventory, policies) if p.ref.name == "srv1")
    result = Collected(identity=HostIdentity(), facts={"patching": facts()})
    (auto,) = evaluate_device(
        srv, result, collected_domains={"patching"},
        waivers=load_waivers(tmp_path / "waivers.yaml"), now=NOW,
    )  # fmt: skip
    assert auto.status is Status.NOT_APPLICABLE  # a pass here would be a pass on nothing
    assert auto.reason == (
        "automatic security updates not required by policy relaxed (required: false)"
    )


def test_unreachable_device_makes_every_evaluable_control_an_error(setup):
    inventory, policies, waivers = setup
    pc = next(p for p in plan(inventory, policies) if p.ref.name == "pc1")
    findings = evaluate_device(
        pc, TimedOut("no answer in 5 s"), collected_domains={"patching"}, waivers=waivers, now=NOW
    )
    statuses = {f.control: f.status for f in findings}
    assert statuses["patching.security_updates_pending"] is Status.ERROR
    assert statuses["firewall.enabled"] is Status.ERROR
    assert all(f.status is not Status.PASS for f in findings)
    assert findings[0].reason == "device timed out: no answer in 5 s"


def test_missing_domain_facts_and_evaluator_crashes_are_errors(setup):
    inventory, policies, waivers = setup
    pc = next(p for p in plan(inventory, policies) if p.ref.name == "pc1")
    no_facts = Collected(identity=HostIdentity(), facts={}, problems={"patching": "bad section"})
    findings = evaluate_device(
        pc, no_facts, collected_domains={"patching"}, waivers=waivers, now=NOW
    )
    assert {f.reason for f in findings if f.control.startswith("patching.")} == {"bad section"}
    broken = Collected(identity=HostIdentity(), facts={"patching": object()})
    crashed = evaluate_device(pc, broken, collected_domains={"patching"}, waivers=waivers, now=NOW)
    patch = [f for f in crashed if f.control.startswith("patching.")]
    assert patch and all(f.status is Status.ERROR for f in patch)
    assert "failed: AttributeError" in patch[0].reason


def test_a_waiver_never_covers_a_device_that_could_not_be_checked(setup):
    inventory, policies, waivers = setup
    srv = next(p for p in plan(inventory, policies, device="srv1") if p.ref.name == "srv1")
    findings = evaluate_device(
        srv,
        TimedOut("no answer in 5 s"),
        collected_domains={"patching"},
        waivers=waivers,
        now=NOW,
    )
    auto = next(f for f in findings if f.control == "patching.automatic_updates")
    # srv1 has a live waiver for automatic_updates: it accepts a failure, not "we don't know"
    assert auto.status is Status.ERROR and auto.waiver is None
    assert auto.reason.startswith("device timed out: no answer in 5 s; a waiver (until 2027-01-01")
    assert "not a result that could not be established" in auto.reason
    run_like = type("R", (), {"findings": findings})
    assert exit_status(run_like) == 3


def test_waivers_expire_at_the_end_of_their_day_where_the_client_is(setup, monkeypatch):
    inventory, policies, waivers = setup
    srv = next(p for p in plan(inventory, policies, device="srv1") if p.ref.name == "srv1")
    assert srv.ref.client.timezone == "Europe/Madrid"  # the default zone of a client
    result = Collected(identity=HostIdentity(), facts={"patching": facts()})
    # the waiver expires 2027-01-01: 22:30 UTC is 23:30 that day in Madrid (still waived),
    # 23:30 UTC is already 2027-01-02 there (lapsed) though still 2027-01-01 in UTC; the same
    # whatever zone the machine that runs the check is in
    last_evening = datetime(2027, 1, 1, 22, 30, tzinfo=UTC)
    after_midnight = datetime(2027, 1, 1, 23, 30, tzinfo=UTC)
    for machine in ("Europe/Madrid", "America/New_York", "Asia/Tokyo", "UTC"):
        monkeypatch.setenv("TZ", machine)
        time.tzset()
        for now in (last_evening, last_evening.astimezone(ZoneInfo(machine))):
            got = evaluate_device(
                srv, result, collected_domains={"patching"}, waivers=waivers, now=now
            )
            auto = next(f for f in got if f.control == "patching.automatic_updates")
            assert auto.status is Status.WAIVED, (machine, now)
        next_day = evaluate_device(
            srv,
            result,
            collected_domains={"patching"},
            waivers=waivers,
            now=after_midnight.astimezone(ZoneInfo(machine)),
        )
        lapsed = next(f for f in next_day if f.control == "patching.automatic_updates")
        assert lapsed.status is Status.FAIL and lapsed.waiver is not None and lapsed.waiver.expired
    monkeypatch.delenv("TZ")
    time.tzset()
