"""LoggingFacts: where a device's logs go and whether its clock is synchronised.

``None`` always means "could not tell"; an evaluator that needs it reports ``error``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

__all__ = ["ForwardTarget", "LoggingFacts", "TimeSyncFacts"]


class ForwardTarget(BaseModel):
    """One remote log destination found in the device's configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    via: str  # "rsyslog", "syslog-ng", "journal-upload", "fortianalyzer"…
    host: str
    port: int | None = None
    protocol: str = ""  # udp | tcp | relp | https…
    tls: bool | None = None  # the transport is encrypted; None = not known
    source: str = ""  # "/etc/rsyslog.d/90-remote.conf:3"
    active: bool  # the daemon that would forward is running (or enabled, where that is all we see)
    inactive_reason: str = ""


class TimeSyncFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    synchronized: bool
    source: str  # what told us: "timedatectl", "chronyc tracking", "ntpq", "no NTP client"
    detail: str  # one line for the finding's observed value
    reference: str | None = None  # the server the clock follows
    offset_seconds: float | None = None  # how far the clock is from NTP time (absolute)
    servers: tuple[str, ...] = ()  # NTP servers configured
    evidence: str = ""
    last_sync: datetime | None = None  # last successful synchronisation, where the OS records it
    last_sync_age_hours: float | None = None  # against the device's own clock


class LoggingFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    forward_targets: tuple[ForwardTarget, ...] | None
    forwarders_seen: tuple[str, ...] = ()  # what was looked at: "rsyslog (running)"…
    time_sync: TimeSyncFacts | None
    # why a fact is None, by fact name ("forward_targets", "time_sync")
    problems: dict[str, str] = {}
