"""FortiSnapshot: what the FortiGate collector read from one unit, before it becomes facts.

The collector (``checks/fortigate/collector.py``) asks ``endpoints_for`` which REST endpoints
the planned controls need, reads them, and hands the answers over as a ``FortiSnapshot``; the
parsers (``checks/fortigate/<domain>.py``) turn a snapshot into the shared domain facts. A
snapshot keeps each answer exactly as the ``results`` member of the FortiOS response (a list of
rows for tables, an object for singletons) — the same shape as a lab state file, so
``snapshot_from_state`` lets parser tests start from a state file without any HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ["ConfigBackup", "Endpoint", "FortiSnapshot", "snapshot_from_state"]

Scope = Literal["cmdb", "monitor"]


@dataclass(frozen=True)
class Endpoint:
    """One GET the collector makes: ``/api/v2/<scope>/<path>``.

    ``global_scope``: a global object (``system/*``) read without ``vdom=``; otherwise the
    device's VDOM is selected. ``needed``: for look-up tables read in a second round, whether
    the first round's cmdb answers refer to anything in them (``None``: always read).
    """

    scope: Scope
    path: str
    global_scope: bool = False
    needed: Callable[[Mapping[str, Any]], bool] | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """How problems name it: ``"cmdb firewall/policy"``."""
        return f"{self.scope} {self.path}"


@dataclass(frozen=True)
class ConfigBackup:
    """A configuration backup the collector took during this run (the text is on disk only)."""

    sha256: str
    size: int
    taken_at: datetime
    path: str  # where the file was written (outside the store); never the text itself
    scope: str = "global"
    header: str = ""  # the first line, "#config-version=FGT60F-7.04-FW-build2702-…"


@dataclass(frozen=True)
class FortiSnapshot:
    version: str  # "v7.4.5", from the response envelope
    build: int
    serial: str
    vdom: str
    cmdb: Mapping[str, Any]  # "system/global" -> results, for every cmdb endpoint read
    monitor: Mapping[str, Any]  # "license/status" -> results, for every monitor endpoint read
    # endpoint key -> why it could not be read ("403 Forbidden: the token's profile lacks …")
    problems: Mapping[str, str] = field(default_factory=dict)
    config_backup: ConfigBackup | None = None
    config_backup_problem: str | None = None  # why the backup could not be taken
    # the unit answered 403: Baluarte's API user may not take backups (a finding, not a doubt)
    config_backup_refused: bool = False
    taken_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def problem(self, scope: Scope, path: str) -> str | None:
        return self.problems.get(f"{scope} {path}")


def snapshot_from_state(
    state: Mapping[str, Any],
    vdom: str = "root",
    *,
    now: datetime | None = None,
    config_backup: ConfigBackup | None = None,
) -> FortiSnapshot:
    """A snapshot holding everything a lab state file has (global and one VDOM merged)."""
    cmdb: dict[str, Any] = dict(state.get("global", {}))
    cmdb.update(state.get("vdoms", {}).get(vdom, {}))
    return FortiSnapshot(
        version=str(state["version"]),
        build=int(state["build"]),
        serial=str(state["serial"]),
        vdom=vdom,
        cmdb=cmdb,
        monitor=dict(state.get("monitor", {})),
        config_backup=config_backup,
        taken_at=now or datetime.now(UTC),
    )
