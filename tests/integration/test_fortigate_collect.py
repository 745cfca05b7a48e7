"""The FortiGate collector against lab emulators over real HTTPS: inventory → plan → collect."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import stat
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from baluarte.collected import Collected, CollectOptions
from baluarte.errors import AuthFailed, DeviceError, TimedOut, Unreachable
from baluarte.evaluate import evaluate_device
from baluarte.findings import Finding, Status
from baluarte.inventory import load_inventory
from baluarte.lab.fortigate import Fault, FortigateLab, load_state
from baluarte.lab.fortigate.capture import capture
from baluarte.plan import DevicePlan, plan
from baluarte.policy import load_policies
from baluarte.waivers import WaiverSet
from checks.fortigate.collector import DOMAINS, collect
from checks.fortigate.endpoints import endpoints_for

REPO = Path(__file__).resolve().parents[2]
CANARY = "canary-Zq8v1XkP-do-not-leak"  # the good units' token
WRONG = "a-token-nobody-issued-0000000000"
NOW = 1_800_000_000  # epoch seconds used for licence dates (far ahead: never stale)


def _m(*names: str) -> list[dict[str, str]]:
    return [{"name": n, "q_origin_key": n} for n in names]


def _row(key: str, value: Any, **fields: Any) -> dict[str, Any]:
    return {
        key: value,
        "q_origin_key": value,
        **{k.replace("_", "-"): v for k, v in fields.items()},
    }


def unit_state() -> dict[str, Any]:
    """A small, hardened-looking FortiGate 60F: every endpoint the baseline reads is there."""
    return {
        "version": "v7.4.5",
        "build": 2702,
        "serial": "FGT60FTK24000009",
        "hostname": "fw-lab",
        "model": "FGT60F",
        "global": {
            "system/global": {
                "hostname": "fw-lab",
                "admintimeout": 5,
                "admin-lockout-threshold": 3,
                "admin-lockout-duration": 60,
                "admin-telnet": "disable",
                "admin-https-redirect": "enable",
                "admin-https-ssl-versions": "tlsv1-2 tlsv1-3",
                "admin-sport": 443,
                "strong-crypto": "enable",
            },
            "system/admin": [
                _row(
                    "name",
                    "admin",
                    accprofile="super_admin",
                    two_factor="fortitoken",
                    trusthost1="192.0.2.0 255.255.255.0",
                    trusthost2="127.0.0.1 255.255.255.255",  # this test machine
                    ip6_trusthost1="::/0",
                    remote_auth="disable",
                    vdom=_m("root"),
                ),
            ],
            "system/api-user": [
                _row(
                    "name",
                    "baluarte-ro",
                    accprofile="super_admin",
                    trusthost=[
                        {
                            "id": 1,
                            "q_origin_key": 1,
                            "type": "ipv4-trusthost",
                            "ipv4-trusthost": "127.0.0.0 255.0.0.0",
                        }
                    ],
                    vdom=_m("root"),
                ),
            ],
            "system/password-policy": {
                "status": "enable",
                "apply-to": "admin-password",
                "minimum-length": 12,
                "min-lower-case-letter": 1,
                "min-upper-case-letter": 1,
                "min-non-alphanumeric": 1,
                "min-number": 1,
                "expire-status": "enable",
                "expire-day": 90,
                "reuse-password": "disable",
            },
            "system/interface": [
                _row(
                    "name",
                    "wan1",
                    ip="203.0.113.2 255.255.255.0",
                    allowaccess="ping",
                    role="wan",
                    type="physical",
                    status="up",
                    vdom="root",
                ),
                _row(
                    "name",
                    "internal",
                    ip="192.0.2.1 255.255.255.0",
                    allowaccess="ping https ssh",
                    role="lan",
                    type="hard-switch",
                    status="up",
                    vdom="root",
                ),
            ],
            "system.autoupdate/schedule": {"status": "enable", "frequency": "automatic"},
            "system/ntp": {
                "ntpsync": "enable",
                "type": "fortiguard",
                "syncinterval": 60,
                "ntpserver": [],
            },
            "log.syslogd/setting": {
                "status": "enable",
                "server": "192.0.2.50",
                "port": 514,
                "mode": "reliable",
            },
            "log.fortianalyzer/setting": {"status": "disable", "server": ""},
        },
        "vdoms": {
            "root": {
                "firewall/address": [
                    _row("name", "all", type="ipmask", subnet="0.0.0.0 0.0.0.0"),
                    _row("name", "lan-net", type="ipmask", subnet="192.0.2.0 255.255.255.0"),
                ],
                "firewall.service/custom": [
                    _row("name", "HTTPS", protocol="TCP/UDP/SCTP", tcp_portrange="443")
                ],
                "firewall/policy": [
                    _row(
                        "policyid",
                        1,
                        name="lan-out",
                        status="enable",
                        action="accept",
                        srcintf=_m("internal"),
                        dstintf=_m("wan1"),
                        srcaddr=_m("lan-net"),
                        dstaddr=_m("all"),
                        service=_m("HTTPS"),
                        schedule="always",
                        utm_status="enable",
                        profile_type="single",
                        av_profile="default",
                        ips_sensor="default",
                        webfilter_profile="default",
                        logtraffic="all",
                        nat="enable",
                    ),
                ],
                "log/setting": {"fwpolicy-implicit-log": "enable"},
            }
        },
        "monitor": {
            "license/status": {
                "antivirus": {"status": "licensed", "expires": NOW, "last_update": NOW - 3600},
                "ips": {"status": "licensed", "expires": NOW, "last_update": NOW - 3600},
            },
            "system/ntp/status": [
                {
                    "server": "ntp1.fortiguard.com",
                    "ip": "198.51.100.123",
                    "reachable": True,
                    "selected": True,
                    "stratum": 2,
                    "offset": 0.2,
                }
            ],
        },
    }


def write_inventory(
    tmp: Path, fgt: FortigateLab, units: dict[str, str], port: int = 0, *, session: bool = False
) -> Path:
    """inventory.yaml in ``tmp``: client acme, site hq, one FortiGate per (name → secret env var).

    The secret is the unit's token, or with ``session`` the password of its admin "admin".
    """
    auth = "username: admin, password" if session else "token"
    devices = "".join(
        textwrap.dedent(f"""\
          - name: {name}
            platform: fortigate
            address: 127.0.0.1
            port: {port or fgt.port}
            fortios: {{{auth}: "env:{var}", vdom: root, ca_bundle: "{fgt.ca_path}"}}
        """)
        for name, var in units.items()
    )
    path = tmp / "inventory.yaml"
    path.write_text(
        "clients:\n  - name: acme\n    legal_name: ACME Asesores S.L.\n    sites:\n"
        "      - name: hq\n        devices:\n" + textwrap.indent(devices, " " * 10)
    )
    return path


def plans_for(tmp: Path, inventory: Path) -> list[DevicePlan]:
    policies = tmp / "policies"
    policies.mkdir(exist_ok=True)
    shutil.copy(REPO / "policies" / "fortigate-baseline.yaml", policies)
    return plan(load_inventory([inventory]), load_policies(policies))


def run_collect(
    plans: list[DevicePlan], tmp: Path, **opts: Any
) -> dict[str, Collected | DeviceError]:
    options = CollectOptions(artifacts=tmp / "artifacts", **opts)
    return {ref.name: result for ref, result in collect(plans, options)}


def findings_of(device_plan: DevicePlan, result: Collected | DeviceError) -> dict[str, Finding]:
    found = evaluate_device(
        device_plan, result, collected_domains=DOMAINS, waivers=WaiverSet(), now=datetime.now(UTC)
    )
    return {f.control: f for f in found}


@pytest.fixture(scope="module")
def lab() -> Iterator[FortigateLab]:
    with FortigateLab(
        unit_state(), tokens={CANARY: "baluarte-ro"}, admins={"admin": CANARY}
    ) as fgt:
        yield fgt


@pytest.fixture
def fgt(lab: FortigateLab, monkeypatch: pytest.MonkeyPatch) -> Iterator[FortigateLab]:
    monkeypatch.setenv("BALUARTE_TEST_FGT_TOKEN", CANARY)
    monkeypatch.setenv("BALUARTE_TEST_FGT_WRONG", WRONG)
    yield lab
    lab.faults.clear()


def test_good_unit_yields_facts_and_a_backup(fgt: FortigateLab, tmp_path: Path) -> None:
    plans = plans_for(
        tmp_path, write_inventory(tmp_path, fgt, {"fw-hq": "BALUARTE_TEST_FGT_TOKEN"})
    )
    before = len(fgt.requests)
    result = run_collect(plans, tmp_path)["fw-hq"]

    assert isinstance(result, Collected), result
    assert set(result.facts) == set(DOMAINS) and result.problems == {}
    assert result.raw is not None  # the unit's answers, for remedies
    assert result.identity.hostname == "fw-lab"
    assert result.identity.os_id == "fortios" and result.identity.os_version == "7.4.5"
    endpoints = endpoints_for(p.control.id for p in plans[0].controls)
    made = fgt.requests[before:]
    assert result.round_trips == len(made) <= len(endpoints) + 3
    assert {r.method for r in made} <= {"GET", "POST"}
    assert [r.path for r in made if r.method == "POST"] == ["/api/v2/monitor/system/config/backup"]
    assert all(r.status == 200 for r in made)

    found = findings_of(plans[0], result)
    assert found["access.admin_session_timeout"].status is Status.PASS
    backup = found["backup.config_saved"]
    assert backup.status is Status.PASS, backup.reason
    files = list((tmp_path / "artifacts" / "fortigate" / "acme" / "hq" / "fw-hq").iterdir())
    assert len(files) == 1
    data = files[0].read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert files[0].name.endswith(f"-{digest[:12]}.conf") and data.startswith(b"#config-version=")
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    for folder in (files[0].parent, *list(files[0].parents)[:3]):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert digest in str(backup.observed) + str(backup.evidence)


def test_session_login_unit_counts_login_and_logout(fgt: FortigateLab, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, fgt, {"fw-hq": "BALUARTE_TEST_FGT_TOKEN"}, session=True)
    plans = plans_for(tmp_path, inventory)
    before = len(fgt.requests)
    result = run_collect(plans, tmp_path)["fw-hq"]
    assert isinstance(result, Collected) and result.identity.hostname == "fw-lab"
    made = fgt.requests[before:]
    assert (made[0].method, made[0].path) == ("POST", "/api/v2/authentication")
    assert (made[-1].method, made[-1].path) == ("DELETE", "/api/v2/authentication")
    assert result.round_trips == len(made)


def test_wrong_token_fails_only_that_unit(fgt: FortigateLab, tmp_path: Path) -> None:
    inventory = write_inventory(
        tmp_path, fgt, {"fw-good": "BALUARTE_TEST_FGT_TOKEN", "fw-bad": "BALUARTE_TEST_FGT_WRONG"}
    )
    plans = plans_for(tmp_path, inventory)
    results = run_collect(plans, tmp_path)
    assert isinstance(results["fw-good"], Collected)
    bad = results["fw-bad"]
    assert type(bad) is AuthFailed and "401: token refused" in str(bad)
    finding = findings_of(plans[1], bad)["access.admin_mfa"]
    assert finding.status is Status.ERROR and "authentication refused" in str(finding.reason)
    assert not list((tmp_path / "artifacts" / "fortigate" / "acme" / "hq").glob("fw-bad/*"))


def test_one_failing_endpoint_errors_only_its_controls(fgt: FortigateLab, tmp_path: Path) -> None:
    plans = plans_for(
        tmp_path, write_inventory(tmp_path, fgt, {"fw-hq": "BALUARTE_TEST_FGT_TOKEN"})
    )
    fgt.faults.add(Fault(match="/api/v2/cmdb/log/setting", kind="status", status=500, times=None))
    result = run_collect(plans, tmp_path)["fw-hq"]
    assert isinstance(result, Collected)
    calls = [r for r in fgt.requests if r.path == "/api/v2/cmdb/log/setting"]
    assert [r.status for r in calls[-3:]] == [500, 500, 500]  # retried, then given up
    found = findings_of(plans[0], result)
    logging_finding = found["firewall.policy_logging"]
    assert logging_finding.status is Status.ERROR
    reason = str(logging_finding.reason)
    assert "cmdb log/setting" in reason and "500 Internal Server Error" in reason
    for other in ("access.admin_session_timeout", "access.strong_crypto", "logging.time_sync"):
        assert found[other].status is Status.PASS, other


def test_unreachable_and_slow_units(fgt: FortigateLab, tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        inventory = write_inventory(
            tmp_path, fgt, {"fw-gone": "BALUARTE_TEST_FGT_TOKEN"}, port=closed.getsockname()[1]
        )
        gone = run_collect(plans_for(tmp_path, inventory), tmp_path)["fw-gone"]
    assert type(gone) is Unreachable and "cannot connect" in str(gone)

    fgt.faults.add(Fault(match="/api/v2/cmdb/system/global", kind="latency", seconds=1.0))
    slow_inv = write_inventory(tmp_path, fgt, {"fw-slow": "BALUARTE_TEST_FGT_TOKEN"})
    slow = run_collect(plans_for(tmp_path, slow_inv), tmp_path, command_timeout=0.5)["fw-slow"]
    assert type(slow) is TimedOut and "0.5 s" in str(slow)


def test_wrong_ca_names_the_setting(fgt: FortigateLab, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, fgt, {"fw-hq": "BALUARTE_TEST_FGT_TOKEN"})
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text(Path("/etc/ssl/certs/ca-certificates.crt").read_text())
    inventory.write_text(inventory.read_text().replace(str(fgt.ca_path), str(other_ca)))
    result = run_collect(plans_for(tmp_path, inventory), tmp_path)["fw-hq"]
    assert type(result) is Unreachable
    assert "TLS certificate verification failed" in str(result)
    assert "fortios.ca_bundle" in str(result)


def test_missing_secret_is_credentials_unavailable(fgt: FortigateLab, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, fgt, {"fw-hq": "BALUARTE_TEST_FGT_UNSET"})
    os.environ.pop("BALUARTE_TEST_FGT_UNSET", None)
    result = run_collect(plans_for(tmp_path, inventory), tmp_path)["fw-hq"]
    assert type(result) is DeviceError
    assert str(result).startswith("credentials unavailable: ")
    assert "BALUARTE_TEST_FGT_UNSET" in str(result)


def test_no_token_in_results_or_backup_paths(fgt: FortigateLab, tmp_path: Path) -> None:
    inventory = write_inventory(
        tmp_path, fgt, {"fw-good": "BALUARTE_TEST_FGT_TOKEN", "fw-bad": "BALUARTE_TEST_FGT_WRONG"}
    )
    fgt.faults.add(Fault(match="/api/v2/cmdb/firewall/policy", kind="html", status=403, times=None))
    plans = plans_for(tmp_path, inventory)
    results = run_collect(plans, tmp_path)
    texts = [repr(r) for r in results.values()] + [str(r) for r in results.values()]
    for device_plan in plans:
        found = findings_of(device_plan, results[device_plan.ref.name])
        texts += [f.model_dump_json() for f in found.values()]
    texts += [str(p) for p in (tmp_path / "artifacts").rglob("*")]
    assert texts and not [t for t in texts if CANARY in t or WRONG in t]


def test_capture_reads_only_and_round_trips(fgt: FortigateLab, tmp_path: Path) -> None:
    inventory = load_inventory(
        [write_inventory(tmp_path, fgt, {"fw-hq": "BALUARTE_TEST_FGT_TOKEN"})]
    )
    device = inventory.clients[0].sites[0].devices[0]
    before = len(fgt.requests)
    state, skipped = capture(device)
    made = fgt.requests[before:]
    assert {r.method for r in made} == {"GET"}
    original = unit_state()
    assert (state["version"], state["build"], state["serial"]) == (
        "v7.4.5",
        2702,
        original["serial"],
    )
    assert (state["hostname"], state["model"]) == ("fw-lab", "FGT60F")
    assert state["vdoms"]["root"]["firewall/policy"] == original["vdoms"]["root"]["firewall/policy"]
    assert state["global"]["system/admin"][0]["name"] == "admin"
    assert "license/status" in state["monitor"] and "system/status" in state["monitor"]
    assert "cmdb firewall/address6" in skipped and "404" in skipped["cmdb firewall/address6"]
    # what was captured is a state file the emulator serves again, to the same capture
    with FortigateLab(load_state(state), tokens={CANARY: "baluarte-ro"}) as again:
        assert device.fortios is not None
        fortios = device.fortios.model_copy(update={"ca_bundle": again.ca_path})
        patched = device.model_copy(update={"port": again.port, "fortios": fortios})
        state2, skipped2 = capture(patched)
    assert state2["vdoms"] == state["vdoms"] and skipped2 == skipped
    assert state2["global"]["system/interface"] == state["global"]["system/interface"]
