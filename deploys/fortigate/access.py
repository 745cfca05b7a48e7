"""Admin hardening remedies: admin access per interface, idle timeout, crypto, password policy.

Every value comes from what the unit answered (``system/interface``, ``system/global``,
``system/password-policy``); whether a change is needed at all is the control's evaluator's
call, so a compliant unit gets None.
"""

from __future__ import annotations

from typing import Any

from baluarte.remediation import Manual, Remedy, RemedyContext, RestWrite
from checks.facts.access import AccessFacts
from checks.fortigate.access import ADMIN_SERVICES
from checks.fortigate.snapshot import FortiSnapshot
from checks.policy.access import InsecureProtocols, PasswordPolicy, SessionTimeout, StrongCrypto
from deploys.fortigate.common import obj, remedy, rows, unit, write

__all__ = [
    "admin_session_timeout",
    "insecure_admin_protocols",
    "password_policy",
    "strong_crypto",
]

_CLEAR = ("http", "telnet")  # what a FortiGate can offer of the forbidden protocols
_CLASSES = ("min-lower-case-letter", "min-upper-case-letter", "min-number", "min-non-alphanumeric")


def _unread(what: str) -> Manual:
    return Manual(text=f"{what} was not read from the unit; nothing is changed until it is")


def insecure_admin_protocols(
    facts: AccessFacts, params: InsecureProtocols, ctx: RemedyContext
) -> Remedy | Manual | None:
    """Drop http/telnet from every interface (and every admin service from WAN ones)."""
    control = "access.insecure_admin_protocols"
    if not isinstance(snap := unit(control, facts, params, ctx), FortiSnapshot):
        return snap
    ifaces, glob = rows(snap, "system/interface"), obj(snap, "system/global")
    if ifaces is None or glob is None:
        return _unread("system/interface or system/global")
    clear = {p for p in params.forbidden if p in _CLEAR}
    writes: list[RestWrite | None] = []
    for row in ifaces:
        drop: set[str] = set(clear)
        if row.get("role") == "wan" and not params.admin_on_internet_interfaces:
            drop |= set(ADMIN_SERVICES)
        data: dict[str, Any] = {}
        v4 = str(row.get("allowaccess", "")).split()
        if set(v4) & drop:
            data["allowaccess"] = " ".join(s for s in v4 if s not in drop)
        v6 = row.get("ipv6")
        v6_words = str(v6.get("ip6-allowaccess", "")).split() if isinstance(v6, dict) else []
        if set(v6_words) & drop:
            data["ipv6"] = {"ip6-allowaccess": " ".join(s for s in v6_words if s not in drop)}
        current = {**row, "ipv6": {"ip6-allowaccess": " ".join(v6_words)}}
        writes.append(write("system/interface", str(row.get("name")), data, current,
                            global_scope=True))  # fmt: skip
    if "telnet" in clear:
        writes.append(write("system/global", None, {"admin-telnet": "disable"}, glob,
                            global_scope=True))  # fmt: skip
    return remedy(
        "remove " + ", ".join(sorted(clear)) + " admin access"
        + ("" if params.admin_on_internet_interfaces else "; no admin access on WAN interfaces"),
        writes,
        control,
    )  # fmt: skip


def admin_session_timeout(
    facts: AccessFacts, params: SessionTimeout, ctx: RemedyContext
) -> Remedy | Manual | None:
    control = "access.admin_session_timeout"
    if not isinstance(snap := unit(control, facts, params, ctx), FortiSnapshot):
        return snap
    glob = obj(snap, "system/global")
    if glob is None:
        return _unread("system/global")
    data = {"admintimeout": params.max_minutes}
    return remedy(
        f"shorten the admin idle timeout (admintimeout {glob.get('admintimeout')} → "
        f"{params.max_minutes} min)",
        [write("system/global", None, data, glob, global_scope=True)],
        control,
    )


def strong_crypto(
    facts: AccessFacts, params: StrongCrypto, ctx: RemedyContext
) -> Remedy | Manual | None:
    control = "access.strong_crypto"
    if not isinstance(snap := unit(control, facts, params, ctx), FortiSnapshot):
        return snap
    glob = obj(snap, "system/global")
    if glob is None:
        return _unread("system/global")
    versions = "tlsv1-3" if params.min_tls_version == "1.3" else "tlsv1-2 tlsv1-3"
    data = {
        "strong-crypto": "enable",
        "admin-https-redirect": "enable",
        "admin-https-ssl-versions": versions,
    }
    return remedy(
        f"turn on strong crypto and the HTTPS redirect; admin HTTPS on {versions} only",
        [write("system/global", None, data, glob, global_scope=True)],
        control,
    )


def password_policy(
    facts: AccessFacts, params: PasswordPolicy, ctx: RemedyContext
) -> Remedy | Manual | None:
    """system/password-policy for admin passwords, and the admin lockout in system/global."""
    control = "access.password_policy"
    if not isinstance(snap := unit(control, facts, params, ctx), FortiSnapshot):
        return snap
    policy, glob = obj(snap, "system/password-policy"), obj(snap, "system/global")
    if policy is None or glob is None:
        return _unread("system/password-policy or system/global")
    apply_to = str(policy.get("apply-to", "")).split()
    data: dict[str, Any] = {
        "status": "enable",
        "apply-to": " ".join(
            [*apply_to, *(["admin-password"] * ("admin-password" not in apply_to))]
        ),
        "minimum-length": max(_int(policy.get("minimum-length")), params.min_length),
    }
    if params.complexity:
        # the first N classes at least 1 each; stricter values already set are kept
        for name in _CLASSES[: params.complexity_classes]:
            data[name] = max(_int(policy.get(name)), 1)
    if params.max_age_days is not None:
        day = _int(policy.get("expire-day"))
        enabled = policy.get("expire-status") == "enable"
        data["expire-status"] = "enable"
        data["expire-day"] = (
            min(day, params.max_age_days) if enabled and day else params.max_age_days
        )
    lockout: dict[str, Any] = {}
    threshold = _int(glob.get("admin-lockout-threshold"))
    if params.lockout_threshold is not None and not 0 < threshold <= params.lockout_threshold:
        lockout["admin-lockout-threshold"] = params.lockout_threshold
    if params.lockout_minutes is not None:
        seconds = _int(glob.get("admin-lockout-duration"))
        lockout["admin-lockout-duration"] = max(seconds, params.lockout_minutes * 60)
    return remedy(
        "set the admin password policy and lockout as the policy requires",
        [
            write("system/password-policy", None, data, policy, global_scope=True),
            write("system/global", None, lockout, glob, global_scope=True),
        ],
        control,
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
