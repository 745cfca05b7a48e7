"""Policies: YAML baselines with one section per domain, which may extend one another.

A policy file holds one policy. ``load_policies`` reads a file or a directory (every *.yaml /
*.yml but waivers.yaml), checks ids are unique, and resolves every ``extends`` chain up front,
so an unknown parent or a cycle is reported while loading, with file:line:column.
Inheritance is per control: a child's control replaces the parent's whole; the controls the
child does not set come from the parent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from baluarte.controls import DOMAINS
from baluarte.errors import InputError, InputErrors
from baluarte.inventory import DeviceRef, Name
from baluarte.validation import did_you_mean, error_at, raise_all, validate_doc
from baluarte.yamlsource import YamlDoc, load_yaml, yaml_files
from checks.policy.access import AccessSection
from checks.policy.backup import BackupSection
from checks.policy.base import Section
from checks.policy.endpoint import EndpointSection
from checks.policy.firewall import FirewallSection
from checks.policy.logging import LoggingSection
from checks.policy.patching import PatchingSection

__all__ = ["AppliesTo", "Policy", "PolicySet", "load_policies"]

Platform = Literal["linux", "windows", "fortigate"]


class AppliesTo(BaseModel):
    """Which devices a policy is for; every selector given must match (empty: every device)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    platform: tuple[Platform, ...] | None = Field(
        default=None, description="a platform or a list of them"
    )
    clients: tuple[str, ...] | None = Field(default=None, description="client names")
    tags: tuple[str, ...] | None = Field(default=None, description="all must be on the device")

    @field_validator("platform", "clients", "tags", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def matches(self, ref: DeviceRef) -> bool:
        if self.platform is not None and ref.platform not in self.platform:
            return False
        if self.clients is not None and ref.client_name not in self.clients:
            return False
        return self.tags is None or set(self.tags) <= set(ref.tags)


class Policy(BaseModel):
    """A baseline: what devices it applies to and, per domain, the controls and parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Name = Field(description="stable identifier, referenced by extends and --policy")
    version: str = Field(description='the policy\'s own version, quoted: "2026.11"')
    title: str = Field(description="one line, shown in reports")
    description: str | None = Field(default=None, description="what the policy is for")
    extends: str | None = Field(default=None, description="id of the policy this one refines")
    abstract: bool = Field(
        default=False, description="true: only a base for others to extend, never applied itself"
    )
    applies_to: AppliesTo = Field(default_factory=AppliesTo, description="device selector")
    patching: PatchingSection | None = None
    firewall: FirewallSection | None = None
    endpoint: EndpointSection | None = None
    backup: BackupSection | None = None
    access: AccessSection | None = None
    logging: LoggingSection | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _quoted(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            # Unquoted 2026.10 would silently become 2026.1.
            raise PydanticCustomError(
                "wrong_type", 'version must be a string: quote it, e.g. version: "2026.11"'
            )
        return value

    def sections(self) -> dict[str, Section]:
        """The domain sections this policy sets, by domain, in DOMAINS order."""
        out: dict[str, Section] = {}
        for domain in DOMAINS:
            section = getattr(self, domain, None)
            if isinstance(section, Section):
                out[domain] = section
        return out


@dataclass(frozen=True, eq=False)
class PolicySet:
    """Every policy read, with ``extends`` resolved."""

    policies: tuple[Policy, ...]
    files: list[tuple[Path, str]] = field(default_factory=list)
    _effective: dict[str, Policy] = field(default_factory=dict, repr=False)

    def get(self, policy_id: str) -> Policy | None:
        """The policy as written (before ``extends`` is applied)."""
        return next((p for p in self.policies if p.id == policy_id), None)

    def effective(self, policy_id: str) -> Policy:
        """The policy with everything it inherits merged in."""
        self._known(policy_id)
        return self._effective[policy_id]

    def for_device(self, ref: DeviceRef, only: str | None = None) -> list[Policy]:
        """Effective policies whose applies_to matches ``ref``; ``only``: just that policy."""
        if only is not None:
            self._known(only)
            candidates = [self._effective[only]]
        else:
            candidates = [self._effective[p.id] for p in self.policies if not p.abstract]
        return [p for p in candidates if p.applies_to.matches(ref)]

    def _known(self, policy_id: str) -> None:
        if policy_id not in self._effective:
            ids = [p.id for p in self.policies]
            raise InputError(
                f"no policy with id '{policy_id}'{did_you_mean(policy_id, ids)}",
                code="unknown_reference",
                key="policy",
                allowed=", ".join(ids) or "none",
            )


def load_policies(path: Path) -> PolicySet:
    """Read one policy file, or every policy file of a directory. Raises InputErrors."""
    files = yaml_files([path], what="policy", skip=("waivers.yaml", "waivers.yml"))
    errors: list[InputError] = []
    found: dict[str, tuple[Policy, YamlDoc]] = {}
    hashes: list[tuple[Path, str]] = []
    for file in files:
        try:
            doc = load_yaml(file)
            hashes.append((file, doc.sha256))
            pol = validate_doc(Policy, doc)
        except InputErrors as exc:
            errors.extend(exc.errors)
            continue
        except InputError as exc:
            errors.append(exc)
            continue
        if pol.id in found:
            first = found[pol.id][1]
            line = first.locate(("id",))[0]
            errors.append(
                error_at(
                    doc,
                    ("id",),
                    f"policy id '{pol.id}' is already used by {first.path}:{line}",
                    code="duplicate_name",
                )
            )
            continue
        found[pol.id] = (pol, doc)
    effective = _resolve_all(found, errors)
    raise_all(errors)
    return PolicySet(
        policies=tuple(p for p, _ in found.values()), files=hashes, _effective=effective
    )


def _resolve_all(
    found: dict[str, tuple[Policy, YamlDoc]], errors: list[InputError]
) -> dict[str, Policy]:
    done: dict[str, Policy] = {}
    failed: set[str] = set()

    def resolve(pid: str, chain: Sequence[str]) -> Policy | None:
        if pid in done:
            return done[pid]
        if pid in failed:
            return None
        pol, doc = found[pid]
        if pol.extends is None:
            done[pid] = pol
            return pol
        if pol.extends in chain or pol.extends == pid:
            cycle = (
                [*chain[chain.index(pol.extends) :], pid, pol.extends]
                if pol.extends in chain
                else [pid, pid]
            )
            errors.append(
                error_at(
                    doc,
                    ("extends",),
                    "extends forms a cycle: " + " -> ".join(cycle),
                    code="extends_cycle",
                )
            )
            failed.update(cycle)
            return None
        if pol.extends not in found:
            errors.append(
                error_at(
                    doc,
                    ("extends",),
                    f"no policy with id '{pol.extends}'{did_you_mean(pol.extends, found)}",
                    code="unknown_extends",
                    allowed=", ".join(sorted(found)) or "none",
                )
            )
            failed.add(pid)
            return None
        parent = resolve(pol.extends, [*chain, pid])
        if parent is None:
            failed.add(pid)
            return None
        done[pid] = merge(parent, pol)
        return done[pid]

    for pid in found:
        resolve(pid, [])
    return done


def merge(parent: Policy, child: Policy) -> Policy:
    """``child`` over ``parent``: per control, the child's if it sets it, else the parent's."""
    update: dict[str, Any] = {}
    for domain in DOMAINS:
        mine, theirs = getattr(child, domain), getattr(parent, domain)
        if mine is None or theirs is None:
            update[domain] = mine if mine is not None else theirs
            continue
        inherited = {
            name: getattr(theirs, name)
            for name in type(mine).model_fields
            if getattr(mine, name) is None
        }
        update[domain] = mine.model_copy(update=inherited)
    if "applies_to" not in child.model_fields_set:
        update["applies_to"] = parent.applies_to
    if child.description is None:
        update["description"] = parent.description
    return child.model_copy(update=update)
