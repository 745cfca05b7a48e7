"""Fleet benchmark: `baluarte check` on N real lab hosts against the floor of plain parallel ssh.

    sudo .venv/bin/python bench/fleet.py 50

Prints, for N hosts each offering one normal and one security update:
- wall time, remote commands per host (counted by each host's sshd) and peak memory (RSS of
  `baluarte check` and its SSH worker) of `baluarte check`;
- the floor: plain OpenSSH clients in parallel (one connection per host, curve25519 key
  exchange) running the same collection script, and the ratio of the two.
Figures, not assertions: the tests never time anything.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baluarte.lab.aptrepo import publish_updates
from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab
from checks.linux.bundle import collection_script

BIN = Path(sys.executable).parent / "baluarte"
POLICY = """\
id: bench
version: "1"
title: bench
applies_to: {platform: linux}
patching:
  security_updates_pending: {max: 0}
  updates_pending: {max: 0}
  days_since_last_update: {max: 14}
  automatic_updates: {required: true}
  reboot_required: {grace_days: 7}
  kernel_current: {required: true}
"""


def write_inputs(tmp: Path, lab: LinuxHostLab, hosts: list[LinuxHost]) -> None:
    lines = [
        "clients:",
        "  - name: bench",
        "    legal_name: Bench S.L.",
        "    sites:",
        "      - name: lab",
        "        devices:",
    ]
    for h in hosts:
        lines += [
            f"          - name: {h.name}",
            "            platform: linux",
            f"            address: {h.address}",
            "            ssh:",
            f'              key: "file:{lab.key_path}"',
            f"              known_hosts: {lab.known_hosts_path}",
        ]
    (tmp / "inventory.yaml").write_text("\n".join(lines) + "\n")
    (tmp / "policies").mkdir()
    (tmp / "policies" / "bench.yaml").write_text(POLICY)
    (tmp / "waivers.yaml").write_text("waivers: []\n")


def sessions(host: LinuxHost) -> int:
    log = (host.root / "var/log/baluarte-sshd.log").read_text(errors="replace")
    return len(re.findall(r"Starting session: command", log))


def verbose_sshd(host: LinuxHost) -> None:
    host.run(
        "echo 'LogLevel VERBOSE' > /etc/ssh/sshd_config.d/99-bench.conf;"
        " : > /var/log/baluarte-sshd.log"
    )
    host.stop_sshd()
    host.start_sshd()


def floor(lab: LinuxHostLab, hosts: list[LinuxHost], script: str) -> float:
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [
                "ssh",
                "-T",
                "-o",
                "BatchMode=yes",
                "-o",
                "KexAlgorithms=curve25519-sha256",
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                f"UserKnownHostsFile={lab.known_hosts_path}",
                "-i",
                str(lab.key_path),
                f"root@{h.address}",
                "sh -s",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for h in hosts
    ]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(script.encode())
        p.stdin.close()
    for p in procs:
        p.wait()
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hosts", type=int, help="number of lab hosts")
    parser.add_argument("--parallel", type=int, default=20, help="baluarte check --parallel")
    args = parser.parse_args()
    n = args.hosts
    with LinuxHostLab() as lab, tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        t0 = time.monotonic()
        hosts = [lab.up(f"bench{i}") for i in range(n)]
        for h in hosts:
            publish_updates(
                h, normal=[("bl-demo", "1.0", "1.1")], security=[("bl-sec", "1.0", "1.0+deb12u1")]
            )
            verbose_sshd(h)
        print(f"hosts up and prepared: {n} in {time.monotonic() - t0:.1f} s")
        write_inputs(tmp, lab, hosts)
        script, _ = collection_script()

        floor_s = floor(lab, hosts, script)
        for h in hosts:
            h.run(": > /var/log/baluarte-sshd.log")

        started = time.monotonic()
        # A fresh parent process, so the peak RSS of its children is that of check and its worker
        wrapper = (
            "import resource, subprocess, sys; rc = subprocess.run(sys.argv[2:]).returncode; "
            "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN)"
            ".ru_maxrss)); sys.exit(rc)"
        )
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                wrapper,
                str(tmp / "rss"),
                str(BIN),
                "check",
                "--format",
                "json",
                "--parallel",
                str(args.parallel),
                "--inventory",
                str(tmp / "inventory.yaml"),
                "--policies",
                str(tmp / "policies"),
                "--waivers",
                str(tmp / "waivers.yaml"),
                "--db",
                str(tmp / "runs.db"),
            ],
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        wall = time.monotonic() - started
        peak_mb = int((tmp / "rss").read_text()) / 1024
        counts = [sessions(h) for h in hosts]
        print(f"baluarte check exit code: {done.returncode} (1 = drift found, as planted)")
        print(f"baluarte check wall time: {wall:.2f} s for {n} hosts (--parallel {args.parallel})")
        print(
            f"floor (parallel OpenSSH, same script): {floor_s:.2f} s  ratio {wall / floor_s:.2f}x"
        )
        print(f"remote commands per host: min {min(counts)} max {max(counts)}")
        print(f"peak RSS of baluarte check or its SSH worker: {peak_mb:.0f} MB")
        print(f"collection script: {len(script)} bytes; machine: {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
