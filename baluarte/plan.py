"""Plan: which controls, with which parameters, apply to which device (device × controls)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from baluarte.controls import DOMAINS, Control, catalogue
from baluarte.inventory import DeviceRef, Inventory
from baluarte.policy import PolicySet
from checks.policy.base import ControlParams

__all__ = ["DevicePlan", "PlannedControl", "plan"]


@dataclass(frozen=True)
class PlannedControl:
    control: Control
    params: ControlParams
    policy: str


@dataclass(frozen=True)
class DevicePlan:
    ref: DeviceRef
    controls: tuple[PlannedControl, ...]

    def domains(self) -> set[str]:
        return {p.control.domain for p in self.controls}


def plan(
    inventory: Inventory,
    policies: PolicySet,
    *,
    client: str | None = None,
    site: str | None = None,
    device: str | None = None,
    tags: Sequence[str] | None = None,
    policy: str | None = None,
) -> list[DevicePlan]:
    """Every selected device with the enabled controls of every policy that applies to it."""
    registry = catalogue()
    plans: list[DevicePlan] = []
    for ref in inventory.select(client=client, site=site, device=device, tags=tags):
        planned: list[PlannedControl] = []
        for pol in policies.for_device(ref, only=policy):
            for domain in DOMAINS:
                section = getattr(pol, domain, None)
                if section is None:
                    continue
                for name, params in section.controls().items():
                    if params.enabled:
                        planned.append(PlannedControl(registry[f"{domain}.{name}"], params, pol.id))
        plans.append(DevicePlan(ref, tuple(planned)))
    return plans
