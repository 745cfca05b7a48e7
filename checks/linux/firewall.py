"""Parse what ``firewall.sh`` fetched into FirewallFacts (pure).

Every tool's rules become netfilter chains (``firewall_iptables``, ``firewall_nftables``,
``firewall_firewalld``); ``firewall_netfilter`` follows the inbound chains of each address
family. What is open does not depend on which tool wrote the rules: ufw and iptables-nft
rules are read from ``iptables-nft-save`` (nft shows them as opaque ``xt`` expressions), native
nftables from ``nft -j``, firewalld from its zones, legacy iptables from its own save command.
``active`` is judged per family (``InboundFiltering``): rules being loaded is not enough, new
inbound connections must be dropped or rejected by a default deny or by rules from any source.
"""

from __future__ import annotations

from typing import Any

from checks.facts.firewall import (
    Family,
    FamilyDefault,
    FirewallFacts,
    InboundFiltering,
    OpenRule,
)
from checks.linux import firewall_firewalld, firewall_iptables, firewall_nftables, firewall_ufw
from checks.linux.firewall_netfilter import Chain, family_view
from checks.linux.raw import field

__all__ = ["parse"]

_SAVES: tuple[tuple[str, str, Family], ...] = (
    ("iptables-nft", "iptables-nft", "ipv4"),
    ("ip6tables-nft", "iptables-nft", "ipv6"),
    ("iptables-legacy", "iptables-legacy", "ipv4"),
    ("ip6tables-legacy", "iptables-legacy", "ipv6"),
    ("iptables", "", "ipv4"),  # old iptables without -nft/-legacy commands
    ("ip6tables", "", "ipv6"),
)
_FIREWALLD_NOT_RUNNING = 252


def _failure(command: str, text: str, rc: int) -> str:
    tail = " / ".join(line.strip() for line in text.strip().splitlines()[-2:])
    return f"{command} failed (exit {rc}): {tail or 'no output'}"


class _Reader:
    """Collects chains from each source, and the problems of those that could not be read."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.chains: list[Chain] = []
        self.problems: list[str] = []
        self.summary: list[str] = []
        self.active_tools: set[str] = set()

    def iptables(self) -> set[tuple[str, str]]:
        """Read every iptables save; return the nft tables iptables-nft showed (family, table)."""
        shown: set[tuple[str, str]] = set()
        for key, tool, family in _SAVES:
            got = field(self.raw, key)
            if got is None:
                continue
            text, rc = got
            if rc != 0:
                self.problems.append(_failure(f"{key}-save", text, rc))
                continue
            if not tool:
                tool = "iptables-nft" if "(nf_tables)" in text else "iptables-legacy"
            try:
                self.chains.extend(firewall_iptables.parse_save(text, tool, family))
            except ValueError as exc:
                self.problems.append(str(exc))
                continue
            if tool == "iptables-nft":
                nft_family = "ip" if family == "ipv4" else "ip6"
                shown |= {(nft_family, t) for t in firewall_iptables.tables(text)}
        return shown

    def firewalld(self) -> bool:
        """firewalld's zones, when it runs; True when its nft table is covered by them."""
        got = field(self.raw, "firewalld_zones")
        if got is None:
            return False
        text, rc = got
        if rc == _FIREWALLD_NOT_RUNNING or text.strip() == "not running":
            self.summary.append("firewalld not running")
            return False
        if rc != 0:
            self.problems.append(_failure("firewall-cmd --list-all-zones", text, rc))
            return False
        services_text = (field(self.raw, "firewalld_services") or ("", 0))[0]
        try:
            zones, default = firewall_firewalld.parse_zones(text)
            services = firewall_firewalld.parse_services(services_text)
            self.chains.extend(firewall_firewalld.zone_chains(zones, default, services))
        except ValueError as exc:
            self.problems.append(str(exc))
            return False
        self.active_tools.add("firewalld")
        self.summary.append(f"firewalld running, default zone {default}")
        return True

    def nftables(self, skip: set[tuple[str, str]]) -> None:
        got = field(self.raw, "nft_json")
        if got is None:
            return
        text, rc = got
        if rc != 0:
            self.problems.append(_failure("nft -j list ruleset", text, rc))
            return
        listing = (field(self.raw, "nft_text") or ("", 0))[0]
        try:
            ruleset = firewall_nftables.parse_json(text, listing, skip)
        except (ValueError, KeyError, TypeError) as exc:
            self.problems.append(f"nft -j list ruleset: {exc}")
            return
        for family, table in sorted(ruleset.opaque):
            self.problems.append(
                f"nft table {family} {table} holds iptables-nft rules (opaque xt matches) "
                "and iptables-nft-save could not show them"
            )
        self.chains.extend(ruleset.chains)


def _ufw(raw: dict[str, Any], reader: _Reader) -> tuple[str, ...]:
    conf = field(raw, "ufw_conf")
    status = field(raw, "ufw_status")
    if conf is None:
        return ()
    ufw_chains = any(c.tool == "ufw" for c in reader.chains)
    enabled = "ENABLED=yes" in conf[0].replace('"', "").replace(" ", "")
    if status is not None:
        text, rc = status
        if rc != 0:
            reader.problems.append(_failure("ufw status verbose", text, rc))
        else:
            try:
                parsed = firewall_ufw.parse_status(text, conf[0])
                reader.summary.append(parsed.summary)
                enabled = parsed.configured_enabled
            except ValueError as exc:
                reader.problems.append(str(exc))
    elif not ufw_chains:
        reader.summary.append(f"ufw rules not loaded (ENABLED={'yes' if enabled else 'no'})")
    return ("ufw",) if enabled else ()


def _merge(rules: list[OpenRule]) -> tuple[OpenRule, ...]:
    """One entry per rule, with every family it opens (inet rules, policies of both)."""
    merged: dict[tuple[Any, ...], OpenRule] = {}
    for rule in rules:
        key = (rule.where, rule.rule, rule.protocol, rule.ports, rule.sources, rule.interface)
        if key in merged:
            families = tuple(dict.fromkeys((*merged[key].families, *rule.families)))
            merged[key] = merged[key].model_copy(update={"families": families})
        else:
            merged[key] = rule
    return tuple(merged.values())


def parse(raw: dict[str, Any], host: dict[str, Any]) -> FirewallFacts:
    """``raw`` is the document's ``firewall`` member, ``host`` its ``host`` member."""
    tools_out = field(raw, "tools")
    installed = tuple(tools_out[0].split()) if tools_out else ()
    ipv6 = (field(raw, "ipv6_disabled") or ("absent", 0))[0].strip()
    families: tuple[Family, ...] = ("ipv4", "ipv6") if ipv6 == "0" else ("ipv4",)
    reader = _Reader(raw)
    skip = reader.iptables()
    if reader.firewalld():
        skip.add(("inet", "firewalld"))
    reader.nftables(skip)
    configured = _ufw(raw, reader)
    if tools_out is None:
        reader.problems.append("the device's answer lists no firewall tools")
    uid = (field(host, "uid") or ("", 0))[0].strip()
    if reader.problems and uid not in ("", "0"):
        # every read fails the same way: say why once, with the first tool's own words
        first = reader.problems[0]
        reader.problems[:] = [
            f"reading the firewall needs root; the check ran as uid {uid} ({first})"
        ]

    defaults: list[FamilyDefault] = []
    opened: list[OpenRule] = []
    filtering: list[InboundFiltering] = []
    for family in families:
        default, rules, filters = family_view(reader.chains, family)
        defaults.append(default)
        opened.extend(rules)
        filtering.append(filters)
    # "filtered" needs every family: IPv6 left wide open is inbound traffic nothing filters
    filtered = all(f.filtered for f in filtering)
    for chain in reader.chains:
        if chain.hook_input and (chain.rules or chain.policy not in (None, "accept")):
            reader.active_tools.add(chain.tool)
        if chain.tool == "ufw":
            reader.active_tools.add("ufw")
    summary = reader.summary + [
        f"{d.family} inbound default {d.action} ({d.source})" for d in defaults
    ]
    if reader.problems:
        # What could be read filters every family: rules we could not read cannot undo a drop
        # (netfilter's verdict is the first drop of any base chain). Anything less: unknown.
        return FirewallFacts(
            tools_installed=installed,
            tools_active=None,
            active=True if filtered else None,
            configured_enabled=configured,
            families=families,
            defaults=None,
            open_inbound=None,
            summary="\n".join(reader.summary),
            problems=tuple(reader.problems),
            filtering=tuple(filtering) if filtered else None,
        )
    return FirewallFacts(
        tools_installed=installed,
        tools_active=tuple(sorted(reader.active_tools)),
        active=filtered,
        configured_enabled=configured,
        families=families,
        defaults=tuple(defaults),
        open_inbound=_merge(opened),
        summary="\n".join(summary),
        filtering=tuple(filtering),
    )
