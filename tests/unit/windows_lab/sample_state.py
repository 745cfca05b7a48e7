"""A small Windows lab state of the tests' own (the shipped states live in the package)."""

from __future__ import annotations

import copy
from typing import Any

from checks.windows.document import SCHEMA

RECORDED_NOW = "2026-01-10T12:00:00.0000000Z"

_STATE: dict[str, Any] = {
    "hostname": "PC-PRUEBA",
    "os": "Windows 11 Pro 24H2",
    "output": {
        "schema": SCHEMA,
        "host": {
            "ComputerName": "PC-PRUEBA",
            "Domain": "WORKGROUP",
            "PartOfDomain": False,
            "Now": RECORDED_NOW,
            "PSVersion": "5.1.26100.2161",
        },
        "checks": {
            "os.build": {
                "ok": True,
                "data": {
                    "CurrentBuild": 26100,
                    "UBR": 2161,
                    "LastBootUpTime": "2026-01-09T12:00:00.5000000Z",
                },
                "ms": 80,
            },
            "updates.installed": {
                "ok": True,
                "data": {"LastSuccess": "2026-01-07T12:00:00Z", "Hotfixes": ["KB5044284"]},
            },
            "defender.status": {"ok": False, "error": "Access denied", "errorId": "x"},
        },
    },
}


def sample_state(**changes: Any) -> dict[str, Any]:
    """A fresh copy; ``blob=N`` adds an N-character string (for large outputs)."""
    state = copy.deepcopy(_STATE)
    blob = changes.pop("blob", 0)
    if blob:
        state["output"]["checks"]["os.build"]["data"]["Padding"] = "x" * blob
    state.update(changes)
    return state
