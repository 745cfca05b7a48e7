"""One runner for recorded samples ``tests/samples/linux/<domain>/<what>.<status>.json``.

A sample holds a domain's raw section, the host section, and the verdict each listed control
must reach with the given parameters (``expect: {control: {params, status}}``).
"""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from baluarte.controls import EvalContext, catalogue
from baluarte.policy import Policy

ROOT = Path(__file__).parents[2] / "samples" / "linux"
CTX = EvalContext(now=datetime(2026, 11, 28, 12, 0, tzinfo=UTC))


def names(domain: str) -> list[str]:
    return sorted(p.name for p in (ROOT / domain).glob("*.json"))


def load(domain: str, name: str) -> dict[str, Any]:
    return json.loads((ROOT / domain / name).read_text())


def assert_verdicts(domain: str, name: str) -> None:
    """Parse the sample, evaluate each listed control, and compare with its expected status."""
    doc = load(domain, name)
    facts = importlib.import_module(f"checks.linux.{domain}").parse(doc["raw"], doc["host"])
    params = {c: e["params"] for c, e in doc["expect"].items()}
    policy = Policy.model_validate({"id": "sample", "version": "1", "title": name, domain: params})
    section = policy.sections()[domain]
    for control, params in section.controls().items():
        evaluate = catalogue()[f"{domain}.{control}"].evaluate
        assert evaluate is not None, control
        outcome = evaluate(facts, params, CTX)
        assert outcome.status == doc["expect"][control]["status"], (control, outcome)
        if outcome.status == "error":
            assert outcome.reason  # an error always says why
