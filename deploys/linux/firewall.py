"""Firewall remedies: the policy's inbound services allowed, everything else denied, firewall on.

ufw when it is installed, else nftables (a table of Baluarte's own, ``inet baluarte``, loaded
atomically and included from the distribution's nftables.conf so it survives a reboot);
firewalld hosts are manual. Only ``firewall.allowed_inbound`` knows which services must stay
reachable, so it is the remedy that also turns the firewall on and denies by default;
``firewall.enabled`` and ``firewall.default_inbound_deny`` alone would have to guess, so they
point to it.

LOCKOUT GUARD: the policy's list must allow the SSH port Baluarte uses from the address it
connects from (``identity.peer``), or the remedy is refused. Rules are added before any rule is
deleted and before the default turns to deny; established connections stay accepted.
"""

from __future__ import annotations

from baluarte.remediation import Manual, OpSpec, Refused, Remedy, RemedyContext
from checks.evaluators.firewall import _violations
from checks.facts.firewall import FirewallFacts, OpenRule
from checks.policy.base import Required
from checks.policy.firewall import AllowedInbound, InboundService
from deploys.linux.common import family, file_diff, needed, op, peer, ssh_port, state_diff

__all__ = ["NFT_FILE", "allowed_inbound", "default_inbound_deny", "enabled", "nft_ruleset"]

NFT_FILE = "/etc/baluarte/nftables.nft"
_NFT_CONF = {"apt": "/etc/nftables.conf", "dnf": "/etc/sysconfig/nftables.conf"}
_POINTER = (
    "Baluarte turns the host firewall on and denies inbound traffic by default as part of "
    "firewall.allowed_inbound, which lists the services (SSH from Baluarte's address among "
    "them) that must stay reachable: add that control to the policy. By hand with ufw: `ufw "
    "allow from <admin network> to any port 22 proto tcp`, one `ufw allow` per service, then "
    "`ufw default deny incoming` and `ufw enable`."
)


def _service_text(s: InboundService) -> str:
    sources = ", ".join(str(n) for n in s.sources) if s.sources is not None else "any source"
    return f"{s.name + ' ' if s.name else ''}{s.protocol}/{s.port} from {sources}"


def _guard(params: AllowedInbound, ctx: RemedyContext) -> Refused | None:
    """Refuse unless the list keeps SSH reachable from Baluarte's own address."""
    if ctx.device.is_local:
        return None  # Baluarte runs on this host: no SSH connection to lose
    port = ssh_port(ctx)
    me = peer(ctx)
    ssh = [s for s in params.services if s.protocol == "tcp" and s.port == port]
    if any(s.sources is None for s in ssh):
        return None
    if me is not None and any(
        me in n for s in ssh for n in s.sources or () if n.version == me.version
    ):
        return None
    who = str(me) if me is not None else "the address Baluarte connects from (unknown: the "
    who += "" if me is not None else "host did not report SSH_CONNECTION)"
    return Refused(
        summary="turn on the firewall: deny inbound except the policy's services",
        reason=f"the policy's allowed inbound services do not include SSH (tcp/{port}) from "
        f"{who}, the address Baluarte connects from: enabling a default-deny firewall would "
        "lock Baluarte out",
    )


def _ufw_rule(verb: str, s: InboundService) -> list[str]:
    if s.sources is None:
        return [f"ufw {verb} proto {s.protocol} from any to any port {s.port}"]
    return [f"ufw {verb} proto {s.protocol} from {n} to any port {s.port}" for n in s.sources]


def _ufw_delete(rule: OpenRule) -> str:
    verb = "limit" if "limit" in rule.rule.lower() else "allow"
    parts = ["ufw", "delete", verb]
    if rule.interface and not rule.interface.startswith("!"):
        parts += ["in", "on", rule.interface]
    if rule.protocol:
        parts += ["proto", rule.protocol]
    parts += ["from", ",".join(rule.sources or ()) or "any", "to", "any"]
    if rule.ports is not None:
        parts += [
            "port",
            ",".join(
                f"{r.first}:{r.last}" if r.first != r.last else str(r.first) for r in rule.ports
            ),
        ]
    return " ".join(parts)


def nft_ruleset(services: tuple[InboundService, ...]) -> str:
    """Baluarte's nftables table: drop by default, the policy's services accepted."""
    rules = [
        'iif "lo" accept',
        "ct state established,related accept",
        "ct state invalid drop",
        "meta l4proto { icmp, ipv6-icmp } accept",
        "udp sport 67 udp dport 68 accept",  # DHCP client replies
        "udp sport 547 udp dport 546 accept",
    ]
    for s in services:
        if s.sources is None:
            rules.append(f"{s.protocol} dport {s.port} accept")
            continue
        for version, key in ((4, "ip"), (6, "ip6")):
            nets = [str(n) for n in s.sources if n.version == version]
            if nets:
                rules.append(
                    f"{key} saddr {{ {', '.join(nets)} }} {s.protocol} dport {s.port} accept"
                )
    body = "".join(f"\t\t{r}\n" for r in rules)
    return (
        "#!/usr/sbin/nft -f\n"
        "# Written by Baluarte (firewall.allowed_inbound). Change the policy, not this file.\n"
        "table inet baluarte\n"
        "delete table inet baluarte\n"  # replaced atomically when the file is loaded again
        "table inet baluarte {\n"
        "\tchain input {\n"
        "\t\ttype filter hook input priority filter; policy drop;\n"
        f"{body}"
        "\t}\n"
        "}\n"
    )


def allowed_inbound(
    facts: FirewallFacts, params: AllowedInbound, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("firewall.allowed_inbound", facts, params, ctx)
    if state is not True:
        return state
    refused = _guard(params, ctx)
    if refused is not None:
        return refused
    before = [f"default inbound {d.family} {d.action}" for d in facts.defaults or ()]
    before += [f"open {r.describe()}" for r in facts.open_inbound or ()]
    after = [f"default inbound {f} drop" for f in facts.families]
    after += [f"open {_service_text(s)}" for s in params.services]
    summary = "turn on the firewall: deny inbound except the policy's services"
    common = {"before": "\n".join(before), "after": "\n".join(after)}
    if "ufw" in facts.tools_installed:
        return Remedy(
            summary=f"{summary} (ufw)",
            diff=state_diff("inbound rules", before, after),
            ops=_ufw_ops(facts, params),
            **common,
        )
    if "firewalld" in (facts.tools_active or ()):
        return Manual(
            text="firewalld manages this host's firewall: `firewall-cmd --permanent "
            "--zone=<zone> --add-rich-rule` per policy service, remove other services "
            "and ports, set the zone's target to DROP, then `firewall-cmd --reload`."
        )
    pm = family(ctx)
    if pm is None:
        return Manual(
            text=f"install nftables and load a default-drop input chain allowing "
            f"only: {'; '.join(_service_text(s) for s in params.services)}."
        )
    text = nft_ruleset(params.services)
    ops: list[OpSpec] = []
    if "nft" not in facts.tools_installed:
        packages = {"packages": ["nftables"]}
        ops.append(op("install nftables", pm, "packages", **packages))
    ops += [
        op(f"write {NFT_FILE}", "files", "put", src_text=text, dest=NFT_FILE, mode="600"),
        op(
            f"load {NFT_FILE} (one atomic transaction)",
            "server",
            "shell",
            commands=[f"nft -c -f {NFT_FILE} && nft -f {NFT_FILE}"],
        ),
        op(
            f"include {NFT_FILE} from {_NFT_CONF[pm]} (kept across reboots)",
            "files",
            "line",
            path=_NFT_CONF[pm],
            line=f'include "{NFT_FILE}"',
            escape_regex_characters=True,
        ),
        # enabled only: starting nftables.service would flush the rules other tools loaded
        op(
            "enable nftables at boot",
            "systemd",
            "service",
            service="nftables",
            running=None,
            enabled=True,
        ),
    ]
    diff = state_diff("inbound rules", before, after) + file_diff(NFT_FILE, "", text)
    return Remedy(summary=f"{summary} (nftables)", diff=diff, ops=tuple(ops), **common)


def _ufw_ops(facts: FirewallFacts, params: AllowedInbound) -> tuple[OpSpec, ...]:
    allow = [c for s in params.services for c in _ufw_rule("allow", s)]
    extra = [
        r
        for r in facts.open_inbound or ()
        if r.tool == "ufw" and not r.everything and _violations(r, params.services)
    ]
    ops = []
    if allow:
        ops.append(
            op("allow the policy's inbound services (ufw)", "server", "shell", commands=allow)
        )
    if extra:  # after the adds: SSH from Baluarte stays allowed throughout
        ops.append(
            op(
                "delete ufw rules beyond the policy",
                "server",
                "shell",
                commands=[_ufw_delete(r) for r in extra],
            )
        )
    ops.append(
        op(
            "deny inbound by default (ufw)",
            "server",
            "shell",
            commands=["ufw default deny incoming"],
        )
    )
    ops.append(
        op("enable ufw (now and at boot)", "server", "shell", commands=["ufw --force enable"])
    )
    return tuple(ops)


def enabled(
    facts: FirewallFacts, params: Required, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("firewall.enabled", facts, params, ctx)
    return state if state is not True else Manual(text=_POINTER)


def default_inbound_deny(
    facts: FirewallFacts, params: Required, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("firewall.default_inbound_deny", facts, params, ctx)
    return state if state is not True else Manual(text=_POINTER)
