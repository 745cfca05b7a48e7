"""A real ``baluarte serve`` process on 127.0.0.1 for the end-to-end tests.

    with serving(config, folder, key=signing_key) as url:
        httpx.get(f"{url}/healthz")

The process gets its own state and cache folders (its session key never lands in the tester's
home) and the signing key evidence packs are signed with; its output goes to
``folder / "serve.log"``, shown when it dies before answering.

``zone_with_minute_in(folder, seconds)`` is a time zone whose next minute starts that many
seconds from now, for the processes given its ``PYTHONTZPATH``: a cron line fires in them soon
instead of at the next minute of a real zone, up to a minute away.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time
import zoneinfo
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["BIN", "free_port", "serving", "zone_with_minute_in"]

BIN = Path(sys.executable).parent / "baluarte"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def zone_with_minute_in(folder: Path, seconds: float) -> tuple[str, str]:
    """A zone ahead of UTC by a whole number of seconds (0-59), compiled by zic into ``folder``,
    whose next minute starts in ``seconds`` (rounded up), and the PYTHONTZPATH that finds it
    before the system's zones: (zone name, PYTHONTZPATH)."""
    ahead = -math.ceil(time.time() + seconds) % 60
    subprocess.run(
        ["zic", "-d", str(folder), "-"],
        input=f"Zone Lab/Ahead 0:00:{ahead:02d} - LAB\n",
        text=True,
        capture_output=True,
        check=True,
    )
    return "Lab/Ahead", os.pathsep.join([str(folder), *zoneinfo.TZPATH])


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server did not start:\n" + log.read_text()
        time.sleep(0.2)


@contextmanager
def serving(
    config: Path,
    folder: Path,
    *,
    key: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> Iterator[str]:
    """``baluarte serve --config config`` on a free port until the block ends (SIGTERM, then
    SIGKILL after 20 s); yields its base URL."""
    environment = {
        **os.environ,
        "BALUARTE_SIGNING_KEY": str(key),
        # the service keeps its session key here: never in the tester's home
        "XDG_STATE_HOME": str(folder / "state"),
        "XDG_CACHE_HOME": str(folder / "cache"),
        **(env or {}),
    }
    environment.pop("BALUARTE_SIGNING_PASSPHRASE", None)
    port = free_port()
    log_path = folder / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(BIN), "serve", "--config", str(config),
             "--host", "127.0.0.1", "--port", str(port), "--insecure-cookies"],
            env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(proc, url, log_path, timeout)
            yield url
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
