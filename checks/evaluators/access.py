"""Access hardening: the controls of the ``access`` domain, each beside its pure evaluate function.

Every function takes (AccessFacts, its policy parameters, EvalContext) and returns an Outcome.
A fact the control needs that could not be read is ``error`` with the reason, never ``pass``.
FortiGate-only judgements live in ``access_fortigate.py``; the controls are declared here.
"""

from __future__ import annotations

from collections.abc import Callable

from baluarte.controls import Domain, EvalContext
from baluarte.findings import Outcome, Severity
from checks.evaluators import access_fortigate as fortigate
from checks.evaluators.common import not_required
from checks.facts.access import AccessFacts, AdminAccount, SshFacts, SshView
from checks.policy.access import (
    ROOT_LOGIN_ORDER,
    AdminAccounts,
    InsecureProtocols,
    PasswordPolicy,
    RootLogin,
    SessionTimeout,
    StrongCrypto,
    TrustedHosts,
)
from checks.policy.base import Required

DOMAIN = Domain(
    "access",
    gdpr=("32(1)(b)", "25(2)"),
    iso27001=("8.2", "8.5", "5.15", "5.16", "5.17", "5.18"),
    ens=("op.acc.1", "op.acc.2", "op.acc.3", "op.acc.4", "op.acc.5", "op.acc.6", "op.exp.2"),
    nis2=("(i)", "(j)"),
    cis=("4.7", "5.4", "6.5"),
)


def _unreadable(facts: AccessFacts, key: str, what: str) -> Outcome:
    return Outcome.unreadable(
        facts.problems.get(key) or f"{what} could not be read from the device"
    )


def _ssh(facts: AccessFacts) -> SshFacts | Outcome:
    if facts.ssh is None:
        return _unreadable(facts, "ssh", "the effective sshd configuration")
    if not facts.ssh.installed:
        # the collector says so only when proven (checks/linux/access.py ssh_server_elsewhere)
        return Outcome.not_applicable(
            "no SSH server: no sshd installed, nothing listening on port 22, no SSH server "
            "package, and the collection did not come in over SSH"
        )
    if not facts.ssh.views:
        return Outcome.unreadable("sshd -T printed no settings")
    return facts.ssh


def _who(view: SshView) -> str:
    return "every connection" if view.connection == "default" else f"connection {view.connection}"


def _password_state(view: SshView) -> str:
    """ "off", or how a password alone can log in under this connection's settings."""
    methods = view.authentication_methods.split()
    if methods and methods != ["any"]:
        # AuthenticationMethods lists what a login needs: password alone only if a list says so
        alone = [m for m in methods if set(m.split(",")) <= {"password", "keyboard-interactive"}]
        if not alone:
            return "off"
    if view.password_authentication:
        return "PasswordAuthentication yes"
    if view.kbd_interactive_authentication and view.use_pam:
        return "KbdInteractiveAuthentication yes with UsePAM yes (PAM asks for the password)"
    return "off"


def _views(ssh: SshFacts, show: Callable[[SshView], str]) -> str:
    lines = [f"{v.connection}: {show(v)}" for v in ssh.views]
    lines += [f"not probed (negated or wildcard Match): {m}" for m in ssh.unchecked_matches]
    return "\n".join(lines)


def _summary(ssh: SshFacts, what: str) -> str:
    n = len(ssh.views)
    text = f"{what} (sshd -T for {n} connection{'s' if n != 1 else ''}, Match blocks included)"
    if ssh.unchecked_matches:
        text += f"; {len(ssh.unchecked_matches)} Match lines with negations or wildcards not probed"
    return text


def _lockout(
    threshold: int | None,
    seconds: int | None,
    params: PasswordPolicy,
    seen: list[str],
    no_lockout: str = "pam_faillock not in the auth stack",
) -> list[str]:
    short: list[str] = []
    if params.lockout_threshold is None and params.lockout_minutes is None:
        return short
    if threshold is None:
        return [f"no account lockout after failed logins ({no_lockout})"]
    seen.append(f"lockout after {threshold} failures")
    if params.lockout_threshold is not None and threshold > params.lockout_threshold:
        short.append(f"lockout after {threshold} failures > {params.lockout_threshold}")
    if params.lockout_minutes is not None and seconds is not None:
        if seconds == 0:
            seen.append("locked until an administrator unlocks")
        elif seconds < params.lockout_minutes * 60:
            short.append(f"lockout lasts {seconds} s < {params.lockout_minutes} min")
        else:
            seen.append(f"for {seconds} s")
    return short


@DOMAIN.control(
    title="SSH password authentication is off",
    rationale="Keys cannot be guessed; passwords on an SSH port are brute-forced around the clock.",
    severity=Severity.HIGH,
    platforms=("linux",),
    benchmark="Baluarte default (not a CIS Debian Linux 12 Benchmark recommendation); CIS "
    "Controls v8 6.5",
)
def ssh_password_authentication(facts: AccessFacts, params: Required, ctx: EvalContext) -> Outcome:
    if not params.required:
        return not_required("SSH password authentication off", ctx)
    ssh = _ssh(facts)
    if isinstance(ssh, Outcome):
        return ssh
    expected = "sshd accepts no password logins (PasswordAuthentication no, no PAM keyboard-"
    expected += "interactive), for every connection checked"
    offending = [v for v in ssh.views if _password_state(v) != "off"]
    observed = _views(ssh, _password_state)
    if offending:
        worst = offending[0]
        return Outcome.failed(
            expected,
            f"passwords accepted for {_who(worst)}: {_password_state(worst)}",
            evidence=observed,
        )
    return Outcome.passed(expected, _summary(ssh, "password logins off"), evidence=observed)


@DOMAIN.control(
    title="SSH root login is restricted",
    rationale="Logging in as root directly leaves no record of who did what and gives a "
    "guessed credential full control.",
    severity=Severity.HIGH,
    platforms=("linux",),
    benchmark="CIS Debian Linux 12 Benchmark, Configure SSH Server (sshd PermitRootLogin is "
    "disabled)",
)
def ssh_root_login(facts: AccessFacts, params: RootLogin, ctx: EvalContext) -> Outcome:
    ssh = _ssh(facts)
    if isinstance(ssh, Outcome):
        return ssh
    limit = ROOT_LOGIN_ORDER.index(params.allowed)
    expected = f"PermitRootLogin at most {params.allowed}, for every connection checked"
    observed = _views(ssh, lambda v: f"permitrootlogin {v.permit_root_login}")
    worst = max(ssh.views, key=lambda v: ROOT_LOGIN_ORDER.index(v.permit_root_login))
    if ROOT_LOGIN_ORDER.index(worst.permit_root_login) > limit:
        return Outcome.failed(
            expected,
            f"PermitRootLogin {worst.permit_root_login} for {_who(worst)}",
            evidence=observed,
        )
    return Outcome.passed(
        expected, _summary(ssh, f"PermitRootLogin {worst.permit_root_login}"), evidence=observed
    )


def _names(account: AdminAccount) -> tuple[str, ...]:
    return (account.name, *account.aliases)


def _folder(ignore_case: bool) -> Callable[[str], str]:
    return str.casefold if ignore_case else str


@DOMAIN.control(
    title="Privileged accounts are exactly the allowed ones",
    rationale="Forgotten or unexpected administrator accounts are how access outlives the "
    "people and contracts that justified it.",
    severity=Severity.HIGH,
    platforms=("linux", "windows", "fortigate"),
    benchmark="CIS Controls v8 5.4; CIS FortiGate 7.0.x Benchmark v1.3.0 2.4.3 (admin profiles)",
)
def admin_accounts(facts: AccessFacts, params: AdminAccounts, ctx: EvalContext) -> Outcome:
    """Windows: members of the local Administrators group (S-1-5-32-544), compared without
    regard to case. A local account (``PC-RECEPCION\\Administrator``) may be listed as
    ``Administrator`` or with the computer's name; a domain or Entra ID member only with its
    domain (``CONTOSO\\Domain Admins``, ``AzureAD\\ana.garcia``)."""
    if facts.admins is None:
        return _unreadable(facts, "admins", "the privileged accounts")
    fold = _folder(facts.names_ignore_case)
    allowed = {fold(n) for n in params.allowed}
    expected = "privileged accounts only among: " + (", ".join(params.allowed) or "(none)")
    evidence = "\n".join(f"{a.name}: {'; '.join(a.reasons)}" for a in facts.admins)
    if facts.admin_notes:  # grants read and judged not privileged: shown, never silently passed
        evidence += "\nnot privileged:\n" + "\n".join(facts.admin_notes)
    extra = [a for a in facts.admins if not allowed & {fold(n) for n in _names(a)}]
    present = {fold(n) for a in facts.admins for n in _names(a)}
    absent = sorted({n for n in params.allowed if fold(n) not in present})
    observed = "privileged: " + (", ".join(a.name for a in facts.admins) or "none")
    if absent:
        observed += f" (allowed but not privileged here: {', '.join(absent)})"
    if extra:
        named = "; ".join(f"{a.name} ({', '.join(a.reasons)})" for a in extra)
        return Outcome.failed(
            expected, f"unexpected privileged accounts: {named}", evidence=evidence
        )
    return Outcome.passed(expected, observed, evidence)


@DOMAIN.control(
    title="Password length, complexity and lockout meet the policy",
    rationale="Short passwords and unlimited attempts make guessing practical.",
    severity=Severity.MEDIUM,
    platforms=("linux", "windows", "fortigate"),
    benchmark="CIS Microsoft Windows Benchmarks 1.1 (Password Policy), 1.2 (Account Lockout "
    "Policy); CIS FortiGate 7.0.x Benchmark v1.3.0 2.2.1, 2.2.2; CIS Debian Linux 12 "
    "Benchmark, PAM (pwquality, faillock)",
)
def password_policy(facts: AccessFacts, params: PasswordPolicy, ctx: EvalContext) -> Outcome:
    policy = facts.password_policy
    if policy is None:
        return _unreadable(facts, "password_policy", "the password policy")
    wanted = [f"minimum length ≥ {params.min_length}"]
    if params.complexity:
        wanted.append(f"≥ {params.complexity_classes} character classes")
    if params.lockout_threshold is not None:
        wanted.append(f"lockout after ≤ {params.lockout_threshold} failures")
    if params.lockout_minutes is not None:
        wanted.append(f"lockout ≥ {params.lockout_minutes} min")
    if params.max_age_days is not None:
        wanted.append(f"password age ≤ {params.max_age_days} days")
    expected = ", ".join(wanted)
    short: list[str] = []
    seen: list[str] = []
    if policy.min_length is None:
        short.append("no minimum password length enforced")
    else:
        seen.append(f"minimum length {policy.min_length} ({policy.min_length_source})")
        if policy.min_length < params.min_length:
            short.append(f"minimum length {policy.min_length} < {params.min_length}")
    if params.complexity:
        seen.append(f"{policy.complexity_classes} classes required")
        if policy.complexity_classes < params.complexity_classes:
            short.append(
                f"{policy.complexity_classes} character classes required"
                f" < {params.complexity_classes}"
                + (f" ({policy.complexity_source})" if policy.complexity_source else "")
            )
    asks_lockout = params.lockout_threshold is not None or params.lockout_minutes is not None
    unsure = policy.lockout_undetermined if asks_lockout else ""
    if not unsure:
        short += _lockout(
            policy.lockout_threshold, policy.lockout_seconds, params, seen, policy.no_lockout_reason
        )
    if params.max_age_days is not None:
        source = policy.max_age_source
        if policy.max_age_days is None:
            short.append(f"passwords never expire ({source})")
        elif policy.max_age_days > params.max_age_days:
            short.append(f"{source} {policy.max_age_days} > {params.max_age_days}")
        else:
            seen.append(f"{source} {policy.max_age_days}")
    evidence = "\n".join(policy.detail) or None
    scope = f" ({policy.scope})" if policy.scope else ""
    if short:
        if unsure:
            short.append(f"whether failed logins lock accounts could not be told ({unsure})")
        return Outcome.failed(expected, "; ".join(short) + scope, evidence=evidence)
    if unsure:
        return Outcome.error(
            f"cannot tell whether failed logins lock accounts: {unsure}", expected, evidence
        )
    return Outcome.passed(expected, "; ".join(seen) + scope, evidence)


@DOMAIN.control(
    title="FortiGate administrators use two-factor authentication",
    rationale="A stolen administrator password alone must not open the firewall.",
    severity=Severity.HIGH,
    platforms=("fortigate",),
    benchmark="CIS Controls v8 6.5 (no CIS FortiGate Benchmark recommendation)",
)
def admin_mfa(facts: AccessFacts, params: Required, ctx: EvalContext) -> Outcome:
    """Every ``system/admin`` row needs ``two-factor`` other than ``disable``.

    Remote (RADIUS/LDAP/TACACS+) and PKI admins are held to the same rule: FortiManager
    and CIS users read MFA from the admin's own two-factor setting, and a second factor
    enforced by the RADIUS server (FortiAuthenticator, a token proxy) is invisible from the
    unit, so such an admin fails saying so and is waived with the server's evidence.
    REST API users authenticate with a token and trusted hosts instead
    (``access.admin_trusted_hosts``); they are not judged here.
    """
    if facts.fortigate is None:
        return Outcome.unreadable("no FortiGate administrator facts for this device")
    if not params.required:
        return not_required("two-factor authentication of administrators", ctx)
    return fortigate.admin_mfa(facts.fortigate, params)


@DOMAIN.control(
    title="FortiGate administrators are restricted to trusted hosts",
    rationale="Trusted hosts keep the management interface closed to everyone outside the "
    "administrators' networks, even with valid credentials.",
    severity=Severity.HIGH,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 2.4.2",
)
def admin_trusted_hosts(facts: AccessFacts, params: TrustedHosts, ctx: EvalContext) -> Outcome:
    """Admins: some ``trusthost1..10`` other than 0.0.0.0/0, and, when an interface offers admin
    logins over IPv6, some ``ip6-trusthost1..10`` other than ::/0. REST API users: a non-empty
    ``trusthost`` list without 0.0.0.0/0. With ``within``, every network listed must fall
    inside one of its networks."""
    if facts.fortigate is None:
        return Outcome.unreadable("no FortiGate administrator facts for this device")
    return fortigate.admin_trusted_hosts(facts.fortigate, params)


@DOMAIN.control(
    title="No insecure management protocols",
    rationale="Telnet, HTTP, FTP and rsh send credentials in clear; SMBv1 and RDP without NLA "
    "are well-known attack paths; management on internet-facing interfaces invites attacks.",
    severity=Severity.HIGH,
    platforms=("linux", "windows", "fortigate"),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 1.3, 2.4.5; CIS Microsoft Windows "
    "Benchmarks (SMB v1 disabled, RDP requires Network Level Authentication)",
)
def insecure_admin_protocols(
    facts: AccessFacts, params: InsecureProtocols, ctx: EvalContext
) -> Outcome:
    """FortiGate: ``allowaccess``/``ip6-allowaccess`` of every interface and ``admin-telnet``
    for the forbidden protocols it can offer (http, telnet); and any admin service (https,
    ssh, http, telnet, snmp, fgfm, fabric, radius-acct) on an interface of role wan."""
    if facts.fortigate is not None:
        return _insecure_fortigate(facts, params)
    if facts.insecure_services is None:
        return _unreadable(facts, "insecure_services", "listening services and packages")
    checked = [p for p in params.forbidden if p in facts.protocols_checked]
    if not checked:
        return Outcome.not_applicable(
            "none of the forbidden protocols can be offered by this platform's management"
            f" services (checked here: {', '.join(facts.protocols_checked)})"
        )
    expected = f"no {', '.join(checked)} service listening, installed or enabled in inetd"
    if all(p in _WINDOWS_PROTOCOLS for p in checked):
        expected = "; ".join(_WINDOWS_PROTOCOLS[p] for p in checked)
    found = [s for s in facts.insecure_services if s.protocol in checked]
    if found:
        evidence = "\n".join(f"{s.protocol}: {s.how}" for s in found)
        shown = "; ".join(f"{s.protocol}: {s.how}" for s in found[:5])
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        return Outcome.failed(expected, shown + more, evidence=evidence)
    if all(p in _WINDOWS_PROTOCOLS for p in checked):
        return Outcome.passed(expected, f"none found: {expected}")
    return Outcome.passed(expected, f"no {', '.join(checked)} daemon listening or installed")


_WINDOWS_PROTOCOLS = {
    "smbv1": "SMBv1 off (server protocol and optional feature)",
    "rdp_without_nla": "RDP, when on, requires Network Level Authentication",
}


def _insecure_fortigate(facts: AccessFacts, params: InsecureProtocols) -> Outcome:
    checked = [p for p in params.forbidden if p in facts.protocols_checked]
    if not checked and params.admin_on_internet_interfaces:
        return Outcome.not_applicable(
            "none of the forbidden protocols can be offered by a FortiGate's management"
            f" (checked there: {', '.join(facts.protocols_checked)}) and admin access on"
            " internet-facing interfaces is tolerated"
        )
    if checked and facts.insecure_services is None:
        return _unreadable(facts, "insecure_services", "the interfaces' admin access")
    expected, found, why = fortigate.internet_access(facts, params, checked)
    found = list({(s.protocol, s.how): s for s in found}.values())
    if found:
        evidence = "\n".join(f"{s.protocol}: {s.how}" for s in found)
        return Outcome.failed(expected, "; ".join(s.how for s in found), evidence=evidence)
    if why:  # the interfaces could not be read from the unit
        return Outcome.unreadable(why, expected)
    return Outcome.passed(expected, f"none offered: {expected.replace('no ', '')}")


@DOMAIN.control(
    title="Idle administrator sessions time out",
    rationale="An unattended, logged-in management session is an open door.",
    severity=Severity.MEDIUM,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 2.4.4",
)
def admin_session_timeout(facts: AccessFacts, params: SessionTimeout, ctx: EvalContext) -> Outcome:
    if facts.fortigate is None:
        return Outcome.unreadable("no FortiGate administration facts for this device")
    return fortigate.admin_session_timeout(facts.fortigate, params)


@DOMAIN.control(
    title="Administrative access uses strong cryptography",
    rationale="Weak ciphers and old TLS versions let an attacker on the path read or take "
    "over management sessions.",
    severity=Severity.MEDIUM,
    platforms=("fortigate",),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 2.1.9, 2.1.10, 2.4.5",
)
def strong_crypto(facts: AccessFacts, params: StrongCrypto, ctx: EvalContext) -> Outcome:
    if facts.fortigate is None:
        return Outcome.unreadable("no FortiGate administration facts for this device")
    if not params.required:
        return not_required("strong cryptography for administrative access", ctx)
    return fortigate.strong_crypto(facts.fortigate, params)
