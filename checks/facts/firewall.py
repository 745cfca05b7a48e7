"""FirewallFacts: a device's host firewall, whatever tool made its rules.

``None`` always means "could not tell"; an evaluator that needs it reports ``error``.
Open inbound rules are what new inbound traffic can reach after following the ruleset from
its inbound entry points: loopback, established/related replies, ICMP, multicast discovery and
DHCP client replies are not services and are left out by the collector.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Action", "FamilyDefault", "FirewallFacts", "OpenRule", "PortRange"]

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


class FirewallFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tools_installed: tuple[str, ...] = ()  # firewall tools found on the device
    tools_active: tuple[str, ...] | None  # tools whose rules filter inbound traffic now
    active: bool | None  # some inbound filtering is loaded in the kernel now
    configured_enabled: tuple[str, ...] = ()  # tools set to start at boot (e.g. ufw ENABLED=yes)
    families: tuple[Family, ...] = ("ipv4", "ipv6")  # families the device has enabled
    defaults: tuple[FamilyDefault, ...] | None  # per family; None = the ruleset was unreadable
    open_inbound: tuple[OpenRule, ...] | None  # None = the ruleset was unreadable
    summary: str = ""  # short raw excerpt: status lines and inbound policies, for evidence
    problems: tuple[str, ...] = ()  # what the collector could not read, and why

    @property
    def default_inbound(self) -> Action | None:
        """The most permissive default over the device's families (accept beats reject/drop)."""
        if not self.defaults:
            return None
        order: tuple[Action, ...] = ("accept", "reject", "drop")
        return min((d.action for d in self.defaults), key=order.index)
