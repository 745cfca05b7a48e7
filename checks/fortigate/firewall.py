"""FirewallFacts of a FortiGate: its policy table, what it lets in, logging and FortiGuard.

Endpoints: ``cmdb firewall/policy`` with the tables that resolve its names (``names.py``) and
interfaces (``interfaces.py``), ``cmdb log/setting`` (implicit deny logging) and ``monitor
license/status``. A FortiGate always filters: ``active`` is True; its default (the implicit
deny) is judged by ``firewall.policy_logging``, not by the host-firewall controls.
"""

from __future__ import annotations

from checks.facts.firewall import FirewallFacts, FirewallPolicy, FortigateFirewall, OpenRule
from checks.fortigate.firewall_fortiguard import services
from checks.fortigate.firewall_inbound import open_rules
from checks.fortigate.firewall_policy import policy
from checks.fortigate.interfaces import Interfaces
from checks.fortigate.names import Names
from checks.fortigate.read import Unreadable, attempt, rows, single
from checks.fortigate.snapshot import FortiSnapshot

__all__ = ["parse"]


def parse(snapshot: FortiSnapshot) -> FirewallFacts:
    names, interfaces = Names(snapshot), Interfaces(snapshot)
    problems: dict[str, str] = {}
    table = attempt(problems, "policies", lambda: rows(snapshot, "firewall/policy", "policyid"))
    policies: tuple[FirewallPolicy, ...] | None = None
    open_inbound: tuple[OpenRule, ...] | None = None
    inbound_problems: tuple[str, ...] = ()
    if table is not None:
        policies = attempt(
            problems, "policies", lambda: tuple(policy(r, names, interfaces) for r in table)
        )
        try:
            open_inbound = open_rules(table, names, interfaces)
        except Unreadable as exc:
            inbound_problems = (f"the inbound policies cannot be told: {exc}",)
    else:
        inbound_problems = (problems["policies"],)
    fortigate = FortigateFirewall(
        policies=policies,
        implicit_deny_logged=attempt(
            problems,
            "implicit_deny_logged",
            lambda: single(snapshot, "log/setting").on("fwpolicy-implicit-log"),
        ),
        services=attempt(problems, "services", lambda: services(snapshot)),
        problems=problems,
    )
    return FirewallFacts(
        tools_installed=("fortios",),
        tools_active=("fortios",),
        active=True,
        defaults=None,
        open_inbound=open_inbound,
        summary=f"FortiOS {snapshot.version} policy table, VDOM {snapshot.vdom}",
        problems=inbound_problems,
        fortigate=fortigate,
    )
