"""The FortiGate side of the access controls: pure judgements of FortigateAccess facts.

``checks/evaluators/access.py`` declares the controls and calls these; they are split out only
to keep each module small. Every function returns an Outcome and never passes on a ``None``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from baluarte.findings import Outcome
from checks.facts.access import AccessFacts, FortigateAccess, FortigateAdmin, InsecureService
from checks.policy.access import InsecureProtocols, SessionTimeout, StrongCrypto, TrustedHosts
from checks.policy.base import Required

__all__ = [
    "admin_mfa",
    "admin_session_timeout",
    "admin_trusted_hosts",
    "internet_access",
    "strong_crypto",
]


def _unreadable(fg: FortigateAccess, key: str, what: str) -> Outcome:
    return Outcome.unreadable(fg.problems.get(key) or f"{what} could not be read from the unit")


def _who(admin: FortigateAdmin) -> str:
    kind = "REST API user" if admin.kind == "api-user" else "admin"
    return f"{admin.name} ({kind}, accprofile {admin.accprofile or '?'})"


def admin_mfa(fg: FortigateAccess, params: Required) -> Outcome:
    """Judged only when required (``access.admin_mfa`` says n/a otherwise)."""
    if fg.admins is None:
        return _unreadable(fg, "admins", "the administrators (system/admin)")
    lines = [f"{a.name}: two-factor {a.two_factor}, remote-auth {a.remote_auth}" for a in fg.admins]
    evidence = "\n".join(lines) or None
    expected = "two-factor authentication (two-factor other than disable) for every administrator"
    bad: list[str] = []
    unknown: list[str] = []
    for a in fg.admins:
        if a.two_factor is None:
            unknown.append(f"{a.name}: {a.problems.get('mfa', 'two-factor unreadable')}")
        elif a.two_factor == "disable":
            how = ""
            if a.remote_auth:
                how = f", authenticates against remote group {a.remote_group or '?'} (a second"
                how += " factor there is not visible from the unit: waive it with its evidence)"
            elif a.pki:
                how = ", PKI admin (a certificate alone is one factor)"
            bad.append(f"{_who(a)} has two-factor disable{how}")
    if bad:
        return Outcome.failed(expected, "; ".join(bad), evidence=evidence)
    if unknown:
        return Outcome.error("; ".join(unknown), expected, evidence)
    shown = ", ".join(f"{a.name} ({a.two_factor})" for a in fg.admins)
    return Outcome.passed(
        expected, f"every admin has two-factor: {shown} (REST API users use tokens)", evidence
    )


def _outside(nets: tuple[str, ...], within: tuple[object, ...]) -> list[str]:
    allowed = [ipaddress.ip_network(str(w)) for w in within]
    out: list[str] = []
    for text in nets:
        net = ipaddress.ip_network(text)
        if not any(a.version == net.version and net.subnet_of(a) for a in allowed):  # type: ignore[arg-type]
            out.append(text)
    return out


def _hosts_problems(
    a: FortigateAdmin, fg: FortigateAccess, params: TrustedHosts
) -> tuple[list[str], str | None]:
    """(why this account is not restricted as the policy wants, a reason it cannot be told)."""
    if a.trusted_hosts is None or (a.kind == "admin" and a.trusted_hosts6 is None):
        return [], f"{a.name}: {a.problems.get('trusted_hosts', 'trusted hosts unreadable')}"
    short: list[str] = []
    if not a.trusted_hosts:
        short.append("no trusted hosts: logins accepted from anywhere")
    if a.kind == "admin" and not a.trusted_hosts6 and a.trusted_hosts:
        ipv6_admin = fg.ipv6_admin_interfaces
        if ipv6_admin is None:
            why = fg.problems.get("ipv6_admin_interfaces", "the interfaces are unreadable")
            return [], f"{a.name}: IPv6 trusted hosts are ::/0 and who offers IPv6 admin: {why}"
        if ipv6_admin:
            short.append(
                f"IPv6 from anywhere (::/0) while {', '.join(ipv6_admin)} offer IPv6 admin"
            )
    nets = a.trusted_hosts + (a.trusted_hosts6 or ())
    if params.within and nets:
        outside = _outside(nets, params.within)
        if outside:
            short.append(f"{', '.join(outside)} outside {', '.join(str(w) for w in params.within)}")
    return short, None


def admin_trusted_hosts(fg: FortigateAccess, params: TrustedHosts) -> Outcome:
    if fg.admins is None or fg.api_users is None:
        key = "admins" if fg.admins is None else "api_users"
        return _unreadable(fg, key, "the administrators and REST API users")
    accounts = fg.admins + fg.api_users
    where = f" within {', '.join(str(w) for w in params.within)}" if params.within else ""
    expected = f"every admin and REST API user restricted to trusted hosts{where}"
    lines = [
        f"{a.name}: {', '.join((a.trusted_hosts or ()) + (a.trusted_hosts6 or ())) or 'anywhere'}"
        for a in accounts
    ]
    bad: list[str] = []
    unknown: list[str] = []
    for a in accounts:
        short, why = _hosts_problems(a, fg, params)
        if why:
            unknown.append(why)
        if short:
            bad.append(f"{_who(a)}: {'; '.join(short)}")
    evidence = "\n".join(lines) or None
    if bad:
        return Outcome.failed(expected, "; ".join(bad), evidence=evidence)
    if unknown:
        return Outcome.error("; ".join(unknown), expected, evidence)
    return Outcome.passed(expected, "; ".join(lines), evidence)


def internet_access(
    facts: AccessFacts, params: InsecureProtocols, checked: Sequence[str]
) -> tuple[str, list[InsecureService], str | None]:
    """FortiGate: (the expectation, what breaks it, a reason it cannot be told)."""
    fg = facts.fortigate
    assert fg is not None
    wanted: list[str] = []
    found: list[InsecureService] = []
    if checked:
        wanted.append(f"no {', '.join(checked)} admin access (allowaccess, admin-telnet)")
        found += [s for s in facts.insecure_services or () if s.protocol in checked]
    if not params.admin_on_internet_interfaces:
        wanted.append("no admin access on internet-facing (role wan) interfaces")
        if fg.internet_admin_access is None:
            why = fg.problems.get("internet_admin_access", "system/interface unreadable")
            return "; ".join(wanted), found, why
        found += list(fg.internet_admin_access)
    return "; ".join(wanted), found, None


def admin_session_timeout(fg: FortigateAccess, params: SessionTimeout) -> Outcome:
    minutes = fg.admin_timeout_minutes
    if minutes is None:
        return _unreadable(fg, "admin_timeout_minutes", "admintimeout (system/global)")
    expected = f"admin idle timeout ≤ {params.max_minutes} min"
    observed = f"admintimeout {minutes} min (system/global)"
    if minutes > params.max_minutes:
        return Outcome.failed(expected, observed)
    return Outcome.passed(expected, observed)


def strong_crypto(fg: FortigateAccess, params: StrongCrypto) -> Outcome:
    """Judged only when required (``access.strong_crypto`` says n/a otherwise)."""
    settings = {
        "strong_crypto": fg.strong_crypto,
        "https_redirect": fg.https_redirect,
        "tls_versions": fg.tls_versions,
    }
    for key, value in settings.items():
        if value is None:
            return _unreadable(fg, key, key.replace("_", " "))
    assert fg.tls_versions is not None
    versions = " ".join(f"tlsv{v.replace('.', '-')}" for v in fg.tls_versions)
    observed = (
        f"strong-crypto {'enable' if fg.strong_crypto else 'disable'}, admin-https-redirect "
        f"{'enable' if fg.https_redirect else 'disable'}, admin-https-ssl-versions {versions}"
    )
    expected = (
        f"strong-crypto enable, admin-https-redirect enable, admin HTTPS on TLS ≥ "
        f"{params.min_tls_version} only"
    )
    least = tuple(int(x) for x in params.min_tls_version.split("."))
    short: list[str] = []
    if not fg.strong_crypto:
        short.append("strong-crypto disable")
    if not fg.https_redirect:
        short.append("admin-https-redirect disable")
    old = [v for v in fg.tls_versions if tuple(int(x) for x in v.split(".")) < least]
    if old:
        short.append(f"TLS {', '.join(old)} allowed for admin HTTPS")
    if short:
        return Outcome.failed(expected, f"{'; '.join(short)} ({observed})")
    return Outcome.passed(expected, observed)
