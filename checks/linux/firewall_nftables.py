"""Parse ``nft -j list ruleset`` (JSON schema v1) into netfilter chains.

Rule text for evidence comes from ``nft -a list ruleset``, matched by handle. Rules written
through iptables-nft carry opaque ``xt`` expressions; their tables are reported so the caller
reads them from ``iptables-nft-save`` instead.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import replace
from typing import Any

from checks.facts.firewall import Family
from checks.linux.firewall_netfilter import Chain, Match, Net, Rule, Verdict

__all__ = ["NftRuleset", "parse_json", "rule_texts"]

_FAMILIES: dict[str, Family | None] = {"ip": "ipv4", "ip6": "ipv6", "inet": None}
_ALL_STATES = frozenset({"new", "established", "related", "invalid", "untracked"})
_VERDICTS: dict[str, Verdict] = {
    "accept": "accept",
    "drop": "drop",
    "reject": "reject",
    "return": "return",
    "jump": "jump",
    "goto": "goto",
}


class NftRuleset:
    """The chains of a ruleset, and the tables nft can only show opaquely (``xt``)."""

    def __init__(self, chains: list[Chain], opaque: set[tuple[str, str]]) -> None:
        self.chains = chains
        self.opaque = opaque  # (family, table)


def rule_texts(listing: str) -> dict[tuple[str, str, str, int], str]:
    """``nft -a list ruleset`` → {(family, table, chain, handle): rule text}."""
    out: dict[tuple[str, str, str, int], str] = {}
    family = table = chain = ""
    for raw in listing.splitlines():
        line = raw.strip()
        if m := re.match(r"^table (\S+) (\S+) \{", line):
            family, table, chain = m[1], m[2], ""
        elif m := re.match(r"^chain (\S+) \{", line):
            chain = m[1].strip('"')
        elif chain and (m := re.match(r"^(.*?)\s*# handle (\d+)$", line)):
            out[(family, table, chain, int(m[2]))] = m[1]
    return out


def _value(value: Any, sets: dict[str, list[Any]]) -> list[Any]:
    """A match's right-hand side as a flat list of elements (ints, strings, ranges, prefixes)."""
    if isinstance(value, str) and value.startswith("@"):
        return list(sets.get(value[1:], [value]))
    if isinstance(value, dict) and "set" in value:
        return [e for item in value["set"] for e in _value(item, sets)]
    if isinstance(value, list):
        return [e for item in value for e in _value(item, sets)]
    if isinstance(value, dict) and "elem" in value:
        return _value(value["elem"].get("val"), sets)
    return [value]


def _port_ranges(items: list[Any]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for item in items:
        if isinstance(item, dict) and "range" in item:
            out.append((int(item["range"][0]), int(item["range"][1])))
        elif isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
            out.append((int(item), int(item)))
        else:
            raise ValueError(f"port {item!r}")
    return tuple(out)


def _networks(items: list[Any]) -> tuple[Net, ...]:
    out: list[Net] = []
    for item in items:
        if isinstance(item, dict) and "prefix" in item:
            out.append(ipaddress.ip_network(f"{item['prefix']['addr']}/{item['prefix']['len']}"))
        elif isinstance(item, dict) and "range" in item:
            first, last = (ipaddress.ip_address(a) for a in item["range"])
            out.extend(ipaddress.summarize_address_range(first, last))
        elif isinstance(item, str):
            out.append(ipaddress.ip_network(item, strict=False))
        else:
            raise ValueError(f"address {item!r}")
    return tuple(out)


def _match(expr: dict[str, Any], sets: dict[str, list[Any]], m: Match) -> Match:
    """Add one ``match`` expression to what the rule requires so far."""
    op, left, right = expr.get("op", "=="), expr.get("left"), expr.get("right")
    negated = op == "!="
    items = _value(right, sets)
    unknown = (*m.unknown, json.dumps(expr, separators=(",", ":"))[:80])
    if not isinstance(left, dict):
        return replace(m, unknown=unknown)
    if op not in ("==", "!=", "in"):
        return replace(m, unknown=unknown)
    if "meta" in left or (
        "payload" in left and left["payload"].get("field") in ("protocol", "nexthdr")
    ):
        key = left["meta"].get("key") if "meta" in left else "l4proto"
        if key in ("iifname", "iif") and len(items) == 1:
            return replace(m, interface=f"!{items[0]}" if negated else str(items[0]))
        if key == "l4proto" and not negated:
            protos = {str(p) for p in items}
            if len(protos) == 1:
                return replace(m, protocol=protos.pop())
            if protos <= {"icmp", "ipv6-icmp", "igmp"}:
                return replace(m, protocol="icmp")
        if key == "nfproto" and not negated and len(items) == 1:
            fam = str(items[0])
            return replace(m, family=fam if fam in ("ipv4", "ipv6") else None)  # type: ignore[arg-type]
        if key == "pkttype" and not negated and set(map(str, items)) <= {"broadcast", "multicast"}:
            return replace(m, not_unicast=True)
        if key == "pkttype" and not negated and items == ["host"]:
            return m
        return replace(m, unknown=unknown)
    if "payload" in left:
        proto, fld = left["payload"].get("protocol"), left["payload"].get("field")
        if fld in ("dport", "sport") and proto in ("tcp", "udp", "th", "sctp", "dccp"):
            if negated:
                return replace(m, unknown=unknown)
            ports = _port_ranges(items)
            m = m if proto == "th" else replace(m, protocol=proto)
            return replace(m, dports=ports) if fld == "dport" else replace(m, sports=ports)
        if fld in ("saddr", "daddr") and proto in ("ip", "ip6"):
            m = replace(m, family="ipv4" if proto == "ip" else "ipv6")
            if negated:
                return replace(m, unknown=unknown)  # all but some sources: as open as any
            nets = _networks(items)
            return replace(m, sources=nets) if fld == "saddr" else replace(m, destinations=nets)
        return replace(m, unknown=unknown)
    if "ct" in left and left["ct"].get("key") == "state":
        states = frozenset(str(s) for s in items)
        return replace(m, ct_states=_ALL_STATES - states if negated else states)
    if "fib" in left and left["fib"].get("result") == "type" and not negated:
        kinds = {str(k) for k in items}
        if kinds == {"local"}:
            return m
        if kinds <= {"broadcast", "multicast", "anycast"}:
            return replace(m, not_unicast=True)
    return replace(m, unknown=unknown)


def _pairs(data: Any, maps: dict[str, list[Any]]) -> list[tuple[Any, dict[str, Any]]]:
    """A verdict map's entries, anonymous (``{"set": [[key, verdict]…]}``) or named (``@m``)."""
    if isinstance(data, str) and data.startswith("@"):
        entries = maps.get(data[1:], [])
    elif isinstance(data, dict) and "set" in data:
        entries = data["set"]
    else:
        entries = []
    out: list[tuple[Any, dict[str, Any]]] = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], dict):
            out.append((entry[0], entry[1]))
    return out


_Verdicts = list[tuple[Match, Verdict, str | None]]


def _vmap(body: dict[str, Any], sets: dict[str, list[Any]], maps: Any, m: Match) -> _Verdicts:
    """A verdict map, one rule per entry: ``tcp dport vmap { 22 : accept, 23 : drop }`` is
    ``tcp dport 22 accept`` then ``tcp dport 23 drop``. A key we cannot read is a condition
    not modelled (an accept under it counts as open, a drop as filtering nothing)."""
    pairs = _pairs(body.get("data"), maps)
    if not pairs:  # a map we cannot read: as open as an accept on conditions not modelled
        return [(replace(m, unknown=(*m.unknown, "vmap")), "accept", None)]
    out: _Verdicts = []
    for key, then in pairs:
        (kind, arg), *_ = then.items()
        if kind not in _VERDICTS:
            continue  # "continue": the next rule decides
        cond = _match({"op": "==", "left": body.get("key"), "right": key}, sets, m)
        target = str(arg.get("target")) if isinstance(arg, dict) else None
        out.append((cond, _VERDICTS[kind], target))
    return out


def _rule(
    exprs: list[dict[str, Any]], sets: dict[str, list[Any]], maps: dict[str, list[Any]]
) -> tuple[_Verdicts, bool]:
    """The rule as (match, verdict, jump target) entries, usually one; and whether it holds
    opaque iptables matches."""
    m = Match()
    verdict: Verdict = "none"
    target: str | None = None
    opaque = False
    for expr in exprs:
        (kind, body), *_ = expr.items()
        if kind == "match":
            m = _match(body, sets, m)
        elif kind in _VERDICTS:
            verdict = _VERDICTS[kind]
            if kind in ("jump", "goto"):
                target = str(body.get("target"))
        elif kind == "xt":
            opaque = True
            if isinstance(body, dict) and body.get("type") == "match":
                # an iptables match nft cannot show: never read a drop under it as unconditional
                m = replace(m, unknown=(*m.unknown, f"xt {body.get('name', '?')}"))
        elif kind == "vmap":
            return _vmap(body, sets, maps, m), opaque
        elif kind in ("counter", "log", "comment", "notrack"):
            continue
        else:  # limit, quota, meter…: conditions we do not model
            m = replace(m, unknown=(*m.unknown, kind))
    return [(m, verdict, target)], opaque


def parse_json(text: str, listing: str, skip: set[tuple[str, str]]) -> NftRuleset:
    """Chains of every ip/ip6/inet table except ``skip`` (family, table). Raises ValueError."""
    try:
        doc = json.loads(text)
        items = doc["nftables"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"nft -j list ruleset printed no ruleset ({exc})") from exc
    if not isinstance(items, list):
        raise ValueError("nft -j list ruleset: 'nftables' is not a list")
    texts = rule_texts(listing)
    sets: dict[tuple[str, str], dict[str, list[Any]]] = {}
    maps: dict[tuple[str, str], dict[str, list[Any]]] = {}
    chains: dict[tuple[str, str, str], Chain] = {}
    opaque: set[tuple[str, str]] = set()
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("nft -j list ruleset: an element is not an object")
        if "set" in item:
            s = item["set"]
            sets.setdefault((s["family"], s["table"]), {})[s["name"]] = _value(
                s.get("elem", []), {}
            )
        elif "map" in item:
            s = item["map"]
            maps.setdefault((s["family"], s["table"]), {})[s["name"]] = s.get("elem", [])
        elif "chain" in item:
            c = item["chain"]
            family, table = c["family"], c["table"]
            if family not in _FAMILIES or (family, table) in skip:
                continue
            policy = c.get("policy")
            chains[(family, table, c["name"])] = Chain(
                name=c["name"],
                tool="nftables",
                where=f"nftables table {family} {table} chain {c['name']}",
                family=_FAMILIES[family],
                hook_input=c.get("hook") == "input" and c.get("type", "filter") == "filter",
                policy=policy if policy in ("accept", "drop") else None,
                policy_text=f"policy {policy}" if policy else "",
            )
        elif "rule" in item:
            r = item["rule"]
            key = (r["family"], r["table"], r["chain"])
            if key not in chains:
                continue
            table = (r["family"], r["table"])
            entries, is_opaque = _rule(r.get("expr", []), sets.get(table, {}), maps.get(table, {}))
            if is_opaque:
                opaque.add(table)
            fallback = json.dumps(r.get("expr", []), separators=(",", ":"))[:200]
            text = texts.get((*key, int(r.get("handle", -1))), fallback)
            for match, verdict, target in entries:
                chains[key].rules.append(Rule(match, verdict, text, target))
    return NftRuleset(list(chains.values()), opaque)
