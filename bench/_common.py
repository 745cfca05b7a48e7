"""What the platform benchmarks share: the inventory's head and one measured `baluarte check`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["BIN", "INVENTORY_HEAD", "ROOT", "run_check"]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "baluarte"
# Runs the command given and writes its peak RSS (KiB) to the file given: the CLI's own memory,
# not this process's with its emulators.
RSS_WRAPPER = (
    "import resource, subprocess, sys; rc = subprocess.run(sys.argv[2:]).returncode; "
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN)"
    ".ru_maxrss)); sys.exit(rc)"
)
INVENTORY_HEAD = [
    "clients:", "  - name: bench", "    legal_name: Bench S.L.", "    sites:",
    "      - name: hq", "        devices:",
]  # fmt: skip


def run_check(tmp: Path, n: int, policy: str, env: dict[str, str]) -> tuple[float, int, int]:
    """Wall seconds, exit code and peak RSS (KiB) of one `baluarte check` on tmp's inputs."""
    rss = tmp / "rss"
    cmd = [
        sys.executable, "-c", RSS_WRAPPER, str(rss),
        str(BIN), "check", "--format", "json",
        "--inventory", str(tmp / "inventory.yaml"),
        "--policies", str(ROOT / "policies" / policy),
        "--waivers", str(tmp / "waivers.yaml"),
        "--db", str(tmp / "runs.db"),
        "--artifacts", str(tmp / "artifacts"),
        "--parallel", str(max(20, n)),
    ]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, done.returncode, int(rss.read_text())
