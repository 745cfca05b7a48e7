"""Running the demo lab in the background: ``up``, ``down`` and ``status`` of one lab folder.

    lab = up(Path("baluarte-reports/lab"))   # Started(endpoints, inventory, already=False)
    status(folder)                           # Status(pid, endpoints) or Status(None, …)
    down(folder)                             # Stopped(pid, killed=False), or None

The lab is one detached process (``baluarte.lab.runner``, its own session, so closing the
terminal does not stop it) that writes its output to ``DIR/lab.log`` and its id to
``DIR/lab.pid``. Its secrets reach it through the 0600 files of ``demo_lab`` — never through
its command line or environment, which other users can read in ``/proc``. A pid file whose
process is gone (or is another program now) is stale: it is removed and the lab counts as down.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from baluarte.errors import LabError
from baluarte.lab.demo_lab import (
    INVENTORY_FILE,
    LabEndpoints,
    LabSecrets,
    prepare_folder,
    write_inventory,
    write_secrets,
)
from baluarte.lab.runner import PID_FILE, READY_FILE

__all__ = ["LOG_FILE", "Started", "Status", "Stopped", "down", "status", "up"]

LOG_FILE = "lab.log"
_LOCK_FILE = ".lab.lock"
_RUNNER = "baluarte.lab.runner"
START_TIMEOUT = 20.0  # seconds: both emulators start in well under one
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Status:
    """A lab folder's state: ``pid`` None when no lab runs; ``stale`` a pid file was removed."""

    folder: Path
    pid: int | None
    endpoints: LabEndpoints | None
    stale: int | None = None

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def inventory(self) -> Path:
        return self.folder / INVENTORY_FILE


@dataclass(frozen=True)
class Started:
    endpoints: LabEndpoints
    inventory: Path
    already: bool
    stale: int | None = None


@dataclass(frozen=True)
class Stopped:
    pid: int
    killed: bool  # it did not stop within STOP_TIMEOUT of SIGTERM: SIGKILL


def status(folder: Path) -> Status:
    """Whether a lab runs in ``folder`` (a stale pid file is removed)."""
    folder = folder.resolve()
    with _locked(folder) as held:
        return _status(folder) if held else Status(folder, None, None)


def up(folder: Path, timeout: float = START_TIMEOUT) -> Started:
    """Start the lab in ``folder`` unless it runs; wait until both devices answer.

    Raises LabError (the process is stopped) when it does not answer within ``timeout``.
    """
    folder = prepare_folder(folder)
    with _locked(folder, create=True):
        now = _status(folder)
        if now.pid is not None:
            at = _wait_ready(folder, now.pid, None, timeout)
            return Started(at, write_inventory(folder, at, "baluarte lab up"), True)
        lab_secrets = LabSecrets.new()  # fresh credentials at each start
        write_secrets(folder, lab_secrets)
        (folder / READY_FILE).unlink(missing_ok=True)
        proc = _spawn(folder)
        _write_pid(folder, proc.pid)
        try:
            at = _wait_ready(folder, proc.pid, proc, timeout)
        except BaseException:
            _terminate(proc.pid, STOP_TIMEOUT, proc)
            (folder / PID_FILE).unlink(missing_ok=True)
            raise
        inventory = write_inventory(folder, at, "baluarte lab up")
        return Started(at, inventory, False, now.stale)


def down(folder: Path, timeout: float = STOP_TIMEOUT) -> Stopped | Status:
    """Stop the lab in ``folder``: SIGTERM, wait, SIGKILL after ``timeout``. The pid and ready
    files are removed. What ran: Stopped; nothing ran: its Status (``stale`` if a pid file was)."""
    folder = folder.resolve()
    with _locked(folder) as held:
        now = _status(folder) if held else Status(folder, None, None)
        if now.pid is None:
            return now
        killed = _terminate(now.pid, timeout, None)
        (folder / PID_FILE).unlink(missing_ok=True)
        (folder / READY_FILE).unlink(missing_ok=True)
        return Stopped(now.pid, killed)


# -- the process ----------------------------------------------------------------------------


def _spawn(folder: Path) -> subprocess.Popen[bytes]:
    log = os.open(folder / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return subprocess.Popen(
            # -P: the working folder (the lab's) is not put on sys.path
            [sys.executable, "-P", "-m", _RUNNER, str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
            close_fds=True,
            start_new_session=True,  # not in the terminal's process group: Ctrl-C, hang-up
        )
    finally:
        os.close(log)


def _write_pid(folder: Path, pid: int) -> None:
    path = folder / PID_FILE
    tmp = path.with_name(f".{PID_FILE}.part")
    tmp.write_text(f"{pid}\n")
    tmp.replace(path)


def _wait_ready(
    folder: Path, pid: int, proc: subprocess.Popen[bytes] | None, timeout: float
) -> LabEndpoints:
    deadline = time.monotonic() + timeout
    ready = folder / READY_FILE
    while True:
        at = _read_ready(ready)
        if at is not None and at.pid == pid:
            return at
        gone = proc.poll() is not None if proc is not None else not _alive(pid)
        if gone:
            why = _last_line(folder / LOG_FILE)
            raise LabError(
                f"the lab process stopped while starting{': ' + why if why else ''} "
                f"(see {folder / LOG_FILE})"
            )
        if time.monotonic() > deadline:
            raise LabError(f"the lab did not answer within {timeout:g} s (see {folder / LOG_FILE})")
        time.sleep(0.05)


def _last_line(log: Path) -> str:
    """The log's last line: what the process said last (an exception's message, masked)."""
    try:
        with log.open("rb") as f:
            f.seek(max(0, log.stat().st_size - 4096))
            lines = f.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip()[:300] if lines else ""


def _read_ready(path: Path) -> LabEndpoints | None:
    try:
        return LabEndpoints.model_validate_json(path.read_text())
    except (OSError, ValidationError):
        return None


def _terminate(pid: int, timeout: float, proc: subprocess.Popen[bytes] | None) -> bool:
    """SIGTERM, then SIGKILL after ``timeout``; True when it had to be killed."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (proc.poll() is not None) if proc is not None else not _alive(pid):
            return False
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    if proc is not None:
        proc.wait()
    return True


def _status(folder: Path) -> Status:
    """Under the lock: who runs, from the pid file; a stale one is removed."""
    path = folder / PID_FILE
    try:
        pid = int(path.read_text().strip())
    except FileNotFoundError:
        return Status(folder, None, None)
    except (OSError, ValueError):
        pid = 0
    if pid > 0 and _ours(pid, folder):
        return Status(folder, pid, _read_ready(folder / READY_FILE))
    path.unlink(missing_ok=True)
    (folder / READY_FILE).unlink(missing_ok=True)
    return Status(folder, None, None, stale=pid)


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (a child of ours not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive, but not ours (see _ours)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): kill(0) is all we know
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _ours(pid: int, folder: Path) -> bool:
    """``pid`` is the lab runner of ``folder`` (pids are reused: a pid file can outlive it)."""
    if not _alive(pid):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no /proc: trust the pid file
    except OSError:
        return False
    return _RUNNER.encode() in argv and os.fsencode(str(folder)) in argv


@contextmanager
def _locked(folder: Path, create: bool = False) -> Iterator[bool]:
    """One ``up`` or ``down`` at a time per folder; yields False when there is no folder."""
    if not folder.is_dir() and not create:
        yield False
        return
    fd = os.open(folder / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield True
    finally:
        os.close(fd)
