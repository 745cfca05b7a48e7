"""Parse ``iptables-save`` / ``ip6tables-save`` (nft or legacy backend) into netfilter chains.

Only the ``filter`` table decides what is accepted inbound; ``INPUT`` is its inbound hook.
ufw writes its rules through iptables, so a ufw host's rules are read here too.
"""

from __future__ import annotations

import ipaddress
import shlex

from checks.facts.firewall import Action, Family
from checks.linux.firewall_netfilter import Chain, Match, Rule, Verdict, parse_ports

__all__ = ["parse_save", "tables"]

_POLICIES: dict[str, Action] = {"ACCEPT": "accept", "DROP": "drop"}
_TARGETS: dict[str, Verdict] = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject"}
# options that never change which packets a rule matches
_IGNORED = {"--comment", "--log-prefix", "--log-level", "--reject-with", "--nflog-prefix"}
_NON_TERMINAL = {"LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "AUDIT", "TRACE", "CT", "NOTRACK"}


def tables(text: str) -> set[str]:
    """The tables an iptables-save output holds (``filter``, ``nat``…)."""
    return {line[1:].strip() for line in text.splitlines() if line.startswith("*")}


def _rule(args: list[str]) -> tuple[str, Rule]:
    """``-A CHAIN …`` arguments → (chain, rule). Raises ValueError on malformed input."""
    chain = args[1]
    m: dict[str, object] = {}
    unknown: list[str] = []
    verdict: Verdict = "none"
    target: str | None = None
    i, neg = 2, False
    while i < len(args):
        opt = args[i]
        value = args[i + 1] if i + 1 < len(args) else ""
        if opt == "!":
            neg, i = True, i + 1
            continue
        step = 2
        if opt in ("-p", "--protocol"):
            if neg:
                unknown.append(f"! -p {value}")
            else:
                m["protocol"] = {"icmpv6": "ipv6-icmp", "ipv6-icmp": "ipv6-icmp"}.get(value, value)
        elif opt in ("-s", "--source", "-d", "--destination"):
            nets = tuple(ipaddress.ip_network(v, strict=False) for v in value.split(","))
            key = "sources" if opt in ("-s", "--source") else "destinations"
            if neg:
                unknown.append(f"! {opt} {value}")  # all but some: as open as any source
            else:
                m[key] = nets
        elif opt in ("-i", "--in-interface"):
            m["interface"] = f"!{value}" if neg else value
        elif opt in ("--dport", "--dports", "--destination-port", "--destination-ports"):
            if neg:
                unknown.append(f"! {opt} {value}")
            else:
                m["dports"] = parse_ports(value)
        elif opt in ("--sport", "--sports", "--source-port", "--source-ports"):
            if not neg:
                m["sports"] = parse_ports(value)
        elif opt in ("--ctstate", "--state"):
            states = frozenset(s.lower() for s in value.split(","))
            all_states = {"new", "established", "related", "invalid", "untracked"}
            m["ct_states"] = frozenset(all_states - states) if neg else states
        elif opt == "--dst-type":
            if value in ("BROADCAST", "MULTICAST", "ANYCAST") and not neg:
                m["not_unicast"] = True
            elif value != "LOCAL" or neg:
                unknown.append(f"--dst-type {value}")
            # LOCAL: every packet to one of the host's own addresses, i.e. all inbound here
        elif opt in ("-j", "--jump", "-g", "--goto"):
            if value in _TARGETS:
                verdict = _TARGETS[value]
            elif value == "RETURN":
                verdict = "return"
            elif value in _NON_TERMINAL:
                verdict = "none"
            else:
                verdict, target = ("goto" if opt in ("-g", "--goto") else "jump"), value
        elif opt in ("-m", "--match"):
            pass
        elif opt in ("-o", "--out-interface"):
            unknown.append(f"-o {value}")  # never set on inbound traffic
        elif opt in ("-f", "--fragment"):
            unknown.append("-f")
            step = 1
        elif opt.startswith("--"):
            # options of a match module we do not model (limit, comment, recent…): the
            # values run up to the next option
            j = i + 1
            while j < len(args) and not args[j].startswith("-") and args[j] != "!":
                j += 1
            if opt not in _IGNORED:
                unknown.append(" ".join(args[i:j]))
            step = j - i
        else:
            raise ValueError(f"unexpected iptables argument {opt!r}")
        neg = False
        i += step
    match = Match(unknown=tuple(unknown), **m)  # type: ignore[arg-type]
    text = shlex.join(args)
    return chain, Rule(match=match, verdict=verdict, text=text, target=target)


def parse_save(text: str, tool: str, family: Family) -> list[Chain]:
    """The filter table's chains; raises ValueError on a line iptables-save never prints."""
    chains: dict[str, Chain] = {}
    table = ""
    # "iptables-nft", "ip6tables-legacy"…: chains of different backends never mix
    label = tool if family == "ipv4" else tool.replace("iptables", "ip6tables")
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            table = line[1:]
            continue
        if table != "filter":
            continue
        if line.startswith(":"):
            parts = line[1:].split()
            if not parts:
                raise ValueError(f"{label}-save line {number}: empty chain declaration")
            name, policy = parts[0], parts[1] if len(parts) > 1 else "-"
            chains[name] = Chain(
                name=name,
                tool="ufw" if name.startswith(("ufw-", "ufw6-")) else tool,
                where=f"{label} filter chain {name}",
                family=family,
                hook_input=name == "INPUT",
                policy=_POLICIES.get(policy),
                policy_text=f":{name} {policy}",
            )
            continue
        if line.startswith("-A "):
            try:
                args = shlex.split(line)
                name, rule = _rule(args)
            except (ValueError, IndexError) as exc:
                raise ValueError(f"{label}-save line {number}: {exc}") from exc
            if name not in chains:
                raise ValueError(f"{label}-save line {number}: rule for undeclared chain {name}")
            chains[name].rules.append(rule)
            continue
        raise ValueError(f"{label}-save line {number}: unexpected {line[:60]!r}")
    return list(chains.values())
