"""The ``firewall:`` section of a policy."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, IPvAnyNetwork

from checks.policy.base import ControlParams, Required, Section

__all__ = [
    "AllowedInbound",
    "FirewallSection",
    "InboundService",
    "PolicyLogging",
    "SecurityProfiles",
    "SecurityServices",
]


class InboundService(ControlParams):
    """One inbound service the policy allows: a port, its protocol, and who may reach it."""

    port: int = Field(ge=1, le=65535, description="destination port")
    protocol: Literal["tcp", "udp"] = Field(default="tcp", description="tcp or udp")
    sources: tuple[IPvAnyNetwork, ...] | None = Field(
        default=None,
        description="networks (CIDR) allowed to reach it; omitted = any source is acceptable",
    )
    name: str | None = Field(default=None, description="what the service is, for reports")


class AllowedInbound(ControlParams):
    services: tuple[InboundService, ...] = Field(
        default=(),
        description="the only inbound services that may be open; anything else open fails",
    )


class SecurityProfiles(ControlParams):
    profiles: tuple[Literal["antivirus", "ips", "webfilter", "application", "dnsfilter"], ...] = (
        Field(
            default=("antivirus", "ips", "webfilter"),
            description="profiles every enabled accept policy towards the internet must carry",
        )
    )


class PolicyLogging(ControlParams):
    logtraffic: Literal["all", "utm"] = Field(
        default="all",
        description="least traffic logging per enabled policy: 'all', or 'utm' (security events)",
    )
    implicit_deny: bool = Field(default=True, description="the implicit deny must log too")


class SecurityServices(ControlParams):
    max_days: int = Field(
        default=2, ge=0, description="oldest acceptable AV/IPS definitions, in days"
    )
    services: tuple[Literal["antivirus", "ips", "webfilter", "appctrl"], ...] = Field(
        default=("antivirus", "ips"), description="FortiGuard services whose licence must be valid"
    )
    licence_min_days: int = Field(
        default=0, ge=0, description="days of validity a licence must still have"
    )


class FirewallSection(Section):
    enabled: Required | None = Field(default=None, description="host firewall active")
    default_inbound_deny: Required | None = Field(
        default=None, description="default inbound action drops or blocks"
    )
    allowed_inbound: AllowedInbound | None = Field(
        default=None, description="only the listed inbound services are open"
    )
    no_any_any_accept: Required | None = Field(
        default=None, description="FortiGate: no any-to-any accept policy"
    )
    security_profiles: SecurityProfiles | None = Field(
        default=None, description="FortiGate: accept policies to the internet carry profiles"
    )
    policy_logging: PolicyLogging | None = Field(
        default=None, description="FortiGate: every enabled policy logs traffic"
    )
    security_services_current: SecurityServices | None = Field(
        default=None, description="FortiGate: FortiGuard licences valid, definitions fresh"
    )
