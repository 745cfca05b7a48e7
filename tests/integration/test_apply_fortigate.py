"""End to end through the CLI: `baluarte apply` on the FortiOS emulator over real HTTPS.

plan (only GETs) → apply --yes → the changes are visible through the API, recorded and
re-verified, after a backup and a named revision, with exactly the planned PUTs; an error on
one PUT aborts the transaction and changes nothing; a write that does not stick is undone; a
plan that would cut Baluarte's own management path is refused.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from baluarte.lab.fortigate import Fault, FortigateLab
from baluarte.lab.fortigate.shipped import shipped_state
from tests.integration.cli import CANARY, assert_no_canary, baluarte
from tests.integration.test_check_fortigate import write_inputs

POLICY = """\
id: fortigate-apply
version: "1"
title: FortiGate apply (test)
applies_to: {platform: fortigate}
patching:
  automatic_updates: {required: true}
firewall:
  security_profiles: {profiles: [antivirus, ips, webfilter]}
  policy_logging: {logtraffic: all, implicit_deny: true}
access:
  password_policy: {min_length: 8, complexity: true, complexity_classes: 4, max_age_days: 90,
                    lockout_threshold: 3, lockout_minutes: 1}
  insecure_admin_protocols: {forbidden: [telnet, http], admin_on_internet_interfaces: false}
  admin_session_timeout: {max_minutes: 5}
  strong_crypto: {required: true, min_tls_version: "1.2"}
logging:
  remote_forwarding: {required: true, targets: ["logs.example.net:6514"]}
  time_sync: {required: true}
"""
CONTROLS = {
    "patching.automatic_updates",
    "firewall.security_profiles",
    "firewall.policy_logging",
    "access.password_policy",
    "access.insecure_admin_protocols",
    "access.admin_session_timeout",
    "access.strong_crypto",
    "logging.remote_forwarding",
    "logging.time_sync",
}


def office_state() -> dict[str, Any]:
    """The small office, with a read-write API user for Baluarte (apply changes things)."""
    state = shipped_state("small-office")
    state["global"]["system/api-user"].append(
        {
            "name": "baluarte-rw",
            "accprofile": "super_admin",
            "vdom": [{"name": "root"}],
            "trusthost": [
                {"id": 1, "type": "ipv4-trusthost", "ipv4-trusthost": "127.0.0.0 255.0.0.0"}
            ],
        }
    )
    return state


@pytest.fixture
def unit(request: pytest.FixtureRequest) -> Iterator[FortigateLab]:
    arrives_on = getattr(request, "param", "internal")
    tokens = {CANARY: "baluarte-rw"}
    with FortigateLab(office_state(), tokens=tokens, mgmt_interface=arrives_on) as lab:
        yield lab


def inputs(tmp: Path, unit: FortigateLab) -> None:
    write_inputs(tmp, {"fw-office": unit})
    (tmp / "policies" / "fortigate-baseline.yaml").unlink()
    (tmp / "policies" / "apply.yaml").write_text(POLICY)


def apply(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return baluarte(tmp, "apply", "--format", "json", "--artifacts", str(tmp / "artifacts"), *args)


def doc(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert_no_canary(result.stdout, result.stderr)
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def changes(plan: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {c["control"]: c for c in plan["plan"] if c["kind"] == kind}


def api(unit: FortigateLab) -> list[Any]:
    return [r for r in unit.requests if r.path.startswith("/api/v2/")]


def puts(unit: FortigateLab, since: int = 0) -> list[str]:
    """The PUTs the unit received, as RestWrite.describe() prints them."""
    out = []
    for r in api(unit)[since:]:
        if r.method == "PUT":
            body = json.dumps(json.loads(r.body), sort_keys=True)
            out.append(f"PUT {r.path} {body}")
    return out


def interface(unit: FortigateLab, name: str) -> dict[str, Any]:
    rows = unit.state.to_dict()["global"]["system/interface"]
    return next(r for r in rows if r["name"] == name)


def test_plan_changes_nothing_then_apply_changes_exactly_the_plan(
    tmp_path: Path, unit: FortigateLab
) -> None:
    inputs(tmp_path, unit)
    before = unit.state.to_dict()
    planned = apply(tmp_path)
    assert planned.returncode == 1, planned.stderr
    plan = doc(planned)
    pending = changes(plan, "change")
    assert set(pending) == CONTROLS, json.dumps(plan["plan"], indent=1)[:3000]
    assert {r.method for r in api(unit)} == {"GET"}
    assert unit.state.to_dict() == before

    seen = len(api(unit))
    applied = apply(tmp_path, "--yes", "--all")
    run = doc(applied)["run"]
    records = {r["control"]: r for r in run["remediations"]}
    assert {c: r["result"] for c, r in records.items()} == {c: "applied" for c in CONTROLS}, (
        json.dumps(run["remediations"], indent=1)[:4000]
    )
    assert {r["verification"] for r in records.values()} == {"pass"}
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr

    # The PUTs are exactly the planned ones, in one transaction, after backup and revision.
    listed = [c for ch in sorted(pending.values(), key=lambda c: c["control"])
              for s in ch["steps"] for c in s["commands"]]  # fmt: skip
    sent = puts(unit, seen)
    assert sorted(sent) == sorted(listed)
    mine = api(unit)[seen:]
    first_put = next(i for i, r in enumerate(mine) if r.method == "PUT")
    kinds = [r.path for r in mine[:first_put]]
    assert "/api/v2/monitor/system/config/backup" in kinds
    assert "/api/v2/monitor/system/config-revision/save" in kinds
    assert any(r.query.get("action") == "transaction-start" for r in mine[:first_put])
    assert all("x-transaction-id" in r.headers for r in mine if r.method == "PUT")
    assert any(r.query.get("action") == "transaction-commit" for r in mine)
    revisions = [r.info() for r in unit.revisions.all()]
    assert any("baluarte apply" in str(r) for r in revisions)
    backups = list((tmp_path / "artifacts").rglob("*.conf"))
    assert backups and all(oct(b.stat().st_mode & 0o777) == "0o600" for b in backups)

    # Visible through the API after.
    after = unit.state.to_dict()
    glob = after["global"]["system/global"]
    assert (glob["admintimeout"], glob["strong-crypto"], glob["admin-telnet"]) == (
        5,
        "enable",
        "disable",
    )
    assert interface(unit, "internal")["allowaccess"] == "ping https ssh fgfm"
    assert interface(unit, "wan1")["allowaccess"] == "ping"
    assert after["global"]["log.syslogd/setting"]["server"] == "logs.example.net"
    assert after["global"]["system/ntp"]["ntpsync"] == "enable"
    policy = after["vdoms"]["root"]["firewall/policy"][0]
    assert (policy["utm-status"], policy["av-profile"], policy["logtraffic"]) == (
        "enable",
        "default",
        "all",
    )

    again = apply(tmp_path)
    assert again.returncode == 0, again.stdout[-2000:]
    assert changes(doc(again), "change") == {}


def test_an_error_on_one_put_aborts_the_transaction_and_changes_nothing(
    tmp_path: Path, unit: FortigateLab
) -> None:
    inputs(tmp_path, unit)
    before = unit.state.to_dict()
    unit.faults.add(Fault(match="/api/v2/cmdb/system/ntp", kind="status", status=500,
                          method="PUT"))  # fmt: skip
    applied = apply(tmp_path, "--yes", "--all")
    run = doc(applied)["run"]
    records = {r["control"]: r for r in run["remediations"]}
    assert {r["result"] for r in records.values()} == {"failed"}
    assert all("transaction aborted" in r["detail"] for r in records.values())
    assert any(r.query.get("action") == "transaction-abort" for r in api(unit))
    assert unit.state.to_dict()["global"] == before["global"]
    assert unit.state.to_dict()["vdoms"] == before["vdoms"]
    assert applied.returncode == 1


def test_a_write_that_does_not_stick_is_undone(tmp_path: Path, unit: FortigateLab) -> None:
    inputs(tmp_path, unit)
    unit.transactions.slips.append("system/global")  # the commit answers OK but drops it
    applied = apply(
        tmp_path, "--yes", "--control", "access.admin_session_timeout",
        "--control", "logging.time_sync",
    )  # fmt: skip
    run = doc(applied)["run"]
    records = {r["control"]: r for r in run["remediations"]}
    timeout = records["access.admin_session_timeout"]
    assert timeout["result"] == "failed"
    assert "verification failed, undone" in timeout["detail"]
    assert timeout["verification"] == "fail"
    assert records["logging.time_sync"]["result"] == "applied"
    # The inverse write went out and the value is what it was.
    assert 'PUT /api/v2/cmdb/system/global {"admintimeout": 480}' in puts(unit)
    assert unit.state.to_dict()["global"]["system/global"]["admintimeout"] == 480
    assert unit.state.to_dict()["global"]["system/ntp"]["ntpsync"] == "enable"


@pytest.mark.parametrize("unit", ["wan1"], indirect=True)
def test_a_plan_cutting_the_management_path_is_refused(tmp_path: Path, unit: FortigateLab) -> None:
    inputs(tmp_path, unit)
    applied = apply(tmp_path, "--yes", "--control", "access.insecure_admin_protocols",
                    "--control", "access.admin_session_timeout")  # fmt: skip
    doc_ = doc(applied)
    refused = changes(doc_, "refused")
    assert set(refused) == {"access.insecure_admin_protocols"}
    assert "wan1" in refused["access.insecure_admin_protocols"]["reason"]
    records = {r["control"]: r for r in doc_["run"]["remediations"]}
    assert records["access.insecure_admin_protocols"]["result"] == "refused"
    assert records["access.admin_session_timeout"]["result"] == "applied"
    assert interface(unit, "wan1")["allowaccess"] == "ping https ssh"
    assert interface(unit, "internal")["allowaccess"] == "ping https ssh http telnet fgfm"
    assert not [p for p in puts(unit) if "system/interface" in p]


def test_removing_https_from_ipv6_admin_access_on_the_way_in_is_refused(tmp_path: Path) -> None:
    """Baluarte may arrive over either family: IPv6 admin access is guarded like IPv4's."""
    state = office_state()
    wan = next(i for i in state["global"]["system/interface"] if i["name"] == "wan1")
    wan["allowaccess"] = "ping"  # nothing to remove over IPv4…
    wan.setdefault("ipv6", {})["ip6-allowaccess"] = "ping https ssh"  # …https over IPv6
    with FortigateLab(state, tokens={CANARY: "baluarte-rw"}, mgmt_interface="wan1") as unit:
        inputs(tmp_path, unit)
        applied = apply(tmp_path, "--yes", "--control", "access.insecure_admin_protocols")
        refused = changes(doc(applied), "refused")
        assert set(refused) == {"access.insecure_admin_protocols"}, applied.stdout[-2000:]
        assert (
            "ipv6 ip6-allowaccess of wan1" in refused["access.insecure_admin_protocols"]["reason"]
        )
        after = interface(unit, "wan1")
        assert after["ipv6"]["ip6-allowaccess"] == "ping https ssh"
        assert not [p for p in puts(unit) if "system/interface" in p]
