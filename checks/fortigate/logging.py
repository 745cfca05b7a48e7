"""LoggingFacts of a FortiGate: syslog and FortiAnalyzer forwarding, NTP synchronisation.

Endpoints: ``cmdb log.syslogd/setting`` and ``log.fortianalyzer/setting`` (and
``log.syslogd2..4/setting`` when read), ``cmdb system/ntp`` and ``monitor system/ntp/status``.
NTP offsets in the monitor answer are milliseconds (as the FortiGate exporter reads them).
"""

from __future__ import annotations

from checks.facts.logging import ForwardTarget, LoggingFacts, TimeSyncFacts
from checks.fortigate.read import Fields, Unreadable, attempt, rows, single
from checks.fortigate.snapshot import FortiSnapshot

__all__ = ["parse"]

_MORE_SYSLOG = tuple(f"log.syslogd{n}/setting" for n in (2, 3, 4))


def _syslog(setting: Fields, path: str) -> ForwardTarget | None:
    enabled = setting.on("status")
    server = setting.text("server")
    if not server and not enabled:
        return None
    mode = setting.text("mode")
    protocol = "udp" if mode == "udp" else "tcp"
    if setting.text("enc-algorithm") != "disable":
        protocol = "tls"
    return ForwardTarget(
        via=path.split("/")[0].removeprefix("log."),
        host=server,
        port=setting.number("port"),
        protocol=f"{protocol} ({mode})",
        source=f"cmdb {path}",
        active=enabled and bool(server.strip()),
        inactive_reason=_inactive(enabled, server),
    )


def _inactive(enabled: bool, server: str) -> str:
    """Why a target forwards nothing: ``status enable`` with no server sends logs nowhere."""
    if not enabled:
        return "status disable"
    return "" if server.strip() else "status enable but no server set"


def _fortianalyzer(setting: Fields) -> ForwardTarget | None:
    enabled = setting.on("status")
    server = setting.text("server")
    if not server and not enabled:
        return None
    reliable = setting.on("reliable")
    return ForwardTarget(
        via="fortianalyzer",
        host=server,
        port=514,  # OFTP; the setting has no port
        protocol=f"oftp ({'reliable' if reliable else 'udp'}, {setting.text('enc-algorithm')})",
        source="cmdb log.fortianalyzer/setting",
        active=enabled and bool(server.strip()),
        inactive_reason=_inactive(enabled, server),
    )


def _targets(snapshot: FortiSnapshot) -> tuple[tuple[ForwardTarget, ...], tuple[str, ...]]:
    targets: list[ForwardTarget] = []
    seen: list[str] = []
    for path in ("log.syslogd/setting", "log.fortianalyzer/setting"):
        setting = single(snapshot, path)
        target = _syslog(setting, path) if "syslogd" in path else _fortianalyzer(setting)
        seen.append(
            f"{path.split('/')[0].removeprefix('log.')} (status "
            f"{'enable' if setting.on('status') else 'disable'})"
        )
        if target is not None:
            targets.append(target)
    unreadable: list[str] = []
    for path in _MORE_SYSLOG:
        # read only when the first two forward nothing (endpoints.py); absent is no target
        if path not in snapshot.cmdb and snapshot.problem("cmdb", path) is None:
            continue
        try:
            setting = single(snapshot, path)
            target = _syslog(setting, path)
        except Unreadable as exc:
            unreadable.append(str(exc))
            continue
        seen.append(
            f"{path.split('/')[0].removeprefix('log.')} (status "
            f"{'enable' if setting.on('status') else 'disable'})"
        )
        if target is not None:
            targets.append(target)
    if unreadable and not any(t.active for t in targets):
        raise Unreadable("; ".join(unreadable))
    return tuple(targets), tuple(seen)


def _time_sync(snapshot: FortiSnapshot) -> TimeSyncFacts:
    ntp = single(snapshot, "system/ntp")
    sync, kind = ntp.on("ntpsync"), ntp.text("type")
    servers: tuple[str, ...] = ()
    if kind == "custom":
        servers = tuple(s.text("server") for s in ntp.members("ntpserver"))
    how = f"system/ntp ntpsync {'enable' if sync else 'disable'}, type {kind}"
    if servers:
        how += f" ({', '.join(servers)})"
    if not sync:
        return TimeSyncFacts(synchronized=False, source="system/ntp", detail=how, servers=servers)
    status = rows(snapshot, "system/ntp/status", key="server", scope="monitor")
    peers = []
    for peer in status:
        name = peer.text("server") or peer.text("ip")
        peers.append((name, peer.raw("reachable") is True, peer.raw("selected") is True, peer))
    lines = [f"{n}: reachable {r}, selected {s}" for n, r, s, _ in peers]
    chosen = [p for p in peers if p[1] and p[2]]
    if kind == "fortiguard":
        servers = tuple(n for n, *_ in peers)
    if not chosen:
        detail = f"{how}; no reachable, selected server in monitor system/ntp/status"
        return TimeSyncFacts(
            synchronized=False,
            source="system/ntp/status",
            detail=detail,
            servers=servers,
            evidence="\n".join(lines),
        )
    name, _, _, peer = chosen[0]
    offset = None
    if peer.has("offset"):
        offset = abs(float(peer.raw("offset"))) / 1000
    stratum = f", stratum {peer.raw('stratum')}" if peer.has("stratum") else ""
    shown = f", offset {offset:.3f} s" if offset is not None else ""
    return TimeSyncFacts(
        synchronized=True,
        source="system/ntp/status",
        detail=f"synchronised to {name} ({peer.text('ip')}){stratum}{shown}; {how}",
        reference=name,
        offset_seconds=offset,
        servers=servers,
        evidence="\n".join(lines),
    )


def parse(snapshot: FortiSnapshot) -> LoggingFacts:
    problems: dict[str, str] = {}
    forwarding = attempt(problems, "forward_targets", lambda: _targets(snapshot))
    return LoggingFacts(
        forward_targets=forwarding[0] if forwarding else None,
        forwarders_seen=forwarding[1] if forwarding else (),
        time_sync=attempt(problems, "time_sync", lambda: _time_sync(snapshot)),
        problems=problems,
    )
