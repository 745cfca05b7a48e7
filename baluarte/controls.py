"""The control catalogue: every control's metadata, gathered from ``checks/evaluators/<domain>.py``.

A domain module declares its framework mappings once (``Domain(...)``) and each control beside
its pure evaluate function (``@DOMAIN.control(...)``). Controls whose evaluator is not written yet
are declared with ``DOMAIN.declare(...)``: they are listed and validated, and report ``error``
("cannot be checked"), never ``pass``: a policy that asks for them is not being verified.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Literal

from baluarte.findings import Outcome, Severity

__all__ = [
    "DOMAINS",
    "FRAMEWORKS",
    "PLATFORMS",
    "Control",
    "Domain",
    "EvalContext",
    "Evaluator",
    "catalogue",
    "get_control",
]

Platform = Literal["linux", "windows", "fortigate"]
PLATFORMS: tuple[str, ...] = ("linux", "windows", "fortigate")
DOMAINS: tuple[str, ...] = ("patching", "firewall", "endpoint", "backup", "access", "logging")
FRAMEWORKS: dict[str, str] = {
    "gdpr": "GDPR",
    "iso27001": "ISO/IEC 27001:2022 Annex A",
    "ens": "ENS (RD 311/2022)",
    "nis2": "NIS2 Art. 21(2)",
    "cis": "CIS Controls v8",
}


@dataclass(frozen=True)
class EvalContext:
    """What an evaluator may know besides facts and parameters: the evaluation time, and the
    policy that set the parameters (so a verdict can say "not required by policy P")."""

    now: datetime
    policy: str = ""


Evaluator = Callable[[Any, Any, EvalContext], Outcome]


@dataclass(frozen=True)
class Control:
    id: str
    domain: str
    name: str
    title: str
    rationale: str
    severity: Severity
    platforms: frozenset[str]
    mappings: dict[str, tuple[str, ...]]
    benchmark: str | None = None  # CIS Benchmark section (OS or FortiGate) the control checks
    evaluate: Evaluator | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "domain": self.domain,
            "title": self.title,
            "rationale": self.rationale,
            "severity": str(self.severity),
            "platforms": sorted(self.platforms),
            "mappings": {k: list(v) for k, v in self.mappings.items()},
            "benchmark": self.benchmark,
            "implemented": self.evaluate is not None,
        }


class Domain:
    """One domain's declarations: its framework mappings and its controls, in declaration order."""

    def __init__(self, name: str, **mappings: tuple[str, ...]) -> None:
        unknown = set(mappings) - set(FRAMEWORKS)
        if unknown:
            raise ValueError(f"unknown frameworks {sorted(unknown)}")
        self.name = name
        self.mappings = mappings
        self.controls: dict[str, Control] = {}

    def _add(
        self,
        name: str,
        *,
        title: str,
        rationale: str,
        severity: Severity,
        platforms: tuple[str, ...],
        benchmark: str | None,
        extra_mappings: dict[str, tuple[str, ...]] | None,
        evaluate: Evaluator | None,
    ) -> Control:
        mappings = {k: tuple(v) for k, v in self.mappings.items()}
        for k, v in (extra_mappings or {}).items():
            mappings[k] = tuple(dict.fromkeys((*mappings.get(k, ()), *v)))
        ctl = Control(
            id=f"{self.name}.{name}",
            domain=self.name,
            name=name,
            title=title,
            rationale=rationale,
            severity=severity,
            platforms=frozenset(platforms),
            mappings=mappings,
            benchmark=benchmark,
            evaluate=evaluate,
        )
        if ctl.id in self.controls:
            raise ValueError(f"control {ctl.id} declared twice")
        self.controls[name] = ctl
        return ctl

    def control(
        self,
        *,
        title: str,
        rationale: str,
        severity: Severity,
        platforms: tuple[str, ...],
        benchmark: str | None = None,
        mappings: dict[str, tuple[str, ...]] | None = None,
    ) -> Callable[[Evaluator], Evaluator]:
        """Declare a control whose id is ``<domain>.<function name>``, evaluated by the function."""

        def register(fn: Evaluator) -> Evaluator:
            self._add(
                fn.__name__,
                title=title,
                rationale=rationale,
                severity=severity,
                platforms=platforms,
                benchmark=benchmark,
                extra_mappings=mappings,
                evaluate=fn,
            )
            return fn

        return register

    def declare(
        self,
        name: str,
        *,
        title: str,
        rationale: str,
        severity: Severity,
        platforms: tuple[str, ...],
        benchmark: str | None = None,
        mappings: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """Declare a control whose evaluator is not built yet."""
        self._add(
            name,
            title=title,
            rationale=rationale,
            severity=severity,
            platforms=platforms,
            benchmark=benchmark,
            extra_mappings=mappings,
            evaluate=None,
        )


@cache
def catalogue() -> dict[str, Control]:
    """Every control, by id, in domain order then declaration order."""
    out: dict[str, Control] = {}
    for name in DOMAINS:
        module = importlib.import_module(f"checks.evaluators.{name}")
        domain: Domain = module.DOMAIN
        for ctl in domain.controls.values():
            out[ctl.id] = ctl
    return out


def get_control(control_id: str) -> Control | None:
    return catalogue().get(control_id)
