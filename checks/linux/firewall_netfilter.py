"""The kernel's inbound filtering as chains of rules, whatever tool wrote them, and its walk.

nftables, iptables (nft and legacy) and firewalld all end up as netfilter chains hooked on
*input*. Each tool's parser turns its output into ``Chain``/``Rule`` values; ``family_view``
then follows one family's inbound base chains (jumps, gotos and returns as netfilter runs them)
and reports the rules new inbound connections can get through, what happens to everything
else, and whether anything filters new inbound connections at all.
Where a rule cannot be understood it is treated as matching (accept: open; drop: ignored),
so the result errs towards reporting too much open, never too little.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Literal

from checks.facts.firewall import (
    Action,
    Family,
    FamilyDefault,
    InboundFiltering,
    OpenRule,
    PortRange,
)

__all__ = ["Chain", "Match", "Rule", "family_view", "parse_ports"]

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
Verdict = Literal["accept", "drop", "reject", "jump", "goto", "return", "none"]
_LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_MULTICAST = (
    ipaddress.ip_network("224.0.0.0/4"),
    ipaddress.ip_network("255.255.255.255/32"),
    ipaddress.ip_network("ff00::/8"),
)
_NOT_SERVICES = {"icmp", "ipv6-icmp", "icmpv6", "igmp", "1", "58", "2"}
_DHCP_CLIENT = {(67, 68), (547, 546)}  # (server port, client port): replies to our own requests
_MAX_DEPTH = 32


@dataclass(frozen=True)
class Match:
    """What a rule (or a path of jumps) requires of a packet; ``None`` = no requirement."""

    protocol: str | None = None
    dports: tuple[tuple[int, int], ...] | None = None
    sports: tuple[tuple[int, int], ...] | None = None
    sources: tuple[Net, ...] | None = None
    destinations: tuple[Net, ...] | None = None
    interface: str | None = None  # "lo", "eth0", "!lo"
    ct_states: frozenset[str] | None = None
    family: Family | None = None  # "ip saddr" limits a rule to IPv4, "ip6 …" to IPv6
    not_unicast: bool = False  # addrtype broadcast/multicast: never a host service
    impossible: bool = False  # contradictory requirements after following a jump
    unknown: tuple[str, ...] = ()  # conditions not modelled (treated as matching)

    @property
    def unconditional(self) -> bool:
        return self == Match()

    def merged(self, inner: Match) -> Match:
        """Both this and ``inner`` must hold (a jump's conditions, then the target rule's)."""
        out = self
        impossible = self.impossible or inner.impossible
        protocol = self.protocol
        if inner.protocol is not None:
            if protocol is not None and protocol != inner.protocol:
                impossible = True
            protocol = inner.protocol
        family = self.family
        if inner.family is not None:
            if family is not None and family != inner.family:
                impossible = True
            family = inner.family
        dports = _both(self.dports, inner.dports)
        sports = _both(self.sports, inner.sports)
        if dports == () or sports == ():
            impossible = True
        sources = inner.sources if inner.sources is not None else self.sources
        states = self.ct_states
        if inner.ct_states is not None:
            states = inner.ct_states if states is None else states & inner.ct_states
        out = replace(
            out,
            protocol=protocol,
            family=family,
            dports=dports,
            sports=sports,
            sources=sources,
            destinations=inner.destinations or self.destinations,
            interface=inner.interface or self.interface,
            ct_states=states,
            not_unicast=self.not_unicast or inner.not_unicast,
            impossible=impossible,
            unknown=self.unknown + inner.unknown,
        )
        return out

    def covers(self, other: Match) -> bool:
        """Every new connection ``other`` matches is matched by this too. Conditions not
        modelled are assumed to match: an accept we cannot read may take all of it."""
        if self.impossible or (self.not_unicast and not other.not_unicast):
            return False
        if self.protocol is not None and self.protocol != other.protocol:
            return False
        if self.interface is not None and self.interface != other.interface:
            return False
        if self.ct_states is not None and "new" not in self.ct_states:
            return False
        return (
            _ranges_cover(self.dports, other.dports)
            and _ranges_cover(self.sports, other.sports)
            and _nets_cover(self.sources, other.sources)
            and _nets_cover(self.destinations, other.destinations)
        )

    def not_filtering(self) -> str | None:
        """Why a drop with these conditions does not filter the host's new inbound
        connections from any source, or None when it does."""
        skip = self.skip_reason()
        if skip is not None:
            return skip
        if self.sources is not None:
            return "some sources only"
        if self.destinations is not None:
            return "some destinations only"
        if self.unknown:
            return f"conditions not modelled: {', '.join(self.unknown)}"
        return None

    def skip_reason(self) -> str | None:
        """Why new inbound traffic to a host service can never match this, or None."""
        if self.impossible:
            return "contradictory conditions"
        if self.ct_states is not None and not self.ct_states & {"new", "untracked"}:
            return "replies to established or related connections only"
        if self.interface == "lo":
            return "loopback"
        if self.sources and all(_within(n, _LOOPBACK) for n in self.sources):
            return "loopback sources"
        if self.not_unicast or (
            self.destinations and all(_within(n, _MULTICAST) for n in self.destinations)
        ):
            return "broadcast or multicast only"
        if self.protocol in _NOT_SERVICES:
            return "ICMP/IGMP, not a service"
        if self.protocol == "udp" and self.sports and self.dports:
            pairs = {(s[0], d[0]) for s in self.sports for d in self.dports if s[0] == s[1]}
            if pairs and pairs <= _DHCP_CLIENT:
                return "DHCP client replies"
        return None


@dataclass(frozen=True)
class Rule:
    match: Match
    verdict: Verdict
    text: str
    target: str | None = None  # chain name for jump/goto


@dataclass
class Chain:
    name: str
    tool: str
    where: str  # tool, table and chain: "nftables table inet filter chain input"
    family: Family | None  # None: both (nft inet, firewalld)
    hook_input: bool = False
    policy: Action | None = None
    rules: list[Rule] = field(default_factory=list)
    policy_text: str = ""


def _both(
    a: tuple[tuple[int, int], ...] | None, b: tuple[tuple[int, int], ...] | None
) -> tuple[tuple[int, int], ...] | None:
    if a is None:
        return b
    if b is None:
        return a
    out = [(max(x[0], y[0]), min(x[1], y[1])) for x in a for y in b]
    return tuple(r for r in out if r[0] <= r[1])


def _ranges_cover(
    a: tuple[tuple[int, int], ...] | None, b: tuple[tuple[int, int], ...] | None
) -> bool:
    if a is None:
        return True
    return b is not None and all(any(x[0] <= y[0] and y[1] <= x[1] for x in a) for y in b)


def _nets_cover(a: tuple[Net, ...] | None, b: tuple[Net, ...] | None) -> bool:
    if a is None:
        return True
    return b is not None and all(_within(n, a) for n in b)


def _within(net: Net, nets: tuple[Net, ...]) -> bool:
    return any(net.version == n.version and net.subnet_of(n) for n in nets)  # type: ignore[arg-type]


def parse_ports(text: str) -> tuple[tuple[int, int], ...]:
    """``22``, ``1000:2000``, ``80,443,8000-8100`` → ranges. Raises ValueError."""
    out: list[tuple[int, int]] = []
    for part in text.replace(" ", "").split(","):
        lo, sep, hi = part.replace(":", "-").partition("-")
        first = int(lo) if lo else 0
        last = int(hi) if sep and hi else (65535 if sep else first)
        out.append((first, last))
    return tuple(out)


_Seen = tuple[Match, Rule, Chain, tuple[str, ...]]


@dataclass
class _Walk:
    chains: dict[str, Chain]
    family: Family
    # (conditions on the whole path, accept rule, its chain, conditional jumps leading to it)
    opened: list[_Seen] = field(default_factory=list)
    # every accept met so far, in netfilter's order: a later drop they cover sees no new traffic
    accepted: list[Match] = field(default_factory=list)
    # drops and rejects some new inbound traffic can reach, whatever their conditions
    dropped: list[_Seen] = field(default_factory=list)


def _walk(
    walk: _Walk,
    chain: Chain,
    path: Match,
    depth: int,
    via: tuple[str, ...] = (),
    returned_before: tuple[Match, ...] = (),
) -> Rule | None:
    """Follow ``chain`` for packets matching ``path``; the unconditional verdict that ends
    the traversal (accept/drop/reject, or a return) — None when the chain runs out.
    ``returned_before``: packets the calling chains already sent back, which never get here."""
    if depth > _MAX_DEPTH:
        return None
    # packets a conditional return sends back skip the rest of this chain and what it calls
    returned: list[Match] = list(returned_before)
    for rule in chain.rules:
        full = path.merged(rule.match)
        if full.family is not None and full.family != walk.family:
            continue
        version = 4 if walk.family == "ipv4" else 6
        if full.sources is not None and all(n.version != version for n in full.sources):
            continue  # only sources of the other family
        if full.impossible or rule.match.not_unicast:
            continue
        if rule.verdict == "accept":
            if full.skip_reason() is None:
                walk.opened.append((full, rule, chain, via))
            walk.accepted.append(full)
            if rule.match.unconditional:
                return rule
        elif rule.verdict in ("drop", "reject", "return"):
            # A conditional drop does not decide the default: other new traffic gets past it.
            if rule.verdict == "return":
                returned.append(full)
            elif not any(m.covers(full) for m in (*walk.accepted, *returned)):
                walk.dropped.append((full, rule, chain, via))
            if rule.match.unconditional:
                return rule
        elif rule.verdict in ("jump", "goto") and rule.target in walk.chains:
            hop = via if rule.match.unconditional else (*via, rule.text)
            end = _walk(walk, walk.chains[rule.target], full, depth + 1, hop, tuple(returned))
            if rule.match.unconditional:
                if end is not None and end.verdict != "return":
                    return end
                if rule.verdict == "goto":
                    return None  # a goto never comes back here: this chain is over
    return None


def _base_result(walk: _Walk, chain: Chain) -> tuple[Action, str]:
    """What happens to traffic no specific rule took, and the rule or policy deciding it."""
    end = _walk(walk, chain, Match(), 0)
    if end is not None and end.verdict in ("accept", "drop", "reject"):
        return end.verdict, end.text
    policy = chain.policy or "accept"
    return policy, chain.policy_text or f"policy {policy}"


def _to_open(
    match: Match, rule: Rule, chain: Chain, via: tuple[str, ...], family: Family
) -> OpenRule:
    sources = None
    if match.sources is not None:
        sources = tuple(
            str(n) for n in match.sources if n.version == (4 if family == "ipv4" else 6)
        )
    ports = None
    if match.dports is not None:
        ports = tuple(PortRange(first=a, last=b) for a, b in match.dports)
    return OpenRule(
        families=(family,),
        protocol=match.protocol,
        ports=ports,
        sources=sources,
        interface=match.interface,
        tool=chain.tool,
        where=chain.where,
        rule=" → ".join((*via, rule.text)),
    )


def _admits(walk: _Walk, rule: OpenRule) -> bool:
    """Does another restrictive chain let (some of) this rule's traffic through?"""
    for match, *_ in walk.opened:
        if match.protocol is not None and rule.protocol not in (None, match.protocol):
            continue
        ports = tuple((p.first, p.last) for p in rule.ports or ())
        if match.dports is not None and rule.ports is not None and not _both(match.dports, ports):
            continue
        return True
    return False


def _filtering(
    family: Family, walks: list[tuple[_Walk, Action, str, Chain]], unfiltered: str
) -> InboundFiltering:
    """Whether new inbound connections from any source are dropped or rejected: by the
    default (a base chain's policy or final rule), else by rules reachable from the input hook.

    Drops limited to some sources (a fail2ban ban list) or resting on conditions we do not
    model filter some traffic, not the host's inbound connections: listed, never counted.
    """
    restrictive = [w for w in walks if w[1] != "accept"]
    if restrictive:
        _, _, text, base = restrictive[0]
        return InboundFiltering(family=family, by="default_deny", source=f"{base.where}: {text}")
    counted: list[str] = []
    partial: list[str] = []
    for walk, *_ in walks:
        for match, rule, chain, via in walk.dropped:
            why = match.not_filtering()
            shown = f"{chain.where}: {' → '.join((*via, rule.text))}"
            if why is None:
                counted.append(shown)
            elif why == "some sources only" or why.startswith("conditions"):
                partial.append(f"{shown} ({why})")
    return InboundFiltering(
        family=family,
        by="rules" if counted else None,
        source=unfiltered,
        rules=tuple(dict.fromkeys(counted)),
        not_counted=tuple(dict.fromkeys(partial)),
    )


def family_view(
    chains: list[Chain], family: Family
) -> tuple[FamilyDefault, tuple[OpenRule, ...], InboundFiltering]:
    """One family's default inbound action, its open rules, and whether anything filters."""
    bases = [c for c in chains if c.hook_input and c.family in (None, family)]
    walks: list[tuple[_Walk, Action, str, Chain]] = []
    for base in bases:
        scoped = {c.name: c for c in chains if _same_table(c, base)}
        walk = _Walk(chains=scoped, family=family)
        action, source = _base_result(walk, base)
        walks.append((walk, action, source, base))
    restrictive = [w for w in walks if w[1] != "accept"]
    if not restrictive:
        # nothing stops traffic no rule took: every port is open, whatever the rules say
        where, text = "kernel", "no inbound filtering chain loaded"
        if walks:
            where, text = walks[0][3].where, walks[0][2]
        everything = OpenRule(
            families=(family,),
            protocol=None,
            ports=None,
            sources=None,
            tool=walks[0][3].tool if walks else "none",
            where=where,
            rule=text,
        )
        source = f"{where}: {text}" if walks else text
        return (
            FamilyDefault(family=family, action="accept", source=source),
            (everything,),
            _filtering(family, walks, source),
        )
    first_walk, action, text, base = restrictive[0]
    opened = [_to_open(m, r, c, via, family) for m, r, c, via in first_walk.opened]
    for other, _, _, _ in restrictive[1:]:
        opened = [o for o in opened if _admits(other, o)]
    source = f"{base.where}: {text}"
    default = FamilyDefault(family=family, action=action, source=source)
    return default, tuple(opened), _filtering(family, walks, source)


def _same_table(chain: Chain, base: Chain) -> bool:
    # chains are scoped by table: "table inet filter chain input" shares "table inet filter"
    return chain.where.rsplit(" chain ", 1)[0] == base.where.rsplit(" chain ", 1)[0]
