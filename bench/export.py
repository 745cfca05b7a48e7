"""Evidence export benchmark: `baluarte evidence export` of a client with a quarter of history.

    .venv/bin/python bench/export.py [--devices 50] [--nights 90] [--keep DIR] [--profile]

Builds, through the store API, a SQLite store holding one client's nightly checks: ``--devices``
devices (three Windows PCs for every Linux server, and a FortiGate per five devices), ``--nights``
complete runs a day apart, each with every control of each device's platform in the shipped
catalogue (Linux, Windows and FortiGate baselines), each run signed as a real nightly check is.
Findings look like real ones: most pass, some fail and are fixed weeks later, a device now and then
cannot be reached. Then times `baluarte evidence export` of the whole period (as a subprocess,
the way a technician runs it) and prints the figure. ``--keep DIR`` keeps (and reuses) the store;
``--profile`` also writes a cProfile of the export to DIR/export.prof. Figures, not assertions:
the tests never time anything.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import BIN, INVENTORY_HEAD

from baluarte.controls import Control, catalogue
from baluarte.evidence.keys import init_key, load_private_key
from baluarte.findings import ErrorKind, Finding, Status
from baluarte.run import InputFile, RunKind
from baluarte.store import Store

FIRST_NIGHT = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
# what a finding of each domain says, as (expected, passing observation, failing observation)
SAYS = {
    "patching": ("0 security updates pending", "0 pending", "3 pending: openssl, libssl3, sudo"),
    "firewall": ("enabled, default deny inbound", "enabled, deny inbound", "disabled on Public"),
    "endpoint": ("signatures at most 2 days old", "signatures 0 days old", "signatures 9 days old"),
    "backup": ("last success within 26 h", "last success 5 h ago", "last success 4 days ago"),
    "access": ("allowed: root, admin", "root, admin", "root, admin, svc-old, temp-install"),
    "logging": ("forwarding to 10.0.10.60:514", "forwarding to 10.0.10.60:514", "not forwarded"),
}


def devices(n: int) -> list[tuple[str, str]]:
    """(name, platform): a FortiGate per five devices, then three Windows PCs per Linux server."""
    out = []
    for i in range(n):
        platform = "fortigate" if i % 5 == 0 else ("linux" if i % 4 == 1 else "windows")
        prefix = {"fortigate": "fw", "linux": "srv", "windows": "pc"}[platform]
        out.append((f"{prefix}-{i:03d}", platform))
    return out


def write_inventory(tmp: Path, fleet: list[tuple[str, str]]) -> Path:
    lines = list(INVENTORY_HEAD)
    for name, platform in fleet:
        lines += [f"          - name: {name}", f"            platform: {platform}",
                  "            address: 10.0.10.1"]  # fmt: skip
    path = tmp / "inventory.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def finding(name: str, platform: str, control: Control, night: int, rng: random.Random) -> Finding:
    expected, good, bad = SAYS[control.domain]
    base: dict[str, object] = {
        "client": "bench",
        "site": "hq",
        "device": name,
        "platform": platform,
        "control": control.id,
        "policy": f"{platform}-baseline",
        "severity": control.severity,
        "expected": expected,
    }
    if rng.random() < 0.01:  # the device did not answer that night
        return Finding.model_validate(
            base
            | {
                "status": Status.ERROR,
                "error_kind": ErrorKind.UNREADABLE,
                "reason": f"{name}: connection timed out after 120 s",
            }
        )
    # a control fails on some devices from the start, and is fixed on a night of its own
    seed = int(hashlib.sha256(f"{name}/{control.id}".encode()).hexdigest()[:8], 16)
    failing = seed % 6 == 0 and night < seed % 120
    observed = bad if failing else good
    evidence = f"collected {control.domain} facts\n{observed}\nsource: {name}"
    status = Status.FAIL if failing else Status.PASS
    return Finding.model_validate(
        base | {"status": status, "observed": observed, "evidence": evidence}
    )


def build_store(tmp: Path, n_devices: int, nights: int) -> None:
    fleet = devices(n_devices)
    inventory = write_inventory(tmp, fleet)
    digest = hashlib.sha256(inventory.read_bytes()).hexdigest()
    files = [InputFile(role="inventory", path=str(inventory), sha256=digest)]
    controls = sorted(catalogue().values(), key=lambda c: c.id)
    init_key(tmp / "keys" / "signing-key.pem")
    key = load_private_key(tmp / "keys" / "signing-key.pem")
    rng = random.Random(13)
    with Store.open(tmp / "runs.db", signing_key=key) as store:
        for night in range(nights):
            started = FIRST_NIGHT + timedelta(days=night)
            run = store.start_run(
                kind=RunKind.CHECK, operator="baluarte@noc", tool_version="bench",
                inventory_sha256=digest, files=files, scope={"client": "bench"},
                devices_total=len(fleet), started_at=started,
            )  # fmt: skip
            found = [
                finding(name, platform, c, night, rng)
                for name, platform in fleet
                for c in controls
                if platform in c.platforms
            ]
            store.add_findings(run, found)
            store.finish_run(run, ended_at=started + timedelta(minutes=4))


def export(tmp: Path, profile: bool) -> tuple[float, float, int]:
    """Wall and CPU seconds (its own and its PDF worker's) and exit code of one export."""
    out = tmp / "pack"
    shutil.rmtree(out, ignore_errors=True)
    head = [sys.executable, "-m", "cProfile", "-o", str(tmp / "export.prof"), str(BIN)]
    cmd = [*(head if profile else [str(BIN)]), "evidence", "export", "--client", "bench",
           "--db", str(tmp / "runs.db"), "--key", str(tmp / "keys" / "signing-key.pem"),
           "-o", str(out)]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took, cpu, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--nights", type=int, default=90)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the store in this folder")
    parser.add_argument("--profile", action="store_true", help="cProfile the export too")
    args = parser.parse_args()
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="baluarte-bench-export-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        if not (tmp / "runs.db").exists():
            started = time.perf_counter()
            build_store(tmp, args.devices, args.nights)
            print(f"store built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        took, cpu, rc = export(tmp, args.profile)
        size = sum(p.stat().st_size for p in (tmp / "pack").rglob("*") if p.is_file())
        print(f"devices {args.devices}, nightly runs {args.nights}: evidence export {took:.1f} s "
              f"wall, {cpu:.1f} s CPU (exit {rc}), pack {size / 1e6:.0f} MB, load average "
              f"{os.getloadavg()[0]:.1f}")  # fmt: skip
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
