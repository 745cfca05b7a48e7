"""`baluarte serve` as a process: its configuration refused with file:line:column, its health,
and a stop in the middle of a check (the run stays incomplete; the check says interrupted)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from baluarte.run import RunState
from baluarte.service import accounts
from baluarte.service.db import ServiceDb
from tests.service._fixtures import POLICIES

BIN = Path(sys.executable).parent / "baluarte"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_host() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (an SSH server that hangs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def _config(folder: Path, ssh_port: int, extra: str = "") -> Path:
    (folder / "inventory.yaml").write_text(
        "clients:\n"
        "  - name: acme\n"
        "    legal_name: Acme S.L.\n"
        "    sites:\n"
        "      - name: madrid\n"
        "        devices:\n"
        "          - name: srv-files\n"
        "            platform: linux\n"
        "            address: 127.0.0.1\n"
        f"            ssh: {{user: root, port: {ssh_port}}}\n"
    )
    path = folder / "serve.yaml"
    path.write_text(
        f"db: {folder / 'runs.db'}\n"
        "inventory: [inventory.yaml]\n"
        f"policies: {POLICIES}\n"
        "artifacts: artifacts\n"
        "timeout: 60\n" + extra
    )
    return path


def _start(config: Path, port: int, home: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "XDG_STATE_HOME": str(home / "state"), "XDG_CACHE_HOME": str(home)}
    proc = subprocess.Popen(
        [str(BIN), "serve", "--config", str(config), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("baluarte serve did not answer /healthz")


def _stop(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return proc.returncode, out.decode()


def test_a_bad_configuration_is_exit_2_with_its_place_and_no_traceback(tmp_path: Path):
    config = _config(tmp_path, 1, "schedules:\n  - name: nightly\n    cron: '0 2 * *'\n")
    done = subprocess.run(
        [str(BIN), "serve", "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert f"{config}:8:5: schedules[0].cron: a cron expression has five fields" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_healthz_tells_the_store_and_the_scheduler_and_sigterm_stops_it(tmp_path: Path):
    config = _config(tmp_path, 1, "schedules:\n  - {name: nightly, cron: '0 2 * * *'}\n")
    port = _free_port()
    proc = _start(config, port, tmp_path)
    try:
        health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
        assert health["status"] == "ok" and health["store"]["ok"] is True
        scheduler = health["scheduler"]
        assert scheduler["leading"] is True  # the only process: it schedules
        [nightly] = scheduler["schedules"]
        assert nightly["name"] == "nightly" and nightly["next_due"]
    finally:
        code, out = _stop(proc)
    assert code == 0, out
    assert "Traceback" not in out


def test_a_stop_mid_check_leaves_the_run_incomplete_and_the_check_interrupted(
    tmp_path: Path, silent_host: int
):
    config = _config(tmp_path, silent_host)
    db = ServiceDb.open(tmp_path / "runs.db")
    accounts.add_user(db, "tom", "technician", "a-long-password-1")
    token = accounts.create_token(db, "tom")
    db.close()
    port = _free_port()
    proc = _start(config, port, tmp_path)
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        started = api.post("/api/v1/checks", json={"client": "acme"})
        assert started.status_code == 202, started.text
        check_id = started.json()["id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = api.get(f"/api/v1/checks/{check_id}").json()
            if state["state"] == "running" and state.get("run_id"):
                break
            time.sleep(0.1)
        assert state["state"] == "running", state  # the host never answers: still collecting
        run_id = state["run_id"]
        time.sleep(1)
    finally:
        began = time.monotonic()
        code, out = _stop(proc)
    assert code == 0, out
    assert time.monotonic() - began < 25  # it did not wait for the 60 s device timeout
    db = ServiceDb.open(tmp_path / "runs.db")
    try:
        run = db.store.get_run(run_id)
        assert run.info.state is RunState.RUNNING  # incomplete, as a signalled CLI run is
        assert run.findings == ()  # nothing was judged from a device that never answered
    finally:
        db.close()
    # started again, the service tells what became of it
    proc = _start(config, port, tmp_path)
    try:
        after = api.get(f"/api/v1/checks/{check_id}").json()
        assert after["state"] == "interrupted" and after["run_id"] == run_id
        runs = api.get("/api/v1/runs", params={"client": "acme"}).json()["runs"]
        assert [(r["id"], r["state"]) for r in runs] == [(run_id, "running")]
    finally:
        _stop(proc)
        api.close()
