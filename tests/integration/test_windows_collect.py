"""The Windows collector with the real pypsrp against the Windows lab over real HTTP(S).

Two lab hosts per module: NTLM over HTTP (MS-WSMV message encryption) and Basic over HTTPS
(the lab CA verified). Inventory → DeviceRef → collect / capture / ``baluarte lab capture``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from baluarte.collected import Collected, CollectOptions
from baluarte.errors import AuthFailed, BadAnswer, DeviceError, TimedOut, Unreachable
from baluarte.inventory import load_inventory
from baluarte.lab.windows import Fault, WindowsLab, load_state
from baluarte.lab.windows.capture import capture
from baluarte.lab.windows.state import shift_timestamps
from baluarte.plan import DevicePlan
from checks.windows.collector import DOMAINS, NOT_THE_DOCUMENT, collect
from checks.windows.document import CHECKS, SCHEMA
from checks.windows.read import when

CANARY = "canary-Zq8v1XkP-do-not-leak"
WRONG = "not-the-password-0000"
BIN = Path(sys.executable).parent / "baluarte"
NOW = "2026-11-28T10:00:00.0000000Z"


def host_state(hostname: str = "PC-RECEPCION") -> dict[str, Any]:
    """A small Windows 11 host: os.build answered, every other check failed on the host."""
    checks: dict[str, Any] = {
        check: {
            "ok": False,
            "error": f"{check} is not recorded in this test state",
            "errorId": "NotRecorded",
        }
        for check in CHECKS
    }
    checks["os.build"] = {
        "ok": True,
        "ms": 40,
        "data": {
            "Caption": "Microsoft Windows 11 Pro",
            "ProductName": "Windows 10 Pro",
            "EditionID": "Professional",
            "InstallationType": "Client",
            "DisplayVersion": "24H2",
            "CurrentBuild": 26100,
            "UBR": 4349,
            "Version": "10.0.26100.4349",
            "ProductType": 1,
            "LastBootUpTime": "2026-11-27T06:41:10.5000000Z",
        },
    }
    return {
        "hostname": hostname,
        "os": "Windows 11 Pro 24H2",
        "output": {
            "schema": SCHEMA,
            "host": {
                "ComputerName": hostname,
                "Domain": "WORKGROUP",
                "PartOfDomain": False,
                "Now": NOW,
                "PSVersion": "5.1.26100.4349",
            },
            "checks": checks,
        },
    }


@pytest.fixture(scope="module")
def ntlm_lab() -> Iterator[WindowsLab]:
    with WindowsLab(load_state(host_state()), users={"baluarte": CANARY}, auth="ntlm") as lab:
        yield lab


@pytest.fixture(scope="module")
def basic_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WindowsLab]:
    cert_dir = tmp_path_factory.mktemp("win-ca")
    with WindowsLab(
        load_state(host_state("SRV-FICHEROS")),
        users={"baluarte": CANARY},
        auth="basic",
        https=True,
        cert_dir=cert_dir,
    ) as lab:
        yield lab


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("BALUARTE_TEST_WIN_PW", CANARY)
    monkeypatch.setenv("BALUARTE_TEST_WIN_WRONG", WRONG)
    yield


@pytest.fixture(autouse=True)
def no_faults_left(ntlm_lab: WindowsLab, basic_lab: WindowsLab) -> Iterator[None]:
    yield
    ntlm_lab.faults.clear()
    basic_lab.faults.clear()


def device_yaml(name: str, lab: WindowsLab, *, port: int = 0, var: str = "BALUARTE_TEST_WIN_PW",
                auth: str | None = None, ca: Path | None = None) -> str:  # fmt: skip
    https = lab.url.startswith("https")
    settings = {
        "user": "baluarte",
        "password": f"env:{var}",
        "auth": auth or ("basic" if https else "ntlm"),
        "https": https,
    }
    if https:
        settings["ca_bundle"] = str(ca or lab.ca_path)
    return textwrap.dedent(f"""\
        - name: {name}
          platform: windows
          address: 127.0.0.1
          port: {port or lab.port}
          winrm: {json.dumps(settings)}
    """)


def write_inventory(tmp: Path, *devices: str) -> Path:
    path = tmp / "inventory.yaml"
    path.write_text(
        "clients:\n  - name: acme\n    legal_name: ACME Asesores S.L.\n    sites:\n"
        "      - name: hq\n        devices:\n"
        + "".join(textwrap.indent(d, " " * 10) for d in devices)
    )
    return path


def plans_for(inventory: Path) -> list[DevicePlan]:
    # the collector reads everything whatever the controls: a plan without controls will do
    return [DevicePlan(ref, ()) for ref in load_inventory([inventory]).select()]


def run_collect(tmp: Path, *devices: str, **opts: Any) -> dict[str, Collected | DeviceError]:
    options = CollectOptions(artifacts=tmp / "artifacts", **opts)
    plans = plans_for(write_inventory(tmp, *devices))
    return {ref.name: result for ref, result in collect(plans, options)}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("which", ["ntlm", "basic"])
def test_facts_over_ntlm_http_and_basic_https(
    which: str, ntlm_lab: WindowsLab, basic_lab: WindowsLab, tmp_path: Path
) -> None:
    lab = ntlm_lab if which == "ntlm" else basic_lab
    before = len(lab.requests)
    result = run_collect(tmp_path, device_yaml("pc1", lab))["pc1"]
    assert isinstance(result, Collected), result
    assert result.identity.hostname == ("PC-RECEPCION" if which == "ntlm" else "SRV-FICHEROS")
    assert "Windows 11" in result.identity.os
    assert set(result.facts) | set(result.problems) <= set(DOMAINS)
    made = lab.requests[before:]
    assert result.round_trips == len(made)
    if which == "ntlm":  # everything after the handshake travelled sealed
        assert all(r.encrypted for r in made if r.action is not None)
        assert [r.action for r in made[:3]] == [None, None, None]  # empty POST + 2 NTLM legs
    else:
        assert all(r.authorization == "Basic ***" for r in made)
    assert all(r.status in (200, 401) for r in made if r.action is None)  # auth legs
    assert {r.action for r in made if r.action and r.status != 200} <= {"Receive"}  # op. timeout


def test_requests_per_host_are_few_and_constant(ntlm_lab: WindowsLab, tmp_path: Path) -> None:
    counts = []
    for _ in range(3):
        before = len(ntlm_lab.requests)
        result = run_collect(tmp_path, device_yaml("pc1", ntlm_lab))["pc1"]
        assert isinstance(result, Collected), result
        actions = [r.action for r in ntlm_lab.requests[before:]]
        counts.append(len(actions))
        assert actions.count("Command") == 1  # ONE pipeline
        assert actions.count("Create") == 1 and actions.count("Delete") == 1
    assert counts[0] == counts[1] == counts[2] <= 12


def test_wrong_password_is_auth_failed(
    ntlm_lab: WindowsLab, basic_lab: WindowsLab, tmp_path: Path
) -> None:
    results = run_collect(
        tmp_path,
        device_yaml("pc-ntlm", ntlm_lab, var="BALUARTE_TEST_WIN_WRONG"),
        device_yaml("pc-basic", basic_lab, var="BALUARTE_TEST_WIN_WRONG"),
    )
    for name, method in (("pc-ntlm", "NTLM"), ("pc-basic", "Basic")):
        bad = results[name]
        assert type(bad) is AuthFailed, bad
        assert f"credentials refused ({method}): wrong user or password" in str(bad)


def test_unreachable_port_and_unknown_ca(basic_lab: WindowsLab, tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text(Path("/etc/ssl/certs/ca-certificates.crt").read_text())
    results = run_collect(
        tmp_path,
        device_yaml("gone", basic_lab, port=closed_port()),
        device_yaml("bad-ca", basic_lab, ca=other_ca),
    )
    gone = results["gone"]
    assert type(gone) is Unreachable and "cannot connect" in str(gone)
    bad_ca = results["bad-ca"]
    assert type(bad_ca) is Unreachable
    assert "TLS certificate verification failed" in str(bad_ca)
    assert "winrm.ca_bundle" in str(bad_ca)


def test_wsman_fault_names_its_code(ntlm_lab: WindowsLab, tmp_path: Path) -> None:
    ntlm_lab.faults.add(Fault("wsman_fault", action="Command", code=5, reason="Access is denied."))
    result = run_collect(tmp_path, device_yaml("pc1", ntlm_lab))["pc1"]
    assert type(result) is DeviceError
    assert "WS-Management fault 5 (0x00000005)" in str(result)
    assert "Access is denied." in str(result) and "Remote Management Users" in str(result)


def test_terminating_error_carries_its_message(ntlm_lab: WindowsLab, tmp_path: Path) -> None:
    ntlm_lab.faults.add(Fault("ps_terminating", message="Get-CimInstance: Invalid class"))
    result = run_collect(tmp_path, device_yaml("pc1", ntlm_lab))["pc1"]
    assert type(result) is DeviceError
    assert "the check script stopped with an error" in str(result)
    assert "Get-CimInstance: Invalid class" in str(result)


def test_output_that_is_not_the_contract_is_bad_answer(
    ntlm_lab: WindowsLab, tmp_path: Path
) -> None:
    ntlm_lab.faults.add(Fault("bad_output", message="WARNING: something else entirely"))
    result = run_collect(tmp_path, device_yaml("pc1", ntlm_lab))["pc1"]
    assert type(result) is BadAnswer
    assert str(result).startswith(NOT_THE_DOCUMENT)


def test_non_terminating_error_outside_the_checks_still_collects(
    ntlm_lab: WindowsLab, tmp_path: Path
) -> None:
    ntlm_lab.faults.add(Fault("ps_error", message="a stray non-terminating error"))
    result = run_collect(tmp_path, device_yaml("pc1", ntlm_lab))["pc1"]
    assert isinstance(result, Collected), result


def test_slow_pipeline_is_stopped_at_the_deadline(ntlm_lab: WindowsLab, tmp_path: Path) -> None:
    ntlm_lab.faults.add(Fault("slow", polls=10_000))
    ntlm_lab.faults.add(Fault("latency", action="Receive", seconds=0.2, times=None))
    before = len(ntlm_lab.requests)
    result = run_collect(tmp_path, device_yaml("pc1", ntlm_lab), command_timeout=1.5)["pc1"]
    assert type(result) is TimedOut, result
    assert "1.5 s" in str(result)
    made = ntlm_lab.requests[before:]
    # the pipeline was stopped on the host and its shell deleted, not abandoned
    cleanup = [(r.action, r.status) for r in made if r.action in ("Signal", "Delete")]
    assert cleanup == [("Signal", 200), ("Delete", 200)]
    assert made[-1].action == "Delete"


def test_one_bad_host_does_not_cost_the_other(ntlm_lab: WindowsLab, tmp_path: Path) -> None:
    results = run_collect(
        tmp_path,
        device_yaml("good", ntlm_lab),
        device_yaml("bad", ntlm_lab, var="BALUARTE_TEST_WIN_WRONG"),
        device_yaml("gone", ntlm_lab, port=closed_port()),
    )
    assert isinstance(results["good"], Collected)
    assert type(results["bad"]) is AuthFailed
    assert type(results["gone"]) is Unreachable


def test_missing_secret_is_credentials_unavailable(ntlm_lab: WindowsLab, tmp_path: Path) -> None:
    os.environ.pop("BALUARTE_TEST_WIN_UNSET", None)
    result = run_collect(tmp_path, device_yaml("pc1", ntlm_lab, var="BALUARTE_TEST_WIN_UNSET"))
    assert type(result["pc1"]) is DeviceError
    assert str(result["pc1"]).startswith("credentials unavailable: ")
    assert "BALUARTE_TEST_WIN_UNSET" in str(result["pc1"])


def test_canary_password_never_leaks(
    ntlm_lab: WindowsLab,
    basic_lab: WindowsLab,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ntlm_lab.faults.add(Fault("wsman_fault", action="Receive", code=5, times=1))
    with caplog.at_level(logging.DEBUG):
        results = run_collect(
            tmp_path,
            device_yaml("good", basic_lab),
            device_yaml("wrong", basic_lab, var="BALUARTE_TEST_WIN_WRONG"),
            device_yaml("fault", ntlm_lab),
            device_yaml("ntlm", ntlm_lab),
        )
    texts = [repr(r) for r in results.values()] + [str(r) for r in results.values()]
    texts += [r.model_dump_json() for r in results.values() if isinstance(r, Collected)]
    texts.append(caplog.text)
    texts += [repr(r) for r in (*ntlm_lab.requests, *basic_lab.requests)]
    assert any(isinstance(r, DeviceError) for r in results.values())
    assert not [t for t in texts if CANARY in t]


def test_capture_gives_a_state_the_lab_serves_again(basic_lab: WindowsLab, tmp_path: Path) -> None:
    inventory = load_inventory([write_inventory(tmp_path, device_yaml("srv", basic_lab))])
    device = inventory.clients[0].sites[0].devices[0]
    state = capture(device)
    assert state["hostname"] == "SRV-FICHEROS"
    assert state["os"] == "Windows 11 Pro 24H2"
    assert state["output"]["schema"] == SCHEMA
    assert set(state["output"]["checks"]) == set(CHECKS)
    # the lab moved every timestamp to lab time; moved back, it is the recorded document
    original = host_state("SRV-FICHEROS")["output"]
    moved = when(state["output"]["host"]["Now"]) - when(NOW)
    assert shift_timestamps(original, moved) == state["output"]
    # the captured state, served again (time frozen), is captured again identically
    with WindowsLab(
        load_state(state), users={"baluarte": CANARY}, auth="ntlm", freeze_time=True
    ) as again:
        inv2 = load_inventory([write_inventory(tmp_path, device_yaml("srv", again))])
        state2 = capture(inv2.clients[0].sites[0].devices[0])
    assert state2 == state


def _capture_cli(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), "lab", "capture", "windows", *args, "--inventory", str(tmp / "inventory.yaml")],
        capture_output=True,
        text=True,
        env={**os.environ, "BALUARTE_TEST_WIN_PW": CANARY},
        timeout=120,
        check=False,
    )


def test_cli_capture_exit_codes(ntlm_lab: WindowsLab, tmp_path: Path) -> None:
    write_inventory(
        tmp_path,
        device_yaml("pc1", ntlm_lab),
        device_yaml("gone", ntlm_lab, port=closed_port()),
    )
    out = tmp_path / "pc1.json"
    ok = _capture_cli(tmp_path, "pc1", "-o", str(out))
    assert ok.returncode == 0, ok.stderr
    assert "checks written to" in ok.stderr
    state = load_state(out)
    assert state.hostname == "PC-RECEPCION" and state.os == "Windows 11 Pro 24H2"
    assert CANARY not in out.read_text() + ok.stdout + ok.stderr

    gone = _capture_cli(tmp_path, "gone", "-o", str(tmp_path / "gone.json"))
    assert gone.returncode == 3, gone.stderr
    assert "unreachable" in gone.stderr and "Traceback" not in gone.stderr
    assert not (tmp_path / "gone.json").exists()

    unknown = _capture_cli(tmp_path, "nobody", "-o", str(tmp_path / "x.json"))
    assert unknown.returncode == 2, unknown.stderr


def test_the_update_search_gets_the_host_s_deadline_less_a_margin(
    ntlm_lab: WindowsLab, tmp_path: Path
) -> None:
    # one pipeline still; the script the host runs gives the search its time limit
    for timeout, limit in ((120.0, 100), (30.0, 25)):
        before = len(ntlm_lab.scripts)
        result = run_collect(tmp_path, device_yaml("pc1", ntlm_lab), command_timeout=timeout)
        assert isinstance(result["pc1"], Collected), result
        [script] = ntlm_lab.scripts[before:]
        assert script.splitlines()[1] == f"$baluarteSearchSeconds = {limit}"
