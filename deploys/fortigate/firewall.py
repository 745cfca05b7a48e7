"""Firewall remedies: security profiles on internet-bound policies, traffic logging."""

from __future__ import annotations

from typing import Any

from baluarte.remediation import Manual, Remedy, RemedyContext, RestWrite
from checks.facts.firewall import FirewallFacts
from checks.fortigate.snapshot import FortiSnapshot
from checks.policy.firewall import PolicyLogging, SecurityProfiles
from deploys.fortigate.common import obj, remedy, rows, unit, write

__all__ = ["PROFILE_FIELDS", "policy_logging", "security_profiles"]

# policy kind -> (the policy's field, the table its profiles live in)
PROFILE_FIELDS: dict[str, tuple[str, str]] = {
    "antivirus": ("av-profile", "antivirus/profile"),
    "ips": ("ips-sensor", "ips/sensor"),
    "webfilter": ("webfilter-profile", "webfilter/profile"),
    "application": ("application-list", "application/list"),
    "dnsfilter": ("dnsfilter-profile", "dnsfilter/profile"),
}
# The profile a unit ships with ("g-default" in a multi-VDOM unit's global objects). The
# collector does not read the profile tables: the executor's pre-flight read confirms it exists.
DEFAULT_PROFILE = "default"


def security_profiles(
    facts: FirewallFacts, params: SecurityProfiles, ctx: RemedyContext
) -> Remedy | Manual | None:
    """Attach the missing profiles to every enabled accept policy towards the internet."""
    control = "firewall.security_profiles"
    snap = unit(control, facts, params, ctx)
    if not isinstance(snap, FortiSnapshot):
        return snap
    table = rows(snap, "firewall/policy")
    if table is None or facts.fortigate is None or facts.fortigate.policies is None:
        return Manual(text="firewall/policy was not read; nothing is changed until it is")
    raw = {row.get("policyid"): row for row in table}
    writes: list[RestWrite | None] = []
    grouped: list[str] = []
    for p in facts.fortigate.policies:
        if not (p.enabled and p.action == "accept" and p.to_internet) or p.profiles is None:
            continue
        missing = [k for k in params.profiles if k not in p.profiles]
        row = raw.get(p.id)
        if not missing or row is None:
            continue
        if row.get("profile-type") == "group":
            grouped.append(p.label())
            continue
        data: dict[str, Any] = {"utm-status": "enable"}
        data.update({PROFILE_FIELDS[k][0]: DEFAULT_PROFILE for k in missing})
        writes.append(write("firewall/policy", p.id, data, row))
    if grouped:
        return Manual(
            text=f"{', '.join(grouped)} take their profiles from a profile group: add the "
            "missing profiles to the group (firewall/profile-group) or attach them one by one"
        )
    kinds = ", ".join(params.profiles)
    return remedy(f"attach the {DEFAULT_PROFILE!r} {kinds} profiles", writes, control)


def policy_logging(
    facts: FirewallFacts, params: PolicyLogging, ctx: RemedyContext
) -> Remedy | Manual | None:
    """logtraffic on every enabled policy that logs less; the implicit deny's log."""
    control = "firewall.policy_logging"
    snap = unit(control, facts, params, ctx)
    if not isinstance(snap, FortiSnapshot):
        return snap
    table, setting = rows(snap, "firewall/policy"), obj(snap, "log/setting")
    if table is None or setting is None:
        return Manual(text="firewall/policy or log/setting was not read; nothing is changed")
    order = ("disable", "utm", "all")
    least = order.index(params.logtraffic)
    writes: list[RestWrite | None] = []
    for row in table:
        level = str(row.get("logtraffic", ""))
        if row.get("status") == "enable" and level in order and order.index(level) < least:
            writes.append(
                write(
                    "firewall/policy", row.get("policyid"), {"logtraffic": params.logtraffic}, row
                )
            )
    if params.implicit_deny:
        writes.append(write("log/setting", None, {"fwpolicy-implicit-log": "enable"}, setting))
    return remedy(f"log traffic ({params.logtraffic}) on every enabled policy", writes, control)
