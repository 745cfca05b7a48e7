"""Run the whole cross-check: every state on its own systemd lab host, every tool, the truth.

Hosts go in waves (at most WAVE at once: systemd hosts are a machine-wide budget shared with
other test runs). In a wave, each host on its own thread as soon as it has booted: set up, then
OpenSCAP; then Baluarte (one ``check`` per policy over the whole wave); then, again per host,
Lynis (it refreshes the apt lists, so it comes after the other two) and the ground-truth probes
(some change the host: they come last).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from baluarte.lab.systemd_hosts import SystemdHost, SystemdHostLab
from tests.crosscheck import lynis, oscap
from tests.crosscheck.baluarte_run import run_baluarte
from tests.crosscheck.host import CAPABILITIES, apply_state
from tests.crosscheck.rows import ROWS, Row
from tests.crosscheck.states import STATES, HostState
from tests.crosscheck.truth import Truth, establish

__all__ = ["TOOLS", "Cell", "Matrix", "run_matrix"]

TOOLS = ("baluarte", "openscap", "lynis")
WAVE = 9
T = TypeVar("T")


@dataclass(frozen=True)
class Cell:
    verdict: str
    detail: str


@dataclass
class Matrix:
    # cells[state][row][truth|baluarte|openscap|lynis]
    cells: dict[str, dict[str, dict[str, Cell]]] = field(default_factory=dict)
    # seconds[state][setup|openscap|lynis|truth]; baluarte: [(hosts, seconds)] per wave
    seconds: dict[str, dict[str, float]] = field(default_factory=dict)
    baluarte_seconds: list[tuple[int, float]] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    total_seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Matrix:
        raw = json.loads(text)
        cells = {
            s: {r: {t: Cell(**c) for t, c in row.items()} for r, row in rows.items()}
            for s, rows in raw["cells"].items()
        }
        return cls(
            cells=cells,
            seconds=raw["seconds"],
            baluarte_seconds=[tuple(x) for x in raw["baluarte_seconds"]],
            versions=raw["versions"],
            total_seconds=raw["total_seconds"],
        )


def _timed(fn: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    value = fn()
    return value, time.monotonic() - started


def _baluarte_cell(
    found: dict[str, dict[tuple[str, str], dict[str, Any]]], state: str, row: Row
) -> Cell:
    finding = found[row.policy].get((state, row.control))
    if finding is None:
        return Cell("missing", f"no finding for {row.control}")
    status = finding["status"]
    detail = finding.get("observed") or finding.get("reason") or ""
    if status in ("error", "waived") and finding.get("reason"):
        detail = finding["reason"]
    return Cell(status, " ".join(str(detail).split()))


def _versions(host: SystemdHost, data_stream: Path) -> dict[str, str]:
    oscap_v = host.run("oscap --version | head -n 1").stdout.strip()
    lynis_v = host.run("lynis show version").stdout.strip()
    return {
        "openscap": oscap_v,
        "lynis": f"Lynis {lynis_v}",
        "ssg": f"ssg-debian {data_stream.parent.name} (ssg-debian12-ds.xml)",
    }


def _wave(
    lab: SystemdHostLab,
    states: list[HostState],
    workdir: Path,
    legacy_debs: Path,
    data_stream: Path,
    matrix: Matrix,
) -> None:
    hosts: list[SystemdHost] = []
    try:

        def before(i: int) -> tuple[float, dict[str, str], float]:
            _, setup_s = _timed(lambda: apply_state(hosts[i], states[i], legacy_debs))
            results, scap_s = oscap.run_oscap(hosts[i], data_stream)
            return setup_s, results, scap_s

        def after(i: int) -> tuple[lynis.LynisReport, float, dict[str, Truth], float]:
            report, lynis_s = lynis.run_lynis(hosts[i])
            truth, truth_s = _timed(lambda: establish(hosts[i]))
            return report, lynis_s, truth, truth_s

        with ThreadPoolExecutor(len(states)) as pool:
            # hosts boot one at a time (lab.up); each is set up while the next boots
            booted = []
            for state in states:
                hosts.append(lab.up(state.name, capabilities=CAPABILITIES))
                booted.append(pool.submit(before, len(hosts) - 1))
            first = [future.result() for future in booted]
            if not matrix.versions:
                matrix.versions = _versions(hosts[0], data_stream)
            # Baluarte checks the whole wave at once, between the read-only tools and the rest
            found, seconds = run_baluarte(workdir / f"wave-{states[0].name}", lab, hosts, states)
            matrix.baluarte_seconds.append((len(hosts), seconds))
            second = list(pool.map(after, range(len(hosts))))
    finally:
        for host in hosts:
            lab.down(host)
    for i, state in enumerate(states):
        (setup_s, results, scap_s), (report, lynis_s, truth, truth_s) = first[i], second[i]
        matrix.seconds[state.name] = {
            "setup": setup_s,
            "openscap": scap_s,
            "lynis": lynis_s,
            "truth": truth_s,
        }
        matrix.cells[state.name] = {
            row.id: {
                "truth": Cell(truth[row.id].verdict, truth[row.id].evidence),
                "baluarte": _baluarte_cell(found, state.name, row),
                "openscap": Cell(*oscap.combine(results, row.oscap)),
                "lynis": Cell(*lynis.verdict(row, report)),
            }
            for row in ROWS
        }


def run_matrix(
    lab: SystemdHostLab,
    workdir: Path,
    legacy_debs: Path,
    data_stream: Path,
    states: tuple[HostState, ...] = STATES,
) -> Matrix:
    """Every state × row × tool, with ground truth, timings and tool versions."""
    started = time.monotonic()
    matrix = Matrix()
    for first in range(0, len(states), WAVE):
        _wave(lab, list(states[first : first + WAVE]), workdir, legacy_debs, data_stream, matrix)
    matrix.total_seconds = time.monotonic() - started
    return matrix
