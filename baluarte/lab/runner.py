"""The lab's background process: ``python -m baluarte.lab.runner DIR``, started by ``lab up``.

It reads the lab's secrets from the 0600 files in DIR (never from its command line or its
environment), serves both demo lab devices, writes ``DIR/lab.json`` (where they answer) once
they do, logs one line per request they receive on standard output (``lab up`` points it at
``DIR/lab.log``; secrets masked), and on SIGTERM, SIGINT or SIGHUP stops them and removes
``lab.json`` and its own pid file.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TextIO

from baluarte.files import write_private
from baluarte.lab.demo_lab import DemoLab, read_secrets
from baluarte.masking import install_log_masking, mask_secrets, register_secret

__all__ = ["PID_FILE", "READY_FILE", "main"]

READY_FILE = "lab.json"
PID_FILE = "lab.pid"
_POLL = 0.5  # seconds between looks at the request logs (and at the stop flag)


class _MaskedStream:
    """A text stream that masks every registered secret before it writes (tracebacks too)."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(mask_secrets(text))
        self._inner.flush()
        return len(text)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return False


def _log_requests(lab: DemoLab) -> None:
    """One line per request the devices received since the last call; what was logged is
    dropped (the lab may run for days). Method, path and status only: never headers or bodies."""
    done = len(lab.firewall.requests)
    for r in lab.firewall.requests[:done]:
        print(f"{r.at:%H:%M:%S} fortigate {r.method} {r.path} {r.status}")
    del lab.firewall.requests[:done]
    done = len(lab.pc.requests)
    for w in lab.pc.requests[:done]:
        if w.action is not None:  # the NTLM legs of each logon are noise here
            print(f"{w.at:%H:%M:%S} windows {w.action} {w.status}")
    del lab.pc.requests[:done]


def serve(folder: Path) -> int:
    lab_secrets = read_secrets(folder)
    register_secret(lab_secrets.token)
    register_secret(lab_secrets.password)
    install_log_masking()
    sys.stdout = _MaskedStream(sys.stdout)
    sys.stderr = _MaskedStream(sys.stderr)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _stop)
    ready = folder / READY_FILE
    with DemoLab(folder, lab_secrets) as lab:
        at = lab.endpoints()
        write_private(ready, at.model_dump_json(indent=2).encode())
        print(f"lab up (pid {at.pid}): FortiGate {at.fortigate_url}, Windows PC {at.windows_url}")
        try:
            while not stop.wait(_POLL):
                _log_requests(lab)
            _log_requests(lab)
        finally:
            ready.unlink(missing_ok=True)
            _forget_pid_file(folder, at.pid)
    print("lab stopped")
    return 0


def _forget_pid_file(folder: Path, pid: int) -> None:
    path = folder / PID_FILE
    try:
        if path.read_text().strip() == str(pid):
            path.unlink()
    except OSError:
        pass


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m baluarte.lab.runner DIR", file=sys.stderr)
        return 2
    return serve(Path(argv[0]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
