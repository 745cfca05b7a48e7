"""`baluarte lab up | status | down`: the demo's lab devices kept running in the background.

The real command starts the real background process (baluarte.lab.runner) serving the real
FortiGate and Windows emulators; checks and applies go through it over HTTPS and WinRM with the
inventory it writes, run with an empty environment. Every test stops what it started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli import BIN
from tests.terminal import run_with_stderr_on_terminal

REPO = Path(__file__).resolve().parents[2]
SECRET_FILES = ("fw-oficina.token", "pc-recepcion.password")


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


def pid_of(folder: Path) -> int:
    return int((folder / "lab.pid").read_text())


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def logged(folder: Path, line: str, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while line not in (folder / "lab.log").read_text():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder like the project's: policies/ and inventory/example.yaml."""
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    (tmp_path / "inventory").mkdir()
    shutil.copy(REPO / "inventory" / "example.yaml", tmp_path / "inventory")
    return tmp_path


@pytest.fixture
def lab_dir(project: Path) -> Iterator[Path]:
    """The lab's folder; whatever lab runs there at the end is stopped, and killed if need be."""
    folder = project / "lab"
    yield folder
    pid = pid_of(folder) if (folder / "lab.pid").exists() else None
    run(project, "lab", "down", "--dir", str(folder))
    if pid is not None and alive(pid) and b"baluarte.lab.runner" in _cmdline(pid):
        os.kill(pid, signal.SIGKILL)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def up(project: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    result = run(project, "lab", "up", "--dir", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def findings(result: subprocess.CompletedProcess[str]) -> dict[tuple[str, str], dict[str, Any]]:
    doc = json.loads(result.stdout)
    return {(f["device"], f["control"]): f for f in doc["findings"]}


def empty_env() -> dict[str, str]:
    """What `env -i PATH=…` leaves: no secret reference can come from the environment."""
    return {"PATH": "/usr/bin:/bin"}


def test_up_serves_both_devices_to_an_inventory_that_needs_no_environment(
    project: Path, lab_dir: Path
) -> None:
    shown = up(project, lab_dir)
    pid = pid_of(lab_dir)
    assert alive(pid)
    assert b"baluarte.lab.runner" in _cmdline(pid)
    assert "https://127.0.0.1:" in shown.stdout and "/wsman" in shown.stdout
    inventory = lab_dir / "inventory.yaml"
    assert str(inventory.relative_to(project)) in shown.stdout
    assert "baluarte apply --inventory lab/inventory.yaml --device fw-oficina" in shown.stdout
    assert stat.S_IMODE(lab_dir.stat().st_mode) == 0o700
    for name in SECRET_FILES:
        assert stat.S_IMODE((lab_dir / name).stat().st_mode) == 0o600, name

    # --site lab: both lab devices, read with the file: secrets alone
    checked = run(
        project, "check", "--inventory", str(inventory), "--site", "lab", "--format", "json",
        "--db", str(project / "runs.db"), "--artifacts", str(lab_dir), env=empty_env(),
    )  # fmt: skip
    assert checked.returncode == 1, checked.stderr[-3000:]
    got = findings(checked)
    for device in ("fw-oficina", "pc-recepcion"):
        statuses = {f["status"] for (d, _), f in got.items() if d == device}
        assert "fail" in statuses and "error" not in statuses, (device, statuses)
    # the lab's API user may take backups: the check kept the firewall's configuration
    assert got[("fw-oficina", "backup.config_saved")]["status"] == "pass"
    assert list((lab_dir / "fortigate/demo/lab/fw-oficina").glob("*.conf"))

    secrets = [(lab_dir / name).read_text().strip() for name in SECRET_FILES]
    assert all(len(s) >= 20 for s in secrets)
    # the runner writes what the devices received every half second: wait for the check's lines
    assert logged(lab_dir, "fortigate GET /api/v2/"), (lab_dir / "lab.log").read_text()
    exposed = {
        "cmdline": _cmdline(pid).decode(),
        "environ": Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace"),
        "lab.log": (lab_dir / "lab.log").read_text(),
        "lab up": shown.stdout + shown.stderr,
        "check": checked.stdout + checked.stderr,
    }
    for where, text in exposed.items():
        for secret in secrets:
            assert secret not in text, where


def test_up_twice_leaves_it_and_down_twice_is_no_error(project: Path, lab_dir: Path) -> None:
    up(project, lab_dir)
    pid = pid_of(lab_dir)
    inventory = (lab_dir / "inventory.yaml").read_text()

    again = up(project, lab_dir)
    assert "already running" in again.stdout
    assert pid_of(lab_dir) == pid and alive(pid)
    assert (lab_dir / "inventory.yaml").read_text() == inventory  # same ports, same secrets

    status = run(project, "lab", "status", "--dir", str(lab_dir))
    assert status.returncode == 0 and f"pid {pid}" in status.stdout

    down = run(project, "lab", "down", "--dir", str(lab_dir))
    assert down.returncode == 0, down.stderr
    assert "stopped" in down.stdout
    assert gone(pid)
    assert not (lab_dir / "lab.pid").exists() and not (lab_dir / "lab.json").exists()
    assert (lab_dir / "inventory.yaml").exists()  # kept for the next `lab up`
    assert "lab stopped" in (lab_dir / "lab.log").read_text()

    twice = run(project, "lab", "down", "--dir", str(lab_dir))
    assert twice.returncode == 0 and "No lab is running" in twice.stdout
    status = run(project, "lab", "status", "--dir", str(lab_dir))
    assert status.returncode == 1 and "No lab is running" in status.stdout


def test_a_stale_pid_file_is_removed_and_never_kills_what_it_names(
    project: Path, lab_dir: Path
) -> None:
    lab_dir.mkdir(mode=0o700)
    finished = subprocess.Popen(["true"])
    finished.wait()
    (lab_dir / "lab.pid").write_text(f"{finished.pid}\n")  # a process that is gone
    down = run(project, "lab", "down", "--dir", str(lab_dir))
    assert down.returncode == 0 and "stale" in down.stdout, down.stdout
    assert not (lab_dir / "lab.pid").exists()

    # a pid reused by another program: not the lab, so not signalled
    other = subprocess.Popen(["sleep", "60"])
    try:
        (lab_dir / "lab.pid").write_text(f"{other.pid}\n")
        down = run(project, "lab", "down", "--dir", str(lab_dir))
        assert down.returncode == 0 and "stale" in down.stdout
        assert other.poll() is None  # still running

        (lab_dir / "lab.pid").write_text(f"{other.pid}\n")
        started = up(project, lab_dir)
        assert "stale" in started.stdout and "Lab up" in started.stdout
        assert pid_of(lab_dir) != other.pid and other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_apply_through_the_lab_changes_the_firewall_after_a_backup(
    project: Path, lab_dir: Path
) -> None:
    up(project, lab_dir)
    inventory = str(lab_dir / "inventory.yaml")
    backups = lab_dir / "fortigate/demo/lab/fw-oficina"
    assert not backups.exists()

    def check() -> dict[tuple[str, str], dict[str, Any]]:
        result = run(
            project, "check", "--inventory", inventory, "--device", "fw-oficina",
            "--format", "json", "--db", str(project / "runs.db"), env=empty_env(),
        )  # fmt: skip
        assert result.returncode == 1, result.stderr[-3000:]
        return findings(result)

    before = check()
    assert before[("fw-oficina", "access.admin_session_timeout")]["status"] == "fail"
    applied = run(
        project, "apply", "--inventory", inventory, "--device", "fw-oficina", "--yes",
        "--artifacts", str(lab_dir), "--ticket", "CHG-1", "--approved-by", "Luis Pérez",
        "--db", str(project / "runs.db"), env=empty_env(),
    )  # fmt: skip
    assert applied.returncode in (0, 1), applied.stderr[-3000:]
    assert list(backups.glob("*.conf")), "no configuration backup before the first write"
    after = check()
    assert after[("fw-oficina", "access.admin_session_timeout")]["status"] == "pass"
    assert logged(lab_dir, "fortigate PUT /api/v2/cmdb/system/global")


def test_demo_checks_the_running_lab_and_leaves_it_running(project: Path) -> None:
    """On a terminal, as a technician runs it: a progress bar on stderr; the devices are the
    lab's, which keeps running; the ending names the next commands, `lab up` not among them."""
    folder = project / "baluarte-reports" / "lab"
    up(project, folder)
    pid = pid_of(folder)
    inventory = (folder / "inventory.yaml").read_text()
    try:
        code, terminal, out = run_with_stderr_on_terminal(
            ["demo", "--db", str(project / "runs.db")], cwd=project
        )
        assert code == 0, terminal[-3000:]
        assert "checking" in terminal and "━" in terminal  # the progress bar
        assert "━" not in out
        assert f"Using the lab running in baluarte-reports/lab (pid {pid}" in out
        assert alive(pid)
        assert (folder / "inventory.yaml").read_text() == inventory
        log = (folder / "lab.log").read_text()
        assert "fortigate GET /api/v2/" in log and "windows Command" in log
        assert list((folder / "fortigate/demo/lab/fw-oficina").glob("*.conf"))
        db = f" --db {project / 'runs.db'}"
        assert f"baluarte show 1{db}\n" in out
        assert "     baluarte lab up" not in out
        plan = "baluarte apply --inventory baluarte-reports/lab/inventory.yaml --device fw-oficina"
        assert f"{plan}{db}\n" in out
        assert "baluarte evidence export --client demo --artifacts baluarte-reports/lab" in out
    finally:
        run(project, "lab", "down")
    assert gone(pid)


def test_a_lab_that_cannot_start_is_a_clear_error_and_leaves_no_process(
    project: Path, lab_dir: Path
) -> None:
    lab_dir.mkdir(mode=0o700)
    (lab_dir / "fortigate").write_text("not the CA folder")  # the emulator cannot start
    failed = run(project, "lab", "up", "--dir", str(lab_dir))
    assert failed.returncode == 3, failed.stdout + failed.stderr
    assert "the lab process stopped while starting" in failed.stderr
    assert "lab.log" in failed.stderr and "Traceback" not in failed.stderr
    assert not (lab_dir / "lab.pid").exists() and not (lab_dir / "inventory.yaml").exists()
    runners = subprocess.run(["pgrep", "-f", f"baluarte.lab.runner {lab_dir}"],
                             capture_output=True, text=True)  # fmt: skip
    assert runners.stdout == ""

    (project / "a-file").write_text("")
    refused = run(project, "lab", "up", "--dir", str(project / "a-file"))
    assert refused.returncode == 2 and "cannot be created" in refused.stderr
