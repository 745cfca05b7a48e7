"""The real `baluarte` command on a pseudo-terminal, as a technician runs it.

    code, text = run_in_terminal(["show", "1"], cwd=tmp, columns=100)
    code, shown, out = run_with_stderr_on_terminal(["demo"], cwd=tmp)  # `baluarte demo > out`

The terminal is ``columns`` wide and ``rows`` high (its window size and COLUMNS/LINES agree);
whatever would force colour or a terminal on or off (FORCE_COLOR, TTY_COMPATIBLE,
TTY_INTERACTIVE, NO_COLOR) is left out of the environment, so the command decides from the
terminal alone.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.integration.cli import BIN

__all__ = ["run_in_terminal", "run_with_stderr_on_terminal"]

FORCING = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR")


def run_in_terminal(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    columns: int = 100,
    rows: int = 50,
    timeout: float = 120,
) -> tuple[int, str]:
    """The command with its standard input, output and error on the terminal: its exit code and
    everything it wrote (escapes, CR LF and all; not UTF-8 is an error). ``env``: the
    environment to start from (default this process's)."""
    proc, leader = _start(args, cwd, _env(env, columns, rows), columns, rows, output=True)
    try:
        shown = _read(proc, [leader], timeout)[leader]
    finally:
        os.close(leader)
    return _exit_code(proc), shown.decode("utf-8")


def run_with_stderr_on_terminal(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    columns: int = 120,
    rows: int = 50,
    timeout: float = 120,
) -> tuple[int, str, str]:
    """The command with its standard error on the terminal and its output in a pipe (as with
    ``> FILE``): its exit code, what the terminal showed, and the output."""
    proc, leader = _start(args, cwd, _env(env, columns, rows), columns, rows, output=False)
    assert proc.stdout is not None
    out = proc.stdout.fileno()
    try:
        got = _read(proc, [leader, out], timeout)
    finally:
        os.close(leader)
        proc.stdout.close()
    return _exit_code(proc), got[leader].decode(errors="replace"), got[out].decode("utf-8")


def _env(env: Mapping[str, str] | None, columns: int, rows: int) -> dict[str, str]:
    start = os.environ if env is None else env
    kept = {k: v for k, v in start.items() if k not in FORCING}
    return kept | {"COLUMNS": str(columns), "LINES": str(rows), "TERM": "xterm-256color"}


def _start(
    args: Sequence[str], cwd: Path, env: dict[str, str], columns: int, rows: int, *, output: bool
) -> tuple[subprocess.Popen[bytes], int]:
    """The command started on a new terminal (its standard error there, and its input and
    ``output`` too, else its output in a pipe); the terminal's leader side, to read."""
    leader, follower = pty.openpty()
    try:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        proc = subprocess.Popen(
            [str(BIN), *args],
            stdin=follower if output else None,
            stdout=follower if output else subprocess.PIPE,
            stderr=follower,
            env=env,
            cwd=cwd,
            close_fds=True,
        )
    except BaseException:
        os.close(leader)
        raise
    finally:
        os.close(follower)  # the command's alone now: its exit ends the terminal (EIO)
    return proc, leader


def _read(proc: subprocess.Popen[bytes], fds: list[int], timeout: float) -> dict[int, bytes]:
    """Everything written to ``fds`` until each is at its end, or the command has exited with
    nothing left to read, or ``timeout`` seconds have passed."""
    chunks: dict[int, list[bytes]] = {fd: [] for fd in fds}
    waiting = list(fds)
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        ready, _, _ = select.select(waiting, [], [], 0.5)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the command closed the terminal
                data = b""
            if data:
                chunks[fd].append(data)
            else:
                waiting.remove(fd)
    return {fd: b"".join(parts) for fd, parts in chunks.items()}


def _exit_code(proc: subprocess.Popen[bytes]) -> int:
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()  # never left running after its test
        raise
