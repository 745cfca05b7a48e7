"""The Windows lab server driven by the REAL pypsrp client over real HTTP(S) on 127.0.0.1.

One NTLM/HTTP lab per module for the tests that only read; small extra labs (they start in
milliseconds) for other auth modes and for faults. The CLI runs as a subprocess at the end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from pypsrp.client import Client
from pypsrp.exceptions import AuthenticationError, WinRMTransportError, WSManFaultError
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from baluarte.lab.windows import Fault, WindowsLab
from checks.windows.document import MARKER
from tests.unit.windows_lab.sample_state import sample_state

CANARY = "canary-Wn7q2LxR-do-not-leak"
USERS = {"baluarte": CANARY}
SCRIPT = MARKER + "\n$ErrorActionPreference = 'Stop'\n"
BIN = Path(sys.executable).parent / "baluarte"


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("win-ca")


@pytest.fixture(scope="module")
def win() -> Iterator[WindowsLab]:
    with WindowsLab(sample_state(), users=USERS, auth="ntlm") as lab:
        yield lab
    assert lab.internal_errors == []


@pytest.fixture
def make_lab(cert_dir: Path) -> Iterator[Callable[..., WindowsLab]]:
    started: list[WindowsLab] = []

    def make(state: dict | None = None, **settings: Any) -> WindowsLab:
        settings.setdefault("users", USERS)
        settings.setdefault("cert_dir", cert_dir)
        lab = WindowsLab(state or sample_state(), **settings).start()
        started.append(lab)
        return lab

    yield make
    for lab in started:
        lab.stop()
        assert lab.internal_errors == []


def wsman(lab: WindowsLab, username: str = "baluarte", password: str = CANARY, **kw: Any) -> WSMan:
    kw.setdefault("auth", lab.auth)
    kw.setdefault("ssl", lab.https)
    if lab.https:
        kw.setdefault("cert_validation", str(lab.ca_path))
    return WSMan(
        lab.host, port=lab.port, username=username, password=password, no_proxy=True,
        operation_timeout=5, read_timeout=10, connection_timeout=5, **kw,
    )  # fmt: skip


def run(lab: WindowsLab, script: str = SCRIPT, **kw: Any) -> PowerShell:
    with wsman(lab, **kw) as conn, RunspacePool(conn) as pool:
        ps = PowerShell(pool)
        ps.add_script(script)
        ps.invoke()
        return ps


def document(ps: PowerShell) -> dict[str, Any]:
    assert len(ps.output) == 1, ps.output
    return json.loads(ps.output[0])


def actions(lab: WindowsLab, since: int = 0) -> list[tuple[str | None, int]]:
    return [(r.action, r.status) for r in lab.requests[since:]]


# -- auth and transport ------------------------------------------------------------------------


def test_ntlm_over_http_is_message_encrypted(win: WindowsLab) -> None:
    before = len(win.requests)
    ps = run(win)
    doc = document(ps)
    assert ps.had_errors is False and not ps.streams.error
    assert doc["host"]["ComputerName"] == "PC-PRUEBA"
    # lab time: host.Now is about now, and the boot still one day before it
    now = datetime.fromisoformat(doc["host"]["Now"].replace("0000000Z", "+00:00"))
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
    assert doc["checks"]["os.build"]["data"]["LastBootUpTime"].endswith(".5000000Z")
    wsman_requests = [r for r in win.requests[before:] if r.action is not None]
    assert [r.action for r in wsman_requests][:3] == ["Create", "Receive", "Command"]
    assert all(r.encrypted and r.status == 200 for r in wsman_requests)
    assert win.scripts[-1] == SCRIPT


def test_plaintext_ntlm_over_http_is_refused(win: WindowsLab) -> None:
    with pytest.raises(AuthenticationError):
        run(win, encryption="never")


def test_wrong_password_is_an_authentication_error(win: WindowsLab) -> None:
    with pytest.raises(AuthenticationError):
        run(win, password="wrong-password")
    with pytest.raises(AuthenticationError):
        run(win, username="nobody")


def test_local_account_name_forms_are_accepted(win: WindowsLab) -> None:
    for name in ("PC-PRUEBA\\baluarte", ".\\baluarte", "BALUARTE"):
        assert document(run(win, username=name))["host"]["ComputerName"] == "PC-PRUEBA"


def test_negotiate_over_http(make_lab: Callable[..., WindowsLab]) -> None:
    lab = make_lab(auth="negotiate")
    assert document(run(lab))["schema"] == "baluarte-windows/1"
    # the SPNEGO final token went back on the 200 (else pypsrp fails unwrap with BadMIC)
    leg = next(r for r in lab.requests if r.action is None and r.status == 200)
    assert leg.authorization == "Negotiate ***"


def test_basic_over_https_verifies_the_lab_ca(make_lab: Callable[..., WindowsLab]) -> None:
    lab = make_lab(auth="basic", https=True)
    assert lab.url.startswith("https://127.0.0.1:") and lab.url.endswith("/wsman")
    assert document(run(lab))["host"]["ComputerName"] == "PC-PRUEBA"
    assert all(r.authorization == "Basic ***" for r in lab.requests)
    with pytest.raises(requests.exceptions.SSLError):
        run(lab, cert_validation=True)  # the system bundle does not know the lab CA
    with pytest.raises(AuthenticationError):
        run(lab, password="wrong-password")


def test_basic_over_http_is_refused(make_lab: Callable[..., WindowsLab]) -> None:
    lab = make_lab(auth="basic")
    with pytest.raises(AuthenticationError):
        run(lab, encryption="never")


def test_ntlm_over_https_binds_the_channel(make_lab: Callable[..., WindowsLab]) -> None:
    lab = make_lab(auth="ntlm", https=True)
    assert document(run(lab))["host"]["ComputerName"] == "PC-PRUEBA"
    assert not any(r.encrypted for r in lab.requests)  # TLS is enough: no message encryption
    with pytest.raises(AuthenticationError):
        run(lab, negotiate_send_cbt=False)  # no channel binding: refused


def test_execute_ps_and_labs_keep_their_own_users(make_lab: Callable[..., WindowsLab]) -> None:
    other = make_lab(users={"LAB\\admin": "other-" + CANARY}, auth="negotiate")
    client = Client(
        other.host, port=other.port, ssl=False, auth="negotiate", username="admin",
        password="other-" + CANARY, no_proxy=True,
    )  # fmt: skip
    output, streams, had_errors = client.execute_ps(SCRIPT)
    assert json.loads(output)["host"]["ComputerName"] == "PC-PRUEBA"
    assert had_errors is False and streams.error == []
    assert other.scripts == [SCRIPT]  # found inside Invoke-Expression -Command
    with pytest.raises(AuthenticationError):
        run(other)  # baluarte is a user of the module's lab, not of this one


# -- PowerShell answers and output size -----------------------------------------------------------


def test_unknown_script_fails_like_a_missing_command(win: WindowsLab) -> None:
    ps = run(win, "Get-Foo -Bar 1")
    assert ps.had_errors is True and ps.output == []
    assert "The term 'Get-Foo' is not recognized" in str(ps.streams.error[0])


def test_freeze_time_serves_as_recorded(make_lab: Callable[..., WindowsLab]) -> None:
    lab = make_lab(freeze_time=True)
    assert document(run(lab)) == sample_state()["output"]


def test_large_output_is_split_over_receives_within_the_envelope(
    make_lab: Callable[..., WindowsLab],
) -> None:
    lab = make_lab(sample_state(blob=700_000))
    ps = run(lab)
    assert len(document(ps)["checks"]["os.build"]["data"]["Padding"]) == 700_000
    command = next(r.command_id for r in lab.requests if r.action == "Command")
    receives = [r for r in lab.requests if r.action == "Receive" and r.command_id == command]
    assert len(receives) >= 2 and all(r.status == 200 for r in receives)
    assert all(0 < r.reply_bytes <= 512_000 for r in receives)


def test_ten_concurrent_clients(win: WindowsLab) -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            results.append(document(run(win))["host"]["ComputerName"])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and results == ["PC-PRUEBA"] * 10


# -- faults ----------------------------------------------------------------------------------


def test_wsman_fault_on_command(win: WindowsLab) -> None:
    win.faults.add(Fault("wsman_fault", action="Command", code=5, reason="Access is denied."))
    with pytest.raises(WSManFaultError) as info:
        run(win)
    assert info.value.code == 5 and "Access is denied" in str(info.value.reason)


def test_http_500_on_create(win: WindowsLab) -> None:
    win.faults.add(Fault("http_status", action="Create", status=500))
    with pytest.raises(WinRMTransportError) as info:
        run(win)
    assert info.value.code == 500


def test_dropped_connection_is_a_connection_error(win: WindowsLab) -> None:
    conn = wsman(win)
    pool = RunspacePool(conn)
    pool.open()
    before, scripts = len(win.requests), len(win.scripts)
    win.faults.add(Fault("drop", action="Command"))
    ps = PowerShell(pool)
    ps.add_script(SCRIPT)
    # not inside `with pool`: its Delete would go out on a new connection sealed with the
    # dead one's NTLM keys and fail in its own way, hiding this error
    with pytest.raises(requests.exceptions.ConnectionError):
        ps.invoke()
    conn.close()
    assert actions(win, before) == [("Command", 0)]  # dropped before the pipeline was created
    assert len(win.scripts) == scripts


def test_latency_delays_the_answer(win: WindowsLab) -> None:
    win.faults.add(Fault("latency", action="Create", seconds=0.5))
    started = time.monotonic()
    document(run(win))
    assert time.monotonic() - started >= 0.5


def test_terminating_error_fails_the_pipeline(win: WindowsLab) -> None:
    win.faults.add(Fault("ps_terminating", message="Get-CimInstance: Access denied"))
    ps = run(win)
    assert ps.had_errors is True and ps.output == []
    assert "Access denied" in str(ps.streams.error[0])


def test_non_terminating_error_keeps_the_output(win: WindowsLab) -> None:
    win.faults.add(Fault("ps_error", message="Get-MpComputerStatus: not found"))
    ps = run(win)
    assert ps.had_errors is False
    assert document(ps)["host"]["ComputerName"] == "PC-PRUEBA"
    assert "not found" in str(ps.streams.error[0])


def test_output_that_is_not_the_contract(win: WindowsLab) -> None:
    win.faults.add(Fault("bad_output", message="WARNING: something else"))
    ps = run(win)
    assert ps.output == ["WARNING: something else"] and ps.had_errors is False


def test_slow_pipeline_answers_operation_timeouts_first(win: WindowsLab) -> None:
    before = len(win.requests)
    win.faults.add(Fault("slow", polls=3))
    ps = run(win)
    assert document(ps)["host"]["ComputerName"] == "PC-PRUEBA"
    command = next(r.command_id for r in win.requests[before:] if r.action == "Command")
    statuses = [r.status for r in win.requests[before:] if r.command_id == command]
    assert statuses[1:5] == [500, 500, 500, 200]  # Command, 3 timeouts, then the output


def test_slow_pipeline_can_be_stopped(win: WindowsLab) -> None:
    win.faults.add(Fault("slow", polls=1000))
    with wsman(win) as conn, RunspacePool(conn) as pool:
        ps = PowerShell(pool)
        ps.add_script(SCRIPT)
        ps.begin_invoke()
        for _ in range(3):
            ps.poll_invoke()
        ps.stop()
        assert ps.output == []
        ps2 = PowerShell(pool)  # the pool still works
        ps2.add_script(SCRIPT)
        ps2.invoke()
        assert document(ps2)["host"]["ComputerName"] == "PC-PRUEBA"
    win.faults.clear()


# -- secrets -----------------------------------------------------------------------------------


def test_no_secret_in_the_log_or_reprs(win: WindowsLab) -> None:
    run(win)
    assert CANARY not in repr(win.requests) + repr(win) + repr(win.credentials.__dict__)
    store = win.credentials.store
    assert store is not None and CANARY not in store.read_text()
    assert oct(store.stat().st_mode & 0o777) == "0o600"


# -- CLI ---------------------------------------------------------------------------------------


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "pc.json"
    state.write_text(json.dumps(sample_state()))
    env = {**os.environ, "WIN_PW": CANARY}
    proc = subprocess.Popen(
        [str(BIN), "lab", "serve", "windows", "--state", str(state), "--auth", "ntlm",
         "--user", "baluarte", "--password-env", "WIN_PW"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/wsman")
        probe = requests.post(url, data=b"", timeout=5, proxies={"http": ""})
        assert probe.status_code == 401 and probe.headers["WWW-Authenticate"] == "Negotiate"
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        with WSMan("127.0.0.1", port=port, ssl=False, auth="ntlm", username="baluarte",
                   password=CANARY, no_proxy=True) as conn, RunspacePool(conn) as pool:  # fmt: skip
            ps = PowerShell(pool)
            ps.add_script(SCRIPT)
            assert json.loads(ps.invoke()[0])["host"]["ComputerName"] == "PC-PRUEBA"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert CANARY not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_bad_state_exits_2_with_one_line(tmp_path: Path) -> None:
    state = tmp_path / "bad.json"
    state.write_text(json.dumps(sample_state(hostname="")))
    result = subprocess.run(
        [str(BIN), "lab", "serve", "windows", "--state", str(state), "--password-env", "WIN_PW"],
        capture_output=True, text=True, timeout=30, env={**os.environ, "WIN_PW": "x"},
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "hostname" in lines[0]
