"""Dashboard benchmark: the overview and a client page with a provider's whole history stored.

    .venv/bin/python bench/serve.py [--clients 200] [--devices 30] [--nights 90]
                                    [--controls 10] [--keep DIR] [--requests 20]

Builds a SQLite store holding ``--nights`` nightly checks of every client (``--clients`` ×
``--devices`` Linux servers, ``--controls`` real controls each; most pass, some drift, a device
now and then unreachable). Rows are written straight into the run store's tables (a store of
millions of findings through the store API would take an hour to build; what is timed only
reads). Then it starts ``baluarte serve`` as a subprocess, logs in as a real user and times
GET / (the overview) and GET /clients/NAME (a client page), after the posture cache is built
(its build time per client is printed too). Figures, not assertions: tests never time anything.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from baluarte.controls import catalogue
from baluarte.service import accounts, snapshots
from baluarte.service.config import load_config
from baluarte.service.context import Service
from baluarte.service.db import ServiceDb
from baluarte.store.tables import findings, runs

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "baluarte"
PASSWORD = "bench-password-1234"


def write_inputs(folder: Path, clients: int, devices: int) -> Path:
    lines = ["clients:"]
    for c in range(clients):
        lines += [f"  - name: client-{c:03d}", f"    legal_name: Client {c:03d} S.L.", "    sites:"]
        lines += ["      - name: hq", "        devices:"]
        for d in range(devices):
            lines += [
                f"          - name: srv-{d:02d}",
                "            platform: linux",
                "            address: 127.0.0.1",
                "            ssh: {user: root, port: 1}",
            ]
    (folder / "inventory.yaml").write_text("\n".join(lines) + "\n")
    config = folder / "serve.yaml"
    config.write_text(
        f"db: {folder / 'runs.db'}\n"
        f"inventory: [{folder / 'inventory.yaml'}]\n"
        f"policies: {ROOT / 'policies'}\n"
        f"artifacts: {folder / 'artifacts'}\n"
    )
    return config


def build_store(db: ServiceDb, clients: int, devices: int, nights: int, controls: int) -> None:
    linux = [c for c in catalogue().values() if "linux" in c.platforms][:controls]
    rng = random.Random(7)
    first = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    first -= timedelta(days=nights)
    with db.engine.begin() as conn:
        for night in range(nights):
            at = first + timedelta(days=night)
            run_id = conn.execute(
                runs.insert().values(
                    kind="check",
                    state="complete",
                    started_at=at,
                    ended_at=at + timedelta(minutes=20),
                    operator="baluarte-serve@bench",
                    tool_version="bench",
                    inventory_sha256="0" * 64,
                    scope={},
                    client=None,
                    devices_total=clients * devices,
                    findings_count=clients * devices * len(linux),
                    chain_seq=night + 1,
                )
            ).inserted_primary_key[0]
            rows = []
            seq = 0
            for c in range(clients):
                for d in range(devices):
                    down = rng.random() < 0.01
                    for control in linux:
                        seq += 1
                        fails = not down and rng.random() < 0.08
                        rows.append(
                            {
                                "run_id": run_id,
                                "seq": seq,
                                "client": f"client-{c:03d}",
                                "site": "hq",
                                "device": f"srv-{d:02d}",
                                "platform": "linux",
                                "control": control.id,
                                "status": "error" if down else ("fail" if fails else "pass"),
                                "severity": "high",
                                "expected": "as the policy says",
                                "observed": "3 pending" if fails else "0 pending",
                                "error_kind": "unreadable" if down else None,
                                "reason": "connection refused" if down else None,
                            }
                        )
            conn.execute(findings.insert(), rows)
            print(f"\rnight {night + 1}/{nights}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(client: httpx.Client, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        reply = client.get(url)
        out.append((time.perf_counter() - start) * 1000)
        reply.raise_for_status()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--devices", type=int, default=30)
    parser.add_argument("--nights", type=int, default=90)
    parser.add_argument("--controls", type=int, default=10)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="baluarte-bench-serve-"))
    folder.mkdir(parents=True, exist_ok=True)
    config_path = write_inputs(folder, args.clients, args.devices)
    config = load_config(config_path)
    fresh = not (folder / "runs.db").exists()
    db = ServiceDb.open(config.db_location)
    if fresh:
        start = time.perf_counter()
        build_store(db, args.clients, args.devices, args.nights, args.controls)
        print(f"store built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        accounts.add_user(db, "bench", "technician", PASSWORD)
    service = Service(config, db, holder="bench")
    start = time.perf_counter()
    built = snapshots.refresh(service)
    per_client = (time.perf_counter() - start) / max(1, len(built))
    size_mb = (folder / "runs.db").stat().st_size / 1e6
    print(f"posture cache: {len(built)} clients, {per_client:.3f} s each", file=sys.stderr)
    db.close()

    port = free_port()
    env = {**os.environ, "XDG_STATE_HOME": str(folder / "state")}
    # httpx keeps a Secure cookie off plain http://127.0.0.1 (browsers send it there)
    command = [str(BIN), "serve", "--config", str(config_path), "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--insecure-cookies"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(200):
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            form = http.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form)
            data = {"name": "bench", "password": PASSWORD}
            if token:
                data["csrf_token"] = token.group(1)
            login = http.post("/login", data=data)
            assert login.status_code == 303, login.status_code
            overview = timed(http, "/", args.requests)
            page = timed(http, "/clients/client-000", args.requests)
            api = timed(http, "/healthz", 1)
            del api
    finally:
        server.terminate()
        server.wait(timeout=30)
    figures = {
        "store": f"{args.clients} clients x {args.devices} devices x {args.nights} nights "
        f"x {args.controls} controls ({size_mb:.0f} MB SQLite)",
        "posture cache build, per client (s)": round(per_client, 3),
        "GET / median (ms)": round(statistics.median(overview), 1),
        "GET / max (ms)": round(max(overview), 1),
        "GET /clients/NAME median (ms)": round(statistics.median(page), 1),
        "GET /clients/NAME max (ms)": round(max(page), 1),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
