"""The ``logging:`` section of a policy."""

from __future__ import annotations

from pydantic import Field

from checks.policy.base import ControlParams, Section

__all__ = ["LoggingSection", "RemoteForwarding", "TimeSync"]


class RemoteForwarding(ControlParams):
    required: bool = Field(default=True, description="logs must be forwarded to a collector")
    targets: tuple[str, ...] | None = Field(
        default=None,
        description="collectors (host or host:port) that must be among the targets; omitted ="
        " any remote target passes",
    )


class TimeSync(ControlParams):
    required: bool = Field(default=True, description="the clock must be NTP-synchronised")
    servers: tuple[str, ...] | None = Field(
        default=None, description="NTP servers that must be configured; omitted = any"
    )
    max_offset_seconds: float | None = Field(
        default=None, ge=0, description="largest clock offset accepted, when the device reports it"
    )
    max_sync_age_hours: float | None = Field(
        default=192,
        ge=0,
        description="Windows: oldest acceptable last successful synchronisation (w32tm), in"
        " hours; null = not checked",
    )


class LoggingSection(Section):
    remote_forwarding: RemoteForwarding | None = Field(
        default=None, description="logs forwarded to a remote collector"
    )
    time_sync: TimeSync | None = Field(default=None, description="clock synchronised with NTP")
