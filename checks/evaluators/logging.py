"""Logging: the controls of the ``logging`` domain, each beside its pure evaluate function.

Every function takes (LoggingFacts, its policy parameters, EvalContext) and returns an Outcome.
A fact the control needs that could not be read is ``error`` with the reason, never ``pass``.

This module is ``checks.evaluators.logging``: absolute imports keep it from ever shadowing the
standard library's ``logging``.
"""

from __future__ import annotations

import ipaddress

from baluarte.controls import Domain, EvalContext
from baluarte.findings import Outcome, Severity, Status
from checks.evaluators.common import ahead_of_run, not_required
from checks.facts.logging import ForwardTarget, LoggingFacts
from checks.policy.logging import RemoteForwarding, TimeSync

DOMAIN = Domain(
    "logging",
    gdpr=("5(2)", "33(5)", "32(1)(d)"),
    iso27001=("8.15", "8.17"),
    ens=("op.exp.8",),
    nis2=("(b)",),
    cis=("8.2", "8.4", "8.9"),
)


def _transport(t: ForwardTarget) -> str:
    tls = "+tls" if t.tls and t.protocol not in ("https", "tls") else ""
    return f"{t.protocol or '?'}{tls}"


def _describe(t: ForwardTarget) -> str:
    port = f":{t.port}" if t.port else ""
    state = "active" if t.active else f"inactive: {t.inactive_reason}"
    return f"{t.via} → {t.host}{port} ({_transport(t)}) at {t.source} [{state}]"


def _listing(targets: list[ForwardTarget]) -> str:
    return ", ".join(
        f"{t.host}{f':{t.port}' if t.port else ''}/{_transport(t)} via {t.via}" for t in targets
    )


def _is(target: ForwardTarget, wanted: str) -> bool:
    """``host`` or ``host:port`` (``[v6]:port``) as the policy names a collector."""
    host, port = wanted, None
    if wanted.startswith("["):
        host, _, rest = wanted[1:].partition("]")
        port = rest.removeprefix(":") or None
    elif wanted.count(":") == 1:
        host, port = wanted.split(":")
    if host.lower() != target.host.lower():
        return False
    return port is None or (port.isdigit() and int(port) == target.port)


def _loopback(host: str) -> bool:
    """The device itself: a local relay or shipper, not evidence of a remote collector."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _why_not(t: ForwardTarget) -> str:
    if t.active and _loopback(t.host):
        return "the device itself, not a remote collector"
    return t.inactive_reason


@DOMAIN.control(
    title="Logs are forwarded to a remote collector",
    rationale="Logs kept only on the device are lost with it and can be erased by whoever "
    "compromised it; a breach must be documented (GDPR 33(5)).",
    severity=Severity.MEDIUM,
    platforms=("linux", "fortigate"),
    benchmark="CIS Debian Linux 12 Benchmark, System Logging (send logs to a remote host); "
    "CIS FortiGate 7.0.x Benchmark v1.3.0 7.3.1 (centralised logging)",
)
def remote_forwarding(facts: LoggingFacts, params: RemoteForwarding, ctx: EvalContext) -> Outcome:
    if not params.required:
        return not_required("log forwarding", ctx)
    targets = facts.forward_targets
    if targets is None:
        return Outcome.unreadable(
            facts.problems.get("forward_targets")
            or "the log forwarding configuration could not be read from the device"
        )
    lines = [_describe(t) for t in targets]
    if facts.forwarders_seen:
        lines.append(f"looked at: {', '.join(facts.forwarders_seen)}")
    evidence = "\n".join(lines) or None
    active = [t for t in targets if t.active and not _loopback(t.host)]
    expected = "logs forwarded to a remote collector by a running forwarder"
    if params.targets:
        expected += ", including " + ", ".join(params.targets)
    if not active:
        looked = ", ".join(facts.forwarders_seen) or "no syslog daemon or journal-upload found"
        if targets:
            observed = "forwarding configured but not in effect: " + "; ".join(
                f"{t.host} via {t.via} ({_why_not(t)})" for t in targets
            )
        else:
            observed = f"no remote forwarding configured (looked at: {looked})"
        return Outcome.failed(expected, observed, evidence=evidence)
    missing = [want for want in params.targets or () if not any(_is(t, want) for t in active)]
    observed = "forwarding to " + _listing(active)
    if missing:
        return Outcome.failed(
            expected, f"{observed}; not forwarding to {', '.join(missing)}", evidence=evidence
        )
    return Outcome.passed(expected, observed, evidence)


@DOMAIN.control(
    title="The clock is synchronised with NTP",
    rationale="Without a common, correct time, events on different devices cannot be put in "
    "order and evidence timestamps are worthless.",
    severity=Severity.MEDIUM,
    platforms=("linux", "windows", "fortigate"),
    benchmark="CIS Debian Linux 12 Benchmark, Configure Time Synchronization; CIS FortiGate "
    "7.0.x Benchmark v1.3.0 2.1.4",
)
def time_sync(facts: LoggingFacts, params: TimeSync, ctx: EvalContext) -> Outcome:
    """A policy's offset limit needs the offset: when the clock's source reports none
    (timedatectl alone, an ntpq line without it), a synchronised clock is ``error`` saying the
    limit was not checked, never a silent pass. Without a limit, synchronised passes."""
    if not params.required:
        return not_required("time synchronisation", ctx)
    sync = facts.time_sync
    if sync is None:
        return Outcome.unreadable(
            facts.problems.get("time_sync") or "the time synchronisation state could not be read"
        )
    evidence = sync.evidence or None
    if sync.last_sync is not None and (
        late := ahead_of_run("the last sync", sync.last_sync, ctx.now)
    ):
        return Outcome.error(late, evidence=evidence)
    wanted = ["clock synchronised with NTP"]
    if params.servers:
        wanted.append("servers " + ", ".join(params.servers) + " configured")
    if params.max_offset_seconds is not None:
        wanted.append(f"offset ≤ {params.max_offset_seconds} s")
    age = sync.last_sync_age_hours
    if params.max_sync_age_hours is not None and age is not None:
        wanted.append(f"last successful sync ≤ {params.max_sync_age_hours:g} h ago")
    expected = "; ".join(wanted)
    if not sync.synchronized:
        return Outcome.failed(expected, f"not synchronised: {sync.detail}", evidence=evidence)
    short: list[str] = []
    if params.servers:
        known = {s.lower() for s in sync.servers} | {(sync.reference or "").lower()}
        missing = [s for s in params.servers if s.lower() not in known]
        if missing:
            configured = ", ".join(sync.servers) or "none found"
            short.append(f"not configured: {', '.join(missing)} (configured: {configured})")
    offset = sync.offset_seconds
    limit = params.max_offset_seconds
    unchecked = ""
    if limit is not None and offset is None:
        unchecked = f"offset unknown: the limit of {limit * 1000:g} ms was not checked"
    elif limit is not None and offset is not None and offset > limit:
        short.append(f"offset {offset:.3f} s > {params.max_offset_seconds} s")
    sync_limit = params.max_sync_age_hours
    if sync_limit is not None and age is not None and age > sync_limit:
        short.append(f"last successful sync {age:.1f} h ago > {params.max_sync_age_hours:g} h")
    if short:
        observed = "; ".join([sync.detail, *short, *([unchecked] if unchecked else [])])
        return Outcome.failed(expected, observed, evidence=evidence)
    if unchecked:
        # synchronised per the daemon, but the policy's limit cannot be claimed met
        why = f"{unchecked} ({sync.source} reports no offset)"
        return Outcome(
            status=Status.ERROR,
            expected=expected,
            observed=f"{sync.detail}; {unchecked}",
            reason=why,
            evidence=evidence,
        )
    return Outcome.passed(expected, sync.detail, evidence)
