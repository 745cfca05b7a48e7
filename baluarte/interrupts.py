"""Ctrl-C and SIGTERM during ``check`` and ``apply``: stop starting work, end cleanly, say so.

``handling()`` (the CLI wraps check and apply in it) replaces Python's default handlers, which
would raise anywhere (SIGINT) or end the process on the spot (SIGTERM), leaving the SSH worker
— in a session of its own, so a terminal's Ctrl-C never reaches it — working on alone. Instead
the first signal only sets ``requested()`` and tells every registered helper process (the SSH
worker: stop starting work, abort collection, let an operation in flight finish); the pipeline
looks at ``requested()`` between devices, records what ran, leaves the run incomplete and raises
``Interrupted``. A second signal tells the helpers again, which then abort what is in flight.

Exit status: 128 + the signal (130 for SIGINT, 143 for SIGTERM), the shell's convention, so a
scheduler tells "stopped" apart from "a device could not be checked" (3).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from types import FrameType

__all__ = [
    "Interrupted",
    "exit_code",
    "handling",
    "helper",
    "request_stop",
    "requested",
    "stop_helper",
]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# How long a helper may take to end after being told twice, before it is killed.
HELPER_GRACE = 15.0


class Interrupted(Exception):
    """Work stopped on a signal; ``run_id`` is the incomplete run left behind, if one started."""

    def __init__(self, signum: int, run_id: int | None = None, done: int = 0, total: int = 0):
        self.signum = signum
        self.run_id = run_id
        self.done = done
        self.total = total
        name = signal.Signals(signum).name
        super().__init__(f"interrupted by {name}")


_lock = threading.Lock()
_received: list[int] = []
_helpers: set[subprocess.Popen[str]] = set()


def requested() -> int | None:
    """The first signal received inside ``handling()``, or None."""
    return _received[0] if _received else None


def exit_code(signum: int) -> int:
    return 128 + signum


def _tell(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    _received.append(signum)
    with _lock:
        helpers = list(_helpers)
    for proc in helpers:
        _tell(proc)


def request_stop(signum: int = signal.SIGTERM) -> None:
    """Ask the work in progress to stop, as that signal inside ``handling()`` would: for a
    process whose signals are someone else's (a server stopping the checks it runs)."""
    _on_signal(signum, None)


@contextlib.contextmanager
def handling() -> Iterator[None]:
    """Signals are requests to stop while inside; the previous handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread (e.g. inside a test runner's thread)
        return
    previous = {s: signal.signal(s, _on_signal) for s in _SIGNALS}
    _received.clear()
    try:
        yield
    finally:
        if _received:
            # the work was abandoned part-way (threads may still wait on a helper): no helper
            # may outlive us, and each gets its bounded time to close its connections
            with _lock:
                helpers = list(_helpers)
            for proc in helpers:
                stop_helper(proc, graceful=True)
        for s, handler in previous.items():
            signal.signal(s, handler)


def helper(proc: subprocess.Popen[str]) -> None:
    """Register a helper process: it is sent SIGTERM on each signal while it runs."""
    with _lock:
        _helpers.add(proc)
    if _received:  # it started after the request: it must know at once
        _tell(proc)


def stop_helper(proc: subprocess.Popen[str], *, graceful: bool) -> None:
    """End a helper: at once (``graceful=False``), or on a request, after its bounded cleanup.

    A helper told to stop ends by itself; one still running ``HELPER_GRACE`` seconds after a
    second SIGTERM is killed, so nothing of ours outlives the command.
    """
    try:
        if proc.poll() is None and not graceful:
            proc.kill()
        elif proc.poll() is None:
            deadline = time.monotonic() + HELPER_GRACE
            told_twice = False
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    if told_twice:
                        proc.kill()
                        break
                    _tell(proc)
                    told_twice, deadline = True, time.monotonic() + HELPER_GRACE
                time.sleep(0.05)
        proc.wait()
    finally:
        with _lock:
            _helpers.discard(proc)
