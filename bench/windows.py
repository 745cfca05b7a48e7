"""Windows benchmark: `baluarte check` on N lab Windows hosts at once.

    .venv/bin/python bench/windows.py 1 10 50 [--latency SECONDS] [--auth ntlm|basic]

For each N, N WinRM/PSRP lab servers (the hardened state, each its own port) run in this
process, and `baluarte check` with policies/windows-baseline.yaml is run as a subprocess against
all of them (NTLM over HTTP with message encryption by default, or Basic over HTTPS). Printed
per N: wall time of the check, WS-Management requests per host (counted by the lab servers) and
peak memory of `baluarte check`. A host costs one PowerShell pipeline whatever the number of
controls, so requests per host stay constant. The servers share this process (and its GIL), so
wall times are an upper bound on what the client needs. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from _common import INVENTORY_HEAD, run_check

from baluarte.lab.windows import Fault, WindowsLab
from baluarte.lab.windows.shipped import shipped_state

PASSWORD = "bench-password-not-secret"


def write_inputs(tmp: Path, hosts: list[WindowsLab], auth: str) -> None:
    lines = list(INVENTORY_HEAD)
    for i, host in enumerate(hosts):
        lines += [
            f"          - name: pc-{i:03d}",
            "            platform: windows",
            f"            address: {host.host}",
            f"            port: {host.port}",
            "            winrm:",
            "              user: baluarte",
            '              password: "env:BENCH_WIN_PASSWORD"',
            f"              auth: {auth}",
            f"              https: {'true' if auth == 'basic' else 'false'}",
        ]
        if auth == "basic":
            lines.append(f"              ca_bundle: {host.ca_path}")
    (tmp / "inventory.yaml").write_text("\n".join(lines) + "\n")
    (tmp / "waivers.yaml").write_text("waivers: []\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1, 10, 50])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per answer")
    parser.add_argument("--auth", choices=["ntlm", "basic"], default="ntlm")
    args = parser.parse_args()
    print(
        f"{'hosts':>5} {'wall s':>8} {'WS-Man requests/host':>21} {'peak RSS MB':>12} {'exit':>5}"
    )
    for n in args.sizes:
        with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            hosts = [
                stack.enter_context(
                    WindowsLab(
                        shipped_state("hardened"),
                        users={"baluarte": PASSWORD},
                        auth=args.auth,
                        https=args.auth == "basic",
                    )
                )
                for _ in range(n)
            ]
            if args.latency:
                for host in hosts:
                    host.faults.add(Fault(kind="latency", seconds=args.latency))
            write_inputs(tmp, hosts, args.auth)
            env = {"BENCH_WIN_PASSWORD": PASSWORD}
            wall, code, rss_kib = run_check(tmp, n, "windows-baseline.yaml", env)
            per_host = sum(len(h.requests) for h in hosts) / n
            print(f"{n:>5} {wall:>8.2f} {per_host:>21.1f} {rss_kib / 1024:>12.0f} {code:>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
