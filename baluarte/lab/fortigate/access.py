"""Accprofile permissions: who may read or write which node, and which fields a reader sees.

A caller's profile is the ``system/accprofile`` row named by its api-user or admin;
``super_admin``, ``prof_admin`` and names without a row mean full access. An access group is
``"<group>"`` or ``"<group>.<sub>"``: the row's ``<group>`` value (none|read|read-write), or,
when that is ``custom``, ``<group>-permission[<sub>]``. ``"any"`` is open to every caller.

Fields a node declares in ``field_groups`` need their own group: a reader of the node who lacks
it gets 200 with those fields silently absent, like FortiOS (reference §1.2):

* ``system/ha``: every field needs ``sysgrp`` (cfg); ``ha-mgmt-interfaces`` needs ``netgrp``
  (cfg) instead — a profile with ``sysgrp none`` and ``netgrp read`` reads only that field.
* ``system/global``: ``admin*``, ``pre-login-banner``, ``post-login-banner`` and
  ``rest-api-key-url-query`` need ``sysgrp`` sub-permission ``admin`` — a profile with
  ``sysgrp custom`` and ``sysgrp-permission {cfg: read, admin: none}`` reads system/global
  without ``admintimeout``, ``admin-sport``, ``admin-lockout-threshold``…
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from baluarte.lab.fortigate.schema import NodeSchema
from baluarte.lab.fortigate.state import Cmdb

__all__ = ["can_read", "can_write", "level", "node_readable", "profile_row", "visible"]

_FULL = frozenset({"super_admin", "prof_admin"})


def profile_row(cmdb: Cmdb, name: str | None) -> Mapping[str, Any] | None:
    """The accprofile row for ``name``; None means full access."""
    if name is None or name in _FULL:
        return None
    rows = cmdb.global_.get("system/accprofile")
    for row in rows if isinstance(rows, list) else []:
        if row.get("name") == name:
            return dict(row)
    return None


def level(profile: Mapping[str, Any] | None, group: str) -> str:
    if profile is None or group == "any":
        return "read-write"
    name, _, sub = group.partition(".")
    value = str(profile.get(name, "none"))
    if value == "custom":
        custom = profile.get(f"{name}-permission")
        value = str(custom.get(sub, "none")) if isinstance(custom, Mapping) and sub else "none"
    return value


def can_read(profile: Mapping[str, Any] | None, group: str) -> bool:
    return level(profile, group) in ("read", "read-write")


def can_write(profile: Mapping[str, Any] | None, group: str) -> bool:
    return level(profile, group) == "read-write"


def node_readable(schema: NodeSchema, profile: Mapping[str, Any] | None) -> bool:
    """The node or at least one of its field groups is readable."""
    groups = {schema.group, *schema.field_groups.values()}
    return any(can_read(profile, group) for group in groups)


def visible(
    schema: NodeSchema, obj: Mapping[str, Any], profile: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``obj`` without the fields this profile may not read."""
    if profile is None or not schema.field_groups:
        return dict(obj)
    return {
        key: value
        for key, value in obj.items()
        if key in ("q_origin_key", schema.mkey) or can_read(profile, schema.field_group(key))
    }
