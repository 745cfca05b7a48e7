"""End to end through the CLI: `baluarte check` against the FortiOS lab emulator over HTTPS.

The emulator runs in this process; `baluarte` runs as a subprocess and verifies the emulator's
certificate against its CA, as it would a provider's own CA for a real unit.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from baluarte.lab.fortigate import FortigateLab, load_state
from baluarte.lab.fortigate.faults import Fault
from baluarte.lab.fortigate.shipped import shipped_state
from tests.integration.cli import BIN, CANARY, assert_no_canary, baluarte, findings

ROOT = Path(__file__).resolve().parents[2]
BASELINE = (ROOT / "policies" / "fortigate-baseline.yaml").read_text()
FORTIGATE_CONTROLS = sorted(
    {
        "patching.minimum_versions",
        "patching.automatic_updates",
        "firewall.allowed_inbound",
        "firewall.no_any_any_accept",
        "firewall.security_profiles",
        "firewall.policy_logging",
        "firewall.security_services_current",
        "backup.config_saved",
        "access.admin_accounts",
        "access.password_policy",
        "access.admin_mfa",
        "access.admin_trusted_hosts",
        "access.insecure_admin_protocols",
        "access.admin_session_timeout",
        "access.strong_crypto",
        "logging.remote_forwarding",
        "logging.time_sync",
    }
)
OTHER_TOKEN = "Zx81kqT0aa4bLr7nwe2PpoUu9fDdGh"  # a real-looking token the unit does not know


def write_inputs(
    tmp: Path,
    units: dict[str, FortigateLab],
    *,
    fortios: dict[str, str] | None = None,
    ca: Path | None = None,
) -> Path:
    """inventory.yaml (client acme, site hq) with one fortigate per unit, the shipped baseline."""
    lines = [
        "clients:",
        "  - name: acme",
        "    legal_name: ACME Asesores S.L.",
        "    sites:",
        "      - name: hq",
        "        devices:",
    ]
    for name, unit in units.items():
        settings = {
            "token": "env:BALUARTE_TEST_CANARY",
            "vdom": "root",
            "ca_bundle": str(ca or unit.ca_path),
            **(fortios or {}),
        }
        lines += [
            f"          - name: {name}",
            "            platform: fortigate",
            f"            address: {unit.host}",
            f"            port: {unit.port}",
            "            tags: [firewall]",
            "            fortios:",
            *(f"              {k}: {json.dumps(v)}" for k, v in settings.items()),
        ]
    (tmp / "inventory.yaml").write_text("\n".join(lines) + "\n")
    (tmp / "policies").mkdir(exist_ok=True)
    (tmp / "policies" / "fortigate-baseline.yaml").write_text(BASELINE)
    (tmp / "waivers.yaml").write_text("waivers: []\n")
    return tmp


def check(tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return baluarte(tmp, "check", "--format", "json", "--artifacts", str(tmp / "artifacts"), *extra)


def statuses(result: subprocess.CompletedProcess[str], device: str) -> dict[str, str]:
    return {c: f["status"] for (d, c), f in findings(result).items() if d == device}


@pytest.fixture(scope="module")
def hardened() -> Iterator[FortigateLab]:
    with FortigateLab(shipped_state("hardened"), tokens={CANARY: "baluarte-ro"}) as unit:
        yield unit


@pytest.fixture(scope="module")
def small_office() -> Iterator[FortigateLab]:
    with FortigateLab(shipped_state("small-office"), tokens={CANARY: "baluarte-ro"}) as unit:
        yield unit


def test_hardened_unit_passes_every_control_and_its_backup_is_kept(
    tmp_path: Path, hardened: FortigateLab
) -> None:
    write_inputs(tmp_path, {"fw-hq": hardened})
    result = check(tmp_path)
    got = statuses(result, "fw-hq")
    assert sorted(got) == FORTIGATE_CONTROLS
    assert {c: s for c, s in got.items() if s != "pass"} == {}, result.stdout
    assert result.returncode == 0, result.stderr

    saved = findings(result)[("fw-hq", "backup.config_saved")]
    backups = list((tmp_path / "artifacts").rglob("*.conf"))
    assert len(backups) == 1
    text = backups[0].read_bytes()
    assert text.startswith(b"#config-version=")
    assert oct(backups[0].stat().st_mode & 0o777) == "0o600"
    assert hashlib.sha256(text).hexdigest() in saved["observed"] + (saved["evidence"] or "")
    # The collector asked for little and wrote nothing.
    mine = [r for r in hardened.requests if r.path.startswith("/api/v2/")]
    assert {r.method for r in mine} <= {"GET", "POST"}
    assert all(r.method == "GET" or "config/backup" in r.path for r in mine)
    assert all("access_token" not in r.query for r in mine)


def test_small_office_unit_fails_every_control(tmp_path: Path, small_office: FortigateLab) -> None:
    write_inputs(tmp_path, {"fw-office": small_office})
    result = check(tmp_path)
    got = statuses(result, "fw-office")
    expected = {c: "fail" for c in FORTIGATE_CONTROLS}
    assert got == expected, json.dumps(findings(result), indent=1, default=str)[:4000]
    assert result.returncode == 1
    # Baluarte's read-only API user there may not run backups: a finding to fix, not doubt.
    saved = findings(result)[("fw-office", "backup.config_saved")]
    assert "refused the configuration backup" in saved["observed"]
    assert not (tmp_path / "artifacts").exists() or not list(
        (tmp_path / "artifacts").rglob("*.conf")
    )


def test_wrong_token_is_an_error_for_that_unit_only(
    tmp_path: Path, hardened: FortigateLab, small_office: FortigateLab
) -> None:
    write_inputs(tmp_path, {"fw-good": hardened})
    # A second unit whose token reference points to a token it does not know.
    inv = (tmp_path / "inventory.yaml").read_text()
    inv += (
        inv.split("devices:\n", 1)[1]
        .replace("fw-good", "fw-bad")
        .replace(str(hardened.port), str(small_office.port))
        .replace(str(hardened.ca_path), str(small_office.ca_path))
        .replace("env:BALUARTE_TEST_CANARY", "env:OTHER_TOKEN")
    )
    (tmp_path / "inventory.yaml").write_text(inv)
    result = baluarte(
        tmp_path,
        "check", "--format", "json", "--artifacts", str(tmp_path / "artifacts"),
        env={"OTHER_TOKEN": OTHER_TOKEN},
    )  # fmt: skip
    bad = {c: f for (d, c), f in findings(result).items() if d == "fw-bad"}
    assert {f["status"] for f in bad.values()} == {"error"}
    assert all("authentication refused" in f["reason"] for f in bad.values()), bad
    assert OTHER_TOKEN not in result.stdout + result.stderr
    assert set(statuses(result, "fw-good").values()) == {"pass"}
    assert result.returncode == 3


def test_unreachable_unit_is_an_error(tmp_path: Path, hardened: FortigateLab) -> None:
    write_inputs(tmp_path, {"fw-gone": hardened})
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inv = (
        (tmp_path / "inventory.yaml").read_text().replace(f"port: {hardened.port}", f"port: {port}")
    )
    (tmp_path / "inventory.yaml").write_text(inv)
    result = check(tmp_path)
    got = findings(result)
    assert {f["status"] for f in got.values()} == {"error"}
    assert all("unreachable" in f["reason"] for f in got.values())
    assert result.returncode == 3


def test_tls_certificate_of_another_ca_is_refused(
    tmp_path: Path, hardened: FortigateLab, small_office: FortigateLab
) -> None:
    write_inputs(tmp_path, {"fw-hq": hardened}, ca=small_office.ca_path)
    result = check(tmp_path)
    got = findings(result)
    assert {f["status"] for f in got.values()} == {"error"}
    assert all("certificate" in f["reason"].lower() for f in got.values()), got
    assert not hardened.requests or all(
        r.path != "/api/v2/cmdb/system/global" for r in hardened.requests[-5:]
    )


def test_server_errors_mid_collection_fail_only_the_controls_that_needed_the_answer(
    tmp_path: Path, hardened: FortigateLab
) -> None:
    write_inputs(tmp_path, {"fw-hq": hardened})
    hardened.faults.add(
        Fault(match="/api/v2/cmdb/firewall/policy", kind="status", status=500, times=None)
    )
    try:
        result = check(tmp_path)
    finally:
        hardened.faults.clear()
    got = statuses(result, "fw-hq")
    needs_policies = {
        "firewall.allowed_inbound",
        "firewall.no_any_any_accept",
        "firewall.security_profiles",
        "firewall.policy_logging",
    }
    assert {c for c, s in got.items() if s == "error"} == needs_policies
    reasons = [findings(result)[("fw-hq", c)]["reason"] for c in needs_policies]
    assert all("firewall/policy" in r and "500" in r for r in reasons), reasons
    assert {s for c, s in got.items() if c not in needs_policies} == {"pass"}
    assert result.returncode == 3


def test_a_unit_echoing_the_token_in_its_errors_never_gets_it_stored(
    tmp_path: Path, hardened: FortigateLab
) -> None:
    """What a unit says is masked of the credential it was sent, in errors and in facts."""
    write_inputs(tmp_path, {"fw-hq": hardened})
    hardened.faults.add(
        Fault(match="/api/v2/cmdb/firewall/policy", kind="echo", status=200, times=None)
    )
    hardened.faults.add(
        Fault(match="/api/v2/cmdb/system/admin", kind="echo", status=200, times=None)
    )
    try:
        result = check(tmp_path)
    finally:
        hardened.faults.clear()
    got = findings(result)  # fails if the canary token is anywhere in the output
    reasons = [f["reason"] for (_, c), f in got.items() if c == "firewall.no_any_any_accept"]
    assert reasons and "'Bearer ***'" in reasons[0], reasons
    db = sqlite3.connect(tmp_path / "runs.db")
    dump = "\n".join(db.iterdump())
    db.close()
    assert CANARY not in dump and "Bearer ***" in dump
    assert result.returncode == 3


def test_token_without_read_permission_is_an_error_not_a_pass(
    tmp_path: Path,
) -> None:
    state = shipped_state("hardened")
    # The REST user's profile loses read access to system settings (sysgrp).
    for profile in state["global"]["system/accprofile"]:
        if profile["name"] == "baluarte_ro":
            profile["sysgrp"] = "none"
    with FortigateLab(state, tokens={CANARY: "baluarte-ro"}) as unit:
        write_inputs(tmp_path, {"fw-hq": unit})
        result = check(tmp_path)
    got = findings(result)
    errors = {c: f["reason"] for (_, c), f in got.items() if f["status"] == "error"}
    assert "access.admin_session_timeout" in errors  # system/global is in sysgrp
    assert "access.admin_accounts" in errors
    assert all("403" in r or "permission" in r.lower() for r in errors.values()), errors
    assert "pass" not in {got[("fw-hq", c)]["status"] for c in errors}
    assert result.returncode == 3


def test_expired_session_is_an_error(tmp_path: Path) -> None:
    with FortigateLab(
        shipped_state("hardened"), admins={"baluarte": CANARY}, session_ttl=0.0
    ) as unit:
        write_inputs(
            tmp_path,
            {"fw-hq": unit},
            fortios={"token": None, "username": "baluarte", "password": "env:BALUARTE_TEST_CANARY"},  # type: ignore[dict-item]
        )
        inv = (tmp_path / "inventory.yaml").read_text().replace("              token: null\n", "")
        (tmp_path / "inventory.yaml").write_text(inv)
        result = check(tmp_path)
    got = findings(result)
    assert {f["status"] for f in got.values()} == {"error"}
    assert all("session expired" in f["reason"] for f in got.values()), got
    assert result.returncode == 3


def test_the_token_never_reaches_store_reports_or_artifacts(
    tmp_path: Path, small_office: FortigateLab
) -> None:
    write_inputs(tmp_path, {"fw-office": small_office})
    result = check(tmp_path)
    assert_no_canary(result.stdout, result.stderr)
    db = sqlite3.connect(tmp_path / "runs.db")
    dump = "\n".join(db.iterdump())
    db.close()
    assert CANARY not in dump
    run_id = json.loads(result.stdout)["run"]["id"]
    report = baluarte(
        tmp_path, "report", str(run_id), "--format", "html", "-o", str(tmp_path / "r.html")
    )
    assert report.returncode == 0, report.stderr
    assert CANARY not in (tmp_path / "r.html").read_text()
    for path in (tmp_path / "artifacts").rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes()
    assert all(CANARY not in json.dumps(r.headers) + str(r.query) for r in small_office.requests)


def test_a_captured_unit_replays_in_the_lab_with_the_same_verdicts(
    tmp_path: Path, small_office: FortigateLab
) -> None:
    write_inputs(tmp_path, {"fw-office": small_office})
    state_file = tmp_path / "fw-office.json"
    before = len(small_office.requests)
    captured = subprocess.run(
        [str(BIN), "lab", "capture", "fortigate", "fw-office", "-o", str(state_file),
         "--inventory", str(tmp_path / "inventory.yaml")],
        capture_output=True, text=True, env={**os.environ, "BALUARTE_TEST_CANARY": CANARY},
        timeout=120, check=False,
    )  # fmt: skip
    assert captured.returncode == 0, captured.stderr
    assert "endpoints written" in captured.stderr
    assert {r.method for r in small_office.requests[before:]} == {"GET"}  # read-only
    text = state_file.read_text()
    assert CANARY not in text and "ENC (redacted" in text
    with FortigateLab(load_state(state_file), tokens={CANARY: "baluarte-ro"}) as replay:
        write_inputs(tmp_path, {"fw-office": replay})
        result = check(tmp_path)
    assert statuses(result, "fw-office") == {c: "fail" for c in FORTIGATE_CONTROLS}


def test_capture_of_an_unreachable_unit_exits_3_without_a_file(
    tmp_path: Path, hardened: FortigateLab
) -> None:
    write_inputs(tmp_path, {"fw-hq": hardened})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inv = (
        (tmp_path / "inventory.yaml").read_text().replace(f"port: {hardened.port}", f"port: {port}")
    )
    (tmp_path / "inventory.yaml").write_text(inv)
    captured = subprocess.run(
        [str(BIN), "lab", "capture", "fortigate", "fw-hq", "-o", str(tmp_path / "s.json"),
         "--inventory", str(tmp_path / "inventory.yaml")],
        capture_output=True, text=True, env={**os.environ, "BALUARTE_TEST_CANARY": CANARY},
        timeout=120, check=False,
    )  # fmt: skip
    assert captured.returncode == 3
    assert "unreachable" in captured.stderr and "Traceback" not in captured.stderr
    assert not (tmp_path / "s.json").exists()


def test_fields_the_token_may_not_read_are_errors_not_defaults(tmp_path: Path) -> None:
    """FortiOS answers 200 and silently leaves out fields the profile may not read."""
    state = shipped_state("hardened")
    for profile in state["global"]["system/accprofile"]:
        if profile["name"] == "baluarte_ro":
            profile["sysgrp"] = "custom"
            profile["sysgrp-permission"] = {
                "cfg": "read",
                "admin": "none",
                "upd": "read",
                "mnt": "read",
            }
    with FortigateLab(state, tokens={CANARY: "baluarte-ro"}) as unit:
        write_inputs(tmp_path, {"fw-hq": unit})
        result = check(tmp_path)
        answered = [r for r in unit.requests if r.path == "/api/v2/cmdb/system/global"]
    assert answered and {r.status for r in answered} == {200}
    timeout = findings(result)[("fw-hq", "access.admin_session_timeout")]
    assert timeout["status"] == "error"
    assert "admintimeout" in timeout["reason"] and "system/global" in timeout["reason"]
    crypto = findings(result)[("fw-hq", "access.strong_crypto")]
    assert crypto["status"] == "error"


def test_answers_that_look_fine_but_prove_nothing_are_not_passes(tmp_path: Path) -> None:
    """An administrator table with no row (FortiOS never has none), syslog "enable" with no
    server (logs go nowhere) and antivirus definitions stamped by a clock running a month
    ahead (a negative age passes any limit)."""
    state = shipped_state("hardened")
    state["global"]["system/admin"] = []
    state["global"]["log.syslogd/setting"]["server"] = ""
    state["global"]["log.fortianalyzer/setting"]["status"] = "disable"
    state["monitor"]["license/status"]["antivirus"]["last_update"] = int(time.time()) + 30 * 86400
    with FortigateLab(state, tokens={CANARY: "baluarte-ro"}) as unit:
        write_inputs(tmp_path, {"fw-hq": unit})
        result = check(tmp_path)
        read = {r.path for r in unit.requests}
    got = statuses(result, "fw-hq")
    for control in ("access.admin_accounts", "access.admin_mfa", "access.admin_trusted_hosts"):
        assert got[control] == "error", (control, findings(result)[("fw-hq", control)])
        assert "answered no administrator" in findings(result)[("fw-hq", control)]["reason"]
    forwarding = findings(result)[("fw-hq", "logging.remote_forwarding")]
    assert forwarding["status"] == "fail", forwarding
    assert "status enable but no server set" in forwarding["observed"]
    # the other syslog servers are read: the first one forwards nothing
    assert "/api/v2/cmdb/log.syslogd2/setting" in read
    definitions = findings(result)[("fw-hq", "firewall.security_services_current")]
    assert definitions["status"] == "error", definitions
    assert "days ahead of the collection time" in definitions["reason"]
    assert got["access.admin_session_timeout"] == "pass"  # the rest of the unit is judged
