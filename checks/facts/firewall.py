"""FirewallFacts: a device's host firewall, whatever tool made its rules.

``None`` always means "could not tell"; an evaluator that needs it reports ``error``.
Open inbound rules are what new inbound traffic can reach after following the ruleset from
its inbound entry points: loopback, established/related replies, ICMP, multicast discovery and
DHCP client replies are not services and are left out by the collector. On a FortiGate the
open rules come from its inbound policies and VIPs, and ``fortigate`` holds the policy table,
the implicit deny's logging and the FortiGuard subscriptions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "Action",
    "FamilyDefault",
    "FirewallFacts",
    "FirewallPolicy",
    "FirewallProfile",
    "FortiGuardService",
    "FortigateFirewall",
    "InboundFiltering",
    "OpenRule",
    "PortRange",
    "WindowsRule",
]

Action = Literal["accept", "drop", "reject"]
Family = Literal["ipv4", "ipv6"]


class PortRange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    first: int
    last: int

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


class OpenRule(BaseModel):
    """One rule through which new inbound connections are accepted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    families: tuple[Family, ...]  # the address families the rule lets in
    protocol: str | None  # "tcp", "udp", another IP protocol; None = every protocol
    ports: tuple[PortRange, ...] | None  # destination ports; None = every port
    sources: tuple[str, ...] | None  # CIDR networks; None = any source
    interface: str | None = None  # inbound interface it is limited to ("!eth0" = all but)
    tool: str  # "nftables", "iptables-nft", "iptables-legacy", "ufw", "firewalld"
    where: str  # the tool, table and chain the rule lives in
    rule: str  # the rule as the tool prints it, for evidence

    @property
    def everything(self) -> bool:
        """Every port of every protocol is open (an accept-all rule or an accept policy)."""
        return self.protocol is None and self.ports is None

    def describe(self) -> str:
        if self.everything:
            what = "all ports"
        else:
            ports = ",".join(str(p) for p in self.ports) if self.ports is not None else "all"
            what = f"{self.protocol or 'any'}/{ports}"
        source = ", ".join(self.sources) if self.sources is not None else "any source"
        on = f" on {self.interface}" if self.interface else ""
        return f"{what} from {source}{on} ({self.where}: {self.rule})"


class FamilyDefault(BaseModel):
    """What happens to inbound traffic of one address family that no rule matched."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Family
    action: Action
    source: str  # which chain policy or final rule decides it, or "no inbound chain"


class InboundFiltering(BaseModel):
    """Whether new inbound connections of one address family are filtered, and by what (Linux).

    Filtered means dropped or rejected from any source: by the default (``default_deny``: a
    base chain's policy or final rule), or by rules the input hook reaches (``rules``). Drops
    limited to some sources, such as a fail2ban ban list, filter those sources only: they are
    listed in ``not_counted``, never counted.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Family
    by: Literal["default_deny", "rules"] | None  # None: nothing filters new inbound connections
    source: str  # the policy or final rule deciding the default, or "no inbound filtering chain"
    rules: tuple[str, ...] = ()  # "where: rule" of drops from any source, when no default deny
    not_counted: tuple[str, ...] = ()  # drops of some sources only, or on conditions not modelled

    @property
    def filtered(self) -> bool:
        return self.by is not None

    def describe(self) -> str:
        if self.by == "default_deny":
            return f"{self.family} filtered: default deny ({self.source})"
        if self.by == "rules":
            shown = "; ".join(self.rules[:3])
            more = f" and {len(self.rules) - 3} more" if len(self.rules) > 3 else ""
            return (
                f"{self.family} filtered by rules dropping new connections from any source "
                f"({shown}{more}), default accept ({self.source})"
            )
        text = f"{self.family} not filtered: {self.source}"
        if self.not_counted:
            text += "; drops not counted: " + "; ".join(self.not_counted[:3])
        return text


class FirewallProfile(BaseModel):
    """One Windows Defender Firewall profile (Domain, Private, Public) as the host applies it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    enabled: bool
    default_inbound: Action  # NotConfigured is Windows' default: block ("drop")
    inbound_setting: str  # as Windows reports it: Block, Allow, NotConfigured
    # AllowInboundRules: False makes the profile ignore every allow rule; None: not reported
    allow_inbound_rules: bool | None = None
    # AllowLocalFirewallRules: False (a Group Policy) ignores the host's own rules; None: unknown
    allow_local_rules: bool | None = None

    def describe(self) -> str:
        state = "on" if self.enabled else "off"
        return f"{self.name} {state}, inbound {self.inbound_setting}"


class WindowsRule(BaseModel):
    """One enabled inbound rule of Windows Defender Firewall's effective policy, every condition
    as Windows names it (keywords kept, enums as names): what the WinRM lockout guard judges."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    display_name: str
    action: str  # Allow, Block, AllowBypass
    profiles: tuple[str, ...]  # ("Any",) or some of Domain, Private, Public
    protocol: str  # TCP, UDP, Any, ICMPv4… or a number
    local_ports: tuple[str, ...]  # "Any", "5985", "5000-6000", keywords (RPC…)
    remote_addresses: tuple[str, ...]  # "Any", addresses, networks, ranges, keywords
    local_addresses: tuple[str, ...]
    program: str  # "Any", "System" (the kernel: http.sys, hence WinRM) or a path
    service: str  # "Any" or a service's short name
    package: str  # "" for none, else the app package (SID) the rule is scoped to
    interface_types: tuple[str, ...]  # ("Any",) or some of Wired, Wireless, RemoteAccess
    interfaces: tuple[str, ...]  # interface aliases; ("Any",) for every interface
    authentication: str  # NotRequired, Required, NoEncap (IPsec)
    source: str  # PolicyStoreSourceType: Local, GroupPolicy, Dynamic, Generated, Hardcoded

    def label(self) -> str:
        return f"{self.display_name} ({self.name})"


class FirewallPolicy(BaseModel):
    """One row of a FortiGate's policy table, its names resolved as far as the unit allowed.

    A ``None`` field could not be told; ``problems`` says why, by field name.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int
    name: str = ""
    enabled: bool
    action: str  # accept | deny | ipsec
    srcintf: tuple[str, ...] = ()
    dstintf: tuple[str, ...] = ()
    srcaddr: tuple[str, ...] = ()  # IPv4 and IPv6 names together, as the policy lists them
    dstaddr: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    from_internet: bool | None = None  # a source interface faces the internet (role wan, SD-WAN)
    to_internet: bool | None = None  # a destination interface faces the internet
    # address families in which both source and destination resolve to every address
    any_to_any: tuple[Family, ...] | None = None
    service_any: bool | None = None  # a service resolves to every protocol and port
    logtraffic: str | None = None  # all | utm | disable
    # security profiles in force, by kind (antivirus, ips, webfilter, application, dnsfilter)
    profiles: dict[str, str] | None = None
    profiles_source: str = ""  # "utm-status disable", "profile group office"
    problems: dict[str, str] = {}

    def label(self) -> str:
        name = f' "{self.name}"' if self.name else ""
        route = f"{', '.join(self.srcintf) or '?'} → {', '.join(self.dstintf) or '?'}"
        return f"policy {self.id}{name} ({route})"


class FortiGuardService(BaseModel):
    """One FortiGuard subscription as ``monitor license/status`` reports it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str  # antivirus | ips | webfilter | appctrl
    status: str | None  # licensed | expired | no_license | no_support…
    expires: datetime | None = None
    days_left: float | None = None  # against the collection time
    version: str = ""  # definitions version ("92.01234")
    last_update: datetime | None = None  # when the definitions were last updated
    definitions_age_days: float | None = None  # against the collection time
    has_definitions: bool = False  # a downloaded database (antivirus, ips, appctrl)
    problem: str = ""  # why a field above could not be read


class FortigateFirewall(BaseModel):
    """What only a FortiGate's firewall has: its policy table, implicit deny and FortiGuard."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policies: tuple[FirewallPolicy, ...] | None  # in evaluation order
    implicit_deny_logged: bool | None  # log/setting fwpolicy-implicit-log
    services: tuple[FortiGuardService, ...] | None
    # why a fact is None, by fact name ("policies", "implicit_deny_logged", "services")
    problems: dict[str, str] = {}


class FirewallFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tools_installed: tuple[str, ...] = ()  # firewall tools found on the device
    tools_active: tuple[str, ...] | None  # tools with inbound rules or a non-accept policy loaded
    # inbound traffic is filtered now (Linux: new connections in every family, see ``filtering``)
    active: bool | None
    configured_enabled: tuple[str, ...] = ()  # tools set to start at boot (e.g. ufw ENABLED=yes)
    families: tuple[Family, ...] = ("ipv4", "ipv6")  # families the device has enabled
    defaults: tuple[FamilyDefault, ...] | None  # per family; None = the ruleset was unreadable
    open_inbound: tuple[OpenRule, ...] | None  # None = the ruleset was unreadable
    summary: str = ""  # short raw excerpt: status lines and inbound policies, for evidence
    problems: tuple[str, ...] = ()  # what the collector could not read, and why
    fortigate: FortigateFirewall | None = None  # set for FortiGate units only
    # Windows: every profile, judged one by one (all three must filter); None elsewhere
    profiles: tuple[FirewallProfile, ...] | None = None
    # Linux: per enabled family; None elsewhere, or when the ruleset could not be judged
    filtering: tuple[InboundFiltering, ...] | None = None
    # Windows: every enabled inbound rule (allow and block) with all its conditions; None when
    # unreadable or when the host's answer lacks a condition (``windows_rules_problem`` says why)
    windows_rules: tuple[WindowsRule, ...] | None = None
    windows_rules_problem: str = ""

    @property
    def default_inbound(self) -> Action | None:
        """The most permissive default over the device's families (accept beats reject/drop)."""
        if not self.defaults:
            return None
        order: tuple[Action, ...] = ("accept", "reject", "drop")
        return min((d.action for d in self.defaults), key=order.index)
