"""Logging remedies: rsyslog forwarding to the policy's collectors; NTP time sync on.

This module is ``deploys.linux.logging``: absolute imports keep it from shadowing the standard
library's ``logging``.
"""

from __future__ import annotations

from baluarte.remediation import Manual, OpSpec, Refused, Remedy, RemedyContext
from checks.facts.logging import ForwardTarget, LoggingFacts
from checks.policy.logging import RemoteForwarding, TimeSync
from deploys.linux.common import Family, family, file_diff, needed, op, state_diff

__all__ = ["FORWARD_CONF", "TIMESYNCD_CONF", "remote_forwarding", "time_sync"]

FORWARD_CONF = "/etc/rsyslog.d/90-baluarte-forward.conf"
TIMESYNCD_CONF = "/etc/systemd/timesyncd.conf.d/50-baluarte.conf"
_HEADER = "# Written by Baluarte (logging.remote_forwarding). Change the policy, not this file.\n"
_CHRONY = {"apt": ("/etc/chrony/chrony.conf", "chrony"), "dnf": ("/etc/chrony.conf", "chronyd")}


def _split(wanted: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` → (host, port); 514 when none is given."""
    if wanted.startswith("["):
        host, _, rest = wanted[1:].partition("]")
        port = rest.removeprefix(":")
    elif wanted.count(":") == 1:
        host, port = wanted.split(":")
    else:
        host, port = wanted, ""
    return host, int(port) if port.isdigit() else 514


def _action(host: str, port: int, protocol: str = "tcp") -> str:
    at = "@@" if protocol == "tcp" else "@"
    shown = f"[{host}]" if ":" in host else host
    return f"*.* {at}{shown}:{port}"


def _covered(wanted: str, targets: tuple[ForwardTarget, ...]) -> bool:
    """Another file (not ours) already forwards to it, and the forwarder runs."""
    host, port = _split(wanted)
    explicit = wanted.startswith("[") or wanted.count(":") == 1
    return any(
        t.active
        and not t.source.startswith(FORWARD_CONF)
        and t.host.lower() == host.lower()
        and (not explicit or t.port == port)
        for t in targets
    )


def remote_forwarding(
    facts: LoggingFacts, params: RemoteForwarding, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("logging.remote_forwarding", facts, params, ctx)
    if state is not True:
        return state
    if not params.targets:
        return Manual(
            text="name the log collector in the policy (logging.remote_forwarding.targets: "
            "[host:port]) for Baluarte to configure it, or add `*.* @@collector:514` to "
            f"{FORWARD_CONF} and `systemctl restart rsyslog`."
        )
    pm = family(ctx)
    if pm is None:
        return Manual(text=f"install rsyslog and add `*.* @@collector:514` to {FORWARD_CONF}.")
    targets = facts.forward_targets or ()
    mine = [w for w in params.targets if not _covered(w, targets)]
    text = _HEADER + "".join(_action(*_split(w)) + "\n" for w in mine)
    old = [t for t in targets if t.source.startswith(FORWARD_CONF)]
    before_text = (
        _HEADER + "".join(_action(t.host, t.port or 514, t.protocol) + "\n" for t in old)
        if old
        else ""
    )
    seen = ", ".join(f"{t.host}:{t.port or '?'} ({t.via})" for t in targets if t.active)
    return Remedy(
        summary=f"forward logs to {', '.join(mine)} with rsyslog (TCP)",
        before=f"forwarding to {seen}" if seen else "no active remote forwarding",
        after="rsyslog forwards every facility to " + ", ".join(params.targets),
        diff=file_diff(FORWARD_CONF, before_text, text),
        ops=(
            _packages(pm, "rsyslog"),
            op(
                f"write {FORWARD_CONF}",
                "files",
                "put",
                src_text=text,
                dest=FORWARD_CONF,
                mode="644",
            ),
            op(
                "restart rsyslog (start and enable it)",
                "systemd",
                "service",
                service="rsyslog",
                running=True,
                enabled=True,
                restarted=True,
            ),
        ),
    )


def _packages(pm: Family, name: str) -> OpSpec:
    if pm == "apt":
        # --no-remove: never let apt remove a conflicting package behind the plan's back
        return op(
            f"install {name}", "apt", "packages", packages=[name], extra_install_args="--no-remove"
        )
    return op(f"install {name}", "dnf", "packages", packages=[name])


def _client(facts: LoggingFacts) -> str:
    """The NTP client the host uses: the one that runs, else chrony when it is installed."""
    sync = facts.time_sync
    assert sync is not None
    if sync.source == "no NTP client":
        return "chrony" if "chrony is installed" in sync.detail else "timesyncd"
    if sync.source == "chronyc tracking" or "chronyd" in sync.detail.split(";", 1)[-1]:
        return "chrony"
    if sync.source == "ntpq" or "ntpd:" in sync.detail:
        return "ntpd"
    return "timesyncd"


def time_sync(
    facts: LoggingFacts, params: TimeSync, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("logging.time_sync", facts, params, ctx)
    if state is not True:
        return state
    sync = facts.time_sync
    assert sync is not None
    pm = family(ctx)
    client = _client(facts)
    if client == "timesyncd" and pm == "dnf":
        client = "chrony"  # the RHEL family's own NTP client
    if pm is None or client == "ntpd":
        return Manual(
            text="enable the host's NTP client (`timedatectl set-ntp true`, or chronyd/ntpd) "
            "and point it at the policy's servers; check with `timedatectl show`."
        )
    servers = list(params.servers or ())
    before = [sync.detail, "servers: " + (", ".join(sync.servers) or "none found")]
    after = [f"{client} enabled and running, synchronising"]
    after.append("servers: " + ", ".join(servers or sync.servers or ("the distribution's",)))
    ops: list[OpSpec] = []
    diff = state_diff("time sync", before, after)
    if client == "chrony":
        path, service = _CHRONY[pm]
        ops.append(_packages(pm, "chrony"))
        for server in servers:
            ops.append(
                op(
                    f"server {server} in {path}",
                    "files",
                    "line",
                    path=path,
                    line=f"server {server} iburst",
                    escape_regex_characters=True,
                )
            )
    else:
        service = "systemd-timesyncd"
        ops.append(_packages(pm, "systemd-timesyncd"))
        if servers:
            text = "[Time]\nNTP=" + " ".join(servers) + "\n"
            ops.append(
                op(
                    f"write {TIMESYNCD_CONF}",
                    "files",
                    "put",
                    src_text=text,
                    dest=TIMESYNCD_CONF,
                    mode="644",
                )
            )
            diff += file_diff(TIMESYNCD_CONF, "", text)
        ops.append(
            op(
                "turn NTP on (timedatectl set-ntp true)",
                "server",
                "shell",
                commands=["timedatectl set-ntp true"],
            )
        )
    ops.append(
        op(
            f"restart {service} (start and enable it)",
            "systemd",
            "service",
            service=service,
            running=True,
            enabled=True,
            restarted=True,
        )
    )
    return Remedy(
        summary=f"turn on time synchronisation with {client}"
        + (f" from {', '.join(servers)}" if servers else ""),
        before="; ".join(before),
        after="; ".join(after),
        diff=diff,
        ops=tuple(ops),
    )
