"""What the emulator knows about one cmdb node: ``NodeSchema``, and ``declare`` to write one.

A node is a table (mkey name and type) or a singleton, global or per-VDOM, with its accprofile
access group (``"fwgrp.policy"`` = group ``fwgrp``, custom sub-permission ``policy``), the enum,
multi-value and integer fields writes are validated against, member lists and references to
other tables, secret fields, defaults and per-field access groups. The curated nodes themselves
are in ``nodes.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["BUILTIN_NAMES", "GLOBAL_SECRETS", "Member", "NodeSchema", "Scope", "declare"]

Scope = Literal["global", "vdom"]
MkeyType = Literal["integer", "string"]
ED = "enable disable"

# Field names that always hold secrets, at any depth (reference §1.7: never diff secrets).
GLOBAL_SECRETS = frozenset(
    {"password", "passwd", "psksecret", "secret", "secretkey", "passphrase", "auth-pwd",
     "priv-pwd", "group-password", "api-key", "private-key"}
)  # fmt: skip

# Objects every FortiGate has even when a hand-written state file leaves them out.
BUILTIN_NAMES: Mapping[str, frozenset[str]] = {
    "firewall/address": frozenset({"all", "none"}),
    "firewall.service/custom": frozenset({"ALL"}),
    "firewall.schedule/recurring": frozenset({"always"}),
    "system/interface": frozenset({"any"}),
    "system/accprofile": frozenset({"super_admin", "prof_admin"}),
    "system/vdom": frozenset({"root"}),
}


@dataclass(frozen=True)
class Member:
    """A member list (``[{"name": "port1"}]``) whose elements name rows of ``targets``."""

    targets: tuple[str, ...]
    key: str = "name"


@dataclass(frozen=True)
class NodeSchema:
    """One cmdb node (``firewall/policy``): its shape, scope, access group and write rules."""

    path: str
    table: bool
    scope: Scope
    group: str
    mkey: str | None = None
    mkey_type: MkeyType = "string"
    fields: frozenset[str] = frozenset()
    enums: Mapping[str, frozenset[str]] = field(default_factory=dict)
    multi: Mapping[str, frozenset[str]] = field(default_factory=dict)
    ints: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    members: Mapping[str, Member] = field(default_factory=dict)
    refs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    secrets: frozenset[str] = frozenset()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # field name, "prefix*" or "*" -> access group needed to see that field (reference §1.2)
    field_groups: Mapping[str, str] = field(default_factory=dict)
    children: Mapping[str, str] = field(default_factory=dict)  # child table -> its mkey
    known: bool = True  # False: inferred from a state file, not curated

    @property
    def category(self) -> str:
        return "table" if self.table else "complex"

    def is_secret(self, name: str) -> bool:
        return name in self.secrets or name in GLOBAL_SECRETS

    def field_group(self, name: str) -> str:
        """The access group needed to read ``name`` (the node's own group unless declared)."""
        if name in self.field_groups:
            return self.field_groups[name]
        for pattern, group in self.field_groups.items():
            if pattern.endswith("*") and pattern != "*" and name.startswith(pattern[:-1]):
                return group
        return self.field_groups.get("*", self.group)


def _split(words: str) -> frozenset[str]:
    return frozenset(words.split())


def declare(
    path: str,
    group: str,
    *,
    table: bool = True,
    scope: Scope = "vdom",
    mkey: str = "name",
    mkey_type: MkeyType = "string",
    fields: str = "",
    onoff: str = "",
    enums: Mapping[str, str] | None = None,
    multi: Mapping[str, str] | None = None,
    ints: Mapping[str, tuple[int, int]] | None = None,
    members: Mapping[str, Member | tuple[str, ...]] | None = None,
    refs: Mapping[str, tuple[str, ...]] | None = None,
    secrets: str = "",
    defaults: Mapping[str, Any] | None = None,
    field_groups: Mapping[str, str] | None = None,
    children: Mapping[str, str] | None = None,
) -> NodeSchema:
    all_enums = {name: _split(ED) for name in onoff.split()}
    all_enums.update({name: _split(values) for name, values in (enums or {}).items()})
    all_members = {
        name: m if isinstance(m, Member) else Member(m) for name, m in (members or {}).items()
    }
    names = set(fields.split()) | set(all_enums) | set(multi or {}) | set(ints or {})
    names |= set(all_members) | set(refs or {}) | set(secrets.split()) | set(defaults or {})
    names |= set(children or {})
    if table:
        names.add(mkey)
    return NodeSchema(
        path=path,
        table=table,
        scope=scope,
        group=group,
        mkey=mkey if table else None,
        mkey_type=mkey_type,
        fields=frozenset(names),
        enums=all_enums,
        multi={name: _split(values) for name, values in (multi or {}).items()},
        ints=dict(ints or {}),
        members=all_members,
        refs=dict(refs or {}),
        secrets=_split(secrets),
        defaults=dict(defaults or {}),
        field_groups=dict(field_groups or {}),
        children=dict(children or {}),
    )
