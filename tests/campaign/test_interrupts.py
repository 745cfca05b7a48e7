"""Issue 12, class 6: interrupts and timeouts end cleanly, locally and on the hosts.

A real ``baluarte check`` / ``apply --yes`` process is sent a real SIGINT (to its process group,
as a terminal's Ctrl-C is) or SIGTERM while a lab host's script is known to be running: it
blocks reading a fifo. Then: the exit status (130 / 143), what the store holds (the run left
incomplete, what finished kept, each approved change applied / failed / not_run), and that no
process of ours is left, neither here nor on the host. A command that times out must stop on
the host too, and an artifacts write that fails leaves no file.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab
from baluarte.lab.systemd_hosts import SystemdHost, SystemdHostLab
from baluarte.transports.ssh_remote import GRACE
from tests.integration import cli
from tests.integration import conftest as hosts
from tests.integration.test_apply_linux import POLICY as APPLY_POLICY
from tests.integration.test_apply_linux import weak_host
from tests.integration.test_check_linux import POLICY, replace_apt_get

# the lab fixtures of tests/integration, here too
lab, make_host = hosts.lab, hosts.make_host
systemd_lab, make_systemd_host = hosts.systemd_lab, hosts.make_systemd_host

FIFO = "/run/blk.fifo"
STARTED = "/run/blk.started"
# A stand-in that says it started, then blocks until the test writes to the fifo.
BLOCKING = f"touch {STARTED}; cat {FIFO} >/dev/null"


def start(tmp: Path, *args: str) -> subprocess.Popen[str]:
    """The real command, in a process group of its own (the test runner is not in it)."""
    cmd = [str(cli.BIN), *args, "--db", str(tmp / "runs.db")]
    cmd += ["--inventory", str(tmp / "inventory.yaml"), "--policies", str(tmp / "policies")]
    cmd += ["--waivers", str(tmp / "waivers.yaml")]
    env = {**os.environ, "BALUARTE_TEST_CANARY": cli.CANARY}
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp,
        start_new_session=True,
    )


def wait_for(what: str, predicate: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def descendants(pid: int) -> set[int]:
    """Every living process started from ``pid`` (children of children included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            ppid = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid"))
            parents[int(entry.name)] = int(ppid)
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def ours_on(host: LinuxHost | SystemdHost) -> list[str]:
    """Processes of Baluarte's on the host: its supervisors and the blocked stand-in."""
    ps = host.run("ps -eo pid=,args=").stdout.splitlines()
    return [line for line in ps if "baluarte-run" in line or f"cat {FIFO}" in line]


def assert_nothing_left(local: set[int], host: LinuxHost | SystemdHost) -> None:
    wait_for("our local processes to end", lambda: not any(alive(p) for p in local), 30)
    wait_for("our processes on the host to end", lambda: not ours_on(host), 15)


def runs(tmp: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = json.loads(cli.baluarte(tmp, "runs", "--format", "json").stdout)
    return out


def shown(tmp: Path, run_id: int) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(
        cli.baluarte(tmp, "show", str(run_id), "--format", "json").stdout
    )
    return out


# -- check ---------------------------------------------------------------------------------


@pytest.mark.hosts
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_check_keeps_what_finished_and_leaves_nothing_running(
    tmp_path: Path, lab: LinuxHostLab, make_host: Callable[[str], LinuxHost], signum: int
) -> None:
    fast, slow = make_host("fast1"), make_host("slow1")
    slow.run(f"mkfifo {FIFO}")
    replace_apt_get(slow, BLOCKING)
    cli.write_inputs(tmp_path, lab, [fast, slow], policy=POLICY)
    proc = start(tmp_path, "check", "--format", "json")
    try:
        wait_for("the slow host's script to block", lambda: slow.run(f"test -e {STARTED}",
                 check=False).returncode == 0)  # fmt: skip
        wait_for(
            "the fast host's findings to be stored",
            lambda: any(f["device"] == "fast1" for f in _findings(tmp_path)),
        )
        local = descendants(proc.pid)
        assert local  # the SSH worker at least
        assert ours_on(slow)
        sent = time.monotonic()
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)  # what a terminal's Ctrl-C does
        else:
            proc.send_signal(signum)  # what a service manager does
        out, err = proc.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signum, err
    assert took < 20
    assert "incomplete" in err and "Traceback" not in err
    cli.assert_no_canary(out, err)
    assert_nothing_left(local, slow)
    [run] = runs(tmp_path)
    assert run["state"] == "running" and run["ended_at"] is None  # incomplete
    assert {f["device"] for f in shown(tmp_path, run["id"])["findings"]} == {"fast1"}
    assert "incomplete" in cli.baluarte(tmp_path, "runs").stdout
    slow.run("mv /usr/bin/apt-get.real /usr/bin/apt-get")


def _findings(tmp: Path) -> list[dict[str, Any]]:
    done = cli.baluarte(tmp, "show", "1", "--format", "json")
    if done.returncode != 0:
        return []
    found: list[dict[str, Any]] = json.loads(done.stdout)["findings"]
    return found


@pytest.mark.hosts
def test_a_timed_out_script_stops_on_the_host(
    tmp_path: Path, lab: LinuxHostLab, make_host: Callable[[str], LinuxHost]
) -> None:
    stuck = make_host("stuck2")
    replace_apt_get(stuck, "sleep 600")
    cli.write_inputs(tmp_path, lab, [stuck], policy=POLICY)
    started = time.monotonic()
    result = cli.baluarte(tmp_path, "check", "--format", "json", "--timeout", "5")
    assert result.returncode == 3
    err = cli.findings(result)[("stuck2", "patching.updates_pending")]
    assert err["status"] == "error" and "timed out" in err["reason"]
    # the worker closed the connection and the host's supervisor stopped the script at once,
    # well before the host's own backstop (``timeout`` at 5 + GRACE s) would have
    wait_for("the stuck script to stop", lambda: "sleep 600" not in stuck.run("ps -eo args").stdout,
             timeout=5)  # fmt: skip
    assert time.monotonic() - started < 5 + GRACE
    assert not ours_on(stuck)


# -- apply ---------------------------------------------------------------------------------

# systemctl as the host has it, except that the first reload or restart says it started and
# blocks on the fifo: an operation of apply's is then known to be in flight.
SYSTEMCTL = f"""#!/bin/sh
case "$1" in reload|restart)
  if mkdir /run/blk.once 2>/dev/null; then {BLOCKING}; fi ;;
esac
exec /usr/bin/systemctl.real "$@"
"""


def blocking_systemctl(host: SystemdHost) -> None:
    host.run(f"mkfifo {FIFO} && mv /usr/bin/systemctl /usr/bin/systemctl.real")
    host.run("install -m 755 /dev/stdin /usr/bin/systemctl", input=SYSTEMCTL)


def remediations(tmp: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    apply_runs = [r for r in runs(tmp) if r["kind"] == "apply"]
    assert len(apply_runs) == 1
    doc = shown(tmp, apply_runs[0]["id"])
    return apply_runs[0], doc["remediations"]


@pytest.mark.hosts
def test_an_interrupted_apply_finishes_the_operation_in_flight_and_records_the_rest(
    tmp_path: Path, systemd_lab: SystemdHostLab, make_systemd_host: Callable[..., SystemdHost]
) -> None:
    host = weak_host(make_systemd_host, "intr1")
    blocking_systemctl(host)
    cli.write_inputs(tmp_path, systemd_lab, [host], policy=APPLY_POLICY)
    proc = start(tmp_path, "apply", "--format", "json", "--yes", "--all")
    try:
        wait_for("an operation to block", lambda: host.run(f"test -e {STARTED}",
                 check=False).returncode == 0)  # fmt: skip
        local = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(2)
        assert proc.poll() is None  # the operation in flight is let finish
        host.run(f"timeout 10 sh -c 'echo go > {FIFO}'")
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "incomplete" in err and "Traceback" not in err
    cli.assert_no_canary(out, err)
    assert_nothing_left(local, host)
    run, records = remediations(tmp_path)
    assert run["state"] == "running"  # incomplete: no re-check was made
    by_result: dict[str, list[str]] = {}
    for r in records:
        by_result.setdefault(r["result"], []).append(r["control"])
    # the remedy whose reload was in flight finished; nothing started after the interrupt
    assert len(by_result.get("applied", [])) == 1, records
    assert by_result.get("not_run") and "failed" not in by_result, records
    assert all("interrupted" in r["detail"] for r in records if r["result"] == "not_run")
    assert "logging.remote_forwarding" in by_result["not_run"]
    assert "logs.example.net" not in host.run("cat /etc/rsyslog.d/*.conf", check=False).stdout


@pytest.mark.hosts
def test_a_second_signal_aborts_the_operation_in_flight_and_it_stops_on_the_host(
    tmp_path: Path, systemd_lab: SystemdHostLab, make_systemd_host: Callable[..., SystemdHost]
) -> None:
    host = weak_host(make_systemd_host, "intr2")
    blocking_systemctl(host)
    cli.write_inputs(tmp_path, systemd_lab, [host], policy=APPLY_POLICY)
    proc = start(tmp_path, "apply", "--format", "json", "--yes", "--all")
    try:
        wait_for("an operation to block", lambda: host.run(f"test -e {STARTED}",
                 check=False).returncode == 0)  # fmt: skip
        local = descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        time.sleep(2)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    cli.assert_no_canary(out, err)
    assert_nothing_left(local, host)  # the blocked `cat` too: the supervisor stopped it
    run, records = remediations(tmp_path)
    assert run["state"] == "running"
    results = {r["control"]: r for r in records}
    failed = [r for r in records if r["result"] == "failed"]
    assert len(failed) == 1 and "interrupted while it ran" in failed[0]["detail"], records
    assert results["logging.remote_forwarding"]["result"] == "not_run"


# -- artifacts -----------------------------------------------------------------------------

_FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from checks.fortigate.collector import _write_private
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    _write_private(Path(sys.argv[1]), "backup.conf", b"#config-version=x\\n" * 10000)
except OSError as exc:
    sys.exit(exc.errno)
"""


def test_a_failed_artifacts_write_leaves_no_file(tmp_path: Path) -> None:
    folder = tmp_path / "fortigate" / "acme" / "hq" / "fw1"
    done = subprocess.run([sys.executable, "-c", _FULL_DISK, str(folder)], check=False)
    assert done.returncode == errno.EFBIG  # the write did fail, as on a full disk
    assert list(folder.iterdir()) == []  # neither a truncated backup nor a temporary file
