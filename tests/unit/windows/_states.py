"""The shipped Windows lab states as documents, and the baseline's verdicts on them.

Timestamps in the state files are absolute, written as of host.Now = 2026-11-28 12:00 UTC:
evaluating at that time is what the lab server shifting them to the present reproduces.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from baluarte.controls import EvalContext, catalogue
from baluarte.findings import Outcome
from baluarte.policy import Policy, load_policies
from checks.windows.parse import collected, validate

ROOT = Path(__file__).resolve().parents[3]
STATES = ROOT / "baluarte" / "lab" / "windows" / "states"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CTX = EvalContext(now=NOW)


@cache
def _read(name: str) -> str:
    return (STATES / f"{name}.json").read_text()


def state(name: str) -> dict[str, Any]:
    """A fresh copy of a shipped state file, safe to change."""
    return copy.deepcopy(json.loads(_read(name)))


def document(name: str) -> dict[str, Any]:
    """The check document of a shipped state, as the script would print it (validated)."""
    return validate(json.dumps(state(name)["output"]))


def data(doc: dict[str, Any], check_id: str) -> Any:
    return doc["checks"][check_id]["data"]


@cache
def baseline() -> Policy:
    return load_policies(ROOT / "policies" / "windows-baseline.yaml").effective("windows-baseline")


def verdicts(doc: dict[str, Any], policy: Policy | None = None) -> dict[str, Outcome]:
    """Every control of the policy (default: the baseline), as the engine would judge it."""
    result = collected(doc)
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


def not_passing(outcomes: dict[str, Outcome]) -> dict[str, str]:
    return {cid: str(o.status) for cid, o in outcomes.items() if o.status != "pass"}


def firewall_rule(port: int | str, remote: str, **over: Any) -> dict[str, Any]:
    """An enabled inbound rule as ``firewall.rules`` reports it: by default one that admits
    WinRM on ``port`` from ``remote`` (program System, every other condition Any)."""
    base: dict[str, Any] = {
        "Name": "Baluarte-WinRM-In",
        "DisplayName": "WinRM from the provider (Baluarte)",
        "Group": "",
        "Enabled": "True",
        "Direction": "Inbound",
        "Action": "Allow",
        "Profile": "Any",
        "Source": "Local",
        "Protocol": "TCP",
        "LocalPort": [str(port)],
        "RemoteAddress": [remote],
        "LocalAddress": ["Any"],
        "Program": "System",
        "Package": "",
        "Service": "Any",
        "InterfaceType": "Any",
        "InterfaceAlias": ["Any"],
        "Authentication": "NotRequired",
    }
    return base | over
