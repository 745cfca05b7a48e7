"""Logging remedies: syslog forwarding to the policy's targets, NTP synchronisation."""

from __future__ import annotations

from typing import Any

from baluarte.remediation import Manual, Remedy, RemedyContext, RestWrite
from checks.facts.logging import LoggingFacts
from checks.fortigate.snapshot import FortiSnapshot
from checks.policy.logging import RemoteForwarding, TimeSync
from deploys.fortigate.common import needed, obj, remedy, snapshot, unit, write

__all__ = ["remote_forwarding", "time_sync"]

_SLOTS = ("log.syslogd/setting", *(f"log.syslogd{n}/setting" for n in (2, 3, 4)))
_RELIABLE_PORTS = (601, 6514)  # syslog over TCP (RFC 6587) and TLS (RFC 5425)


def _target(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and host:
        return host.strip("[]"), int(port)
    return text, 514


def remote_forwarding(
    facts: LoggingFacts, params: RemoteForwarding, ctx: RemedyContext
) -> Remedy | Manual | None:
    """Each target of the policy not forwarded to yet, in a free syslogd slot."""
    control = "logging.remote_forwarding"
    if (why := needed(control, facts, params, ctx)) is not True:
        return why
    if not params.targets:
        return Manual(
            text="no forwarding target in the policy: set logging.remote_forwarding.targets "
            "(host:port) or configure syslog / FortiAnalyzer on the unit (Log & Report > Log "
            "Settings)"
        )
    snap = snapshot(ctx)
    if isinstance(snap, Manual):
        return snap
    active = {(t.host, t.port) for t in facts.forward_targets or () if t.active}
    wanted = [_target(t) for t in params.targets]
    missing = [(h, p) for h, p in wanted if (h, p) not in active]
    free = []
    for path in _SLOTS:
        setting = obj(snap, path)
        if setting is not None and setting.get("status") != "enable":
            free.append((path, setting))
    if len(free) < len(missing):
        return Manual(
            text=f"{len(missing)} syslog targets to add but {len(free)} free syslogd slots "
            "read from the unit: configure them by hand"
        )
    writes: list[RestWrite | None] = []
    for (host, port), (path, setting) in zip(missing, free, strict=False):
        data: dict[str, Any] = {"status": "enable", "server": host, "port": port}
        data["mode"] = "reliable" if port in _RELIABLE_PORTS else "udp"
        writes.append(write(path, None, data, setting, global_scope=True))
    shown = ", ".join(f"{h}:{p}" for h, p in missing)
    return remedy(f"forward logs to {shown}", writes, control)


def time_sync(facts: LoggingFacts, params: TimeSync, ctx: RemedyContext) -> Remedy | Manual | None:
    """ntpsync on: FortiGuard's servers, or the policy's own."""
    control = "logging.time_sync"
    snap = unit(control, facts, params, ctx)
    if not isinstance(snap, FortiSnapshot):
        return snap
    ntp = obj(snap, "system/ntp")
    if ntp is None:
        return Manual(text="system/ntp was not read; nothing is changed until it is")
    data: dict[str, Any] = {"ntpsync": "enable"}
    if params.servers:
        data["type"] = "custom"
        data["ntpserver"] = [{"id": i, "server": s} for i, s in enumerate(params.servers, 1)]
        current = {**ntp, "ntpserver": [
            {"id": m.get("id"), "server": m.get("server")}
            for m in ntp.get("ntpserver") or [] if isinstance(m, dict)
        ]}  # fmt: skip
    else:
        data["type"] = "fortiguard"
        current = dict(ntp)
    how = ", ".join(params.servers) if params.servers else "FortiGuard"
    write_ = write("system/ntp", None, data, current, global_scope=True)
    return remedy(f"synchronise the clock with {how}", [write_], control)
