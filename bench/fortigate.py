"""FortiGate benchmark: `baluarte check` on N emulated units at once.

    .venv/bin/python bench/fortigate.py 1 10 50 [--latency SECONDS]

For each N, N lab emulators (the hardened state, each its own HTTPS port and CA) run in this
process, and `baluarte check` with policies/fortigate-baseline.yaml is run as a subprocess
against all of them. Printed per N: wall time of the check, HTTP requests per unit (counted by
the emulators), peak memory of `baluarte check`. ``--latency`` adds that many seconds to every
answer, as a WAN link to a customer's office would. The emulators share this process (and its
GIL) with each other, so wall times are an upper bound on what the client needs. Figures, not
assertions: the tests never time anything.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from _common import INVENTORY_HEAD, run_check

from baluarte.lab.fortigate import FortigateLab
from baluarte.lab.fortigate.faults import Fault
from baluarte.lab.fortigate.shipped import shipped_state

TOKEN = "bench0token0not0secret0000000000"


def write_inputs(tmp: Path, units: list[FortigateLab]) -> None:
    lines = list(INVENTORY_HEAD)
    for i, unit in enumerate(units):
        lines += [
            f"          - name: fw-{i:03d}",
            "            platform: fortigate",
            f"            address: {unit.host}",
            f"            port: {unit.port}",
            "            fortios:",
            '              token: "env:BENCH_FW_TOKEN"',
            f"              ca_bundle: {unit.ca_path}",
        ]
    (tmp / "inventory.yaml").write_text("\n".join(lines) + "\n")
    (tmp / "waivers.yaml").write_text("waivers: []\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1, 10, 50])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per answer")
    args = parser.parse_args()
    print(f"{'units':>5} {'wall s':>8} {'requests/unit':>14} {'peak RSS MB':>12} {'exit':>5}")
    for n in args.sizes:
        with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            units = [
                stack.enter_context(
                    FortigateLab(shipped_state("hardened"), tokens={TOKEN: "baluarte-ro"})
                )
                for _ in range(n)
            ]
            if args.latency:
                for unit in units:
                    unit.faults.add(Fault(match="/", kind="latency", seconds=args.latency))
            write_inputs(tmp, units)
            env = {"BENCH_FW_TOKEN": TOKEN}
            wall, code, rss_kib = run_check(tmp, n, "fortigate-baseline.yaml", env)
            per_unit = sum(len(u.requests) for u in units) / n
            print(f"{n:>5} {wall:>8.2f} {per_unit:>14.1f} {rss_kib / 1024:>12.0f} {code:>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
