"""The shipped lab states as snapshots, and the baseline's verdicts on them (no HTTP).

Timestamps in the state files are absolute, written as of 2026-11-28 12:00 UTC: evaluating
at that time is what a lab harness refreshing ``last_update`` to "now - 1 h" reproduces.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from baluarte.collected import Collected
from baluarte.controls import EvalContext, catalogue
from baluarte.findings import Outcome
from baluarte.policy import Policy, load_policies
from checks.fortigate.parse import collected
from checks.fortigate.snapshot import ConfigBackup, FortiSnapshot, snapshot_from_state

ROOT = Path(__file__).resolve().parents[3]
STATES = ROOT / "baluarte" / "lab" / "fortigate" / "states"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CTX = EvalContext(now=NOW)
BACKUP = ConfigBackup(
    sha256="5d41402abc4b2a76b9719d911017c592" * 2,
    size=48213,
    taken_at=NOW - timedelta(seconds=5),
    path="baluarte-artifacts/fortigate/acme/hq/fw-hq/20261128T115955Z-5d41402abc4b.conf",
    header="#config-version=FGT60F-7.04-FW-build2702-241008:opmode=0:vdom=0:user=baluarte-ro",
)


@cache
def _read(name: str) -> str:
    return (STATES / f"{name}.json").read_text()


def state(name: str) -> dict[str, Any]:
    """A fresh copy of a shipped state, safe to change."""
    return copy.deepcopy(json.loads(_read(name)))


def snapshot(data: dict[str, Any], **changes: Any) -> FortiSnapshot:
    snap = snapshot_from_state(data, now=NOW, config_backup=BACKUP)
    return dataclasses.replace(snap, **changes) if changes else snap


def failing(snap: FortiSnapshot, endpoint: str, why: str) -> FortiSnapshot:
    """``snap`` as if reading ``endpoint`` ("cmdb firewall/policy") had failed with ``why``."""
    scope, path = endpoint.split(" ", 1)
    cmdb = {k: v for k, v in snap.cmdb.items() if not (scope == "cmdb" and k == path)}
    monitor = {k: v for k, v in snap.monitor.items() if not (scope == "monitor" and k == path)}
    problems = {**snap.problems, endpoint: why}
    return dataclasses.replace(snap, cmdb=cmdb, monitor=monitor, problems=problems)


@cache
def baseline() -> Policy:
    return load_policies(ROOT / "policies" / "fortigate-baseline.yaml").effective(
        "fortigate-baseline"
    )


def verdicts(source: FortiSnapshot | Collected, policy: Policy | None = None) -> dict[str, Outcome]:
    """Every control of the policy (default: the baseline), as the engine would judge it."""
    result = source if isinstance(source, Collected) else collected(source)
    out: dict[str, Outcome] = {}
    for domain, section in (policy or baseline()).sections().items():
        for name, params in section.controls().items():
            control = catalogue()[f"{domain}.{name}"]
            assert control.evaluate is not None, control.id
            facts = result.facts.get(domain)
            if facts is None:
                out[control.id] = Outcome.error(result.problems[domain])
                continue
            out[control.id] = control.evaluate(facts, params, CTX)
    return out


def statuses(outcomes: dict[str, Outcome]) -> dict[str, str]:
    return {cid: str(o.status) for cid, o in outcomes.items()}


def not_passing(outcomes: dict[str, Outcome]) -> dict[str, str]:
    return {cid: str(o.status) for cid, o in outcomes.items() if o.status != "pass"}


def rows_of(data: dict[str, Any], path: str) -> Any:
    """A node of a state, global or root VDOM, for changing it in place."""
    if path in data["global"]:
        return data["global"][path]
    return data["vdoms"]["root"][path]


def row(data: dict[str, Any], path: str, key: Any, field: str = "name") -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in rows_of(data, path) if r[field] == key)
    return found
