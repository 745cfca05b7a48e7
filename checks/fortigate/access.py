"""AccessFacts of a FortiGate: administrators, REST API users, password policy, admin access.

Endpoints: ``cmdb system/admin``, ``system/api-user`` (global), ``system/password-policy``,
``system/global`` (lockout, idle timeout, crypto, telnet) and ``system/interface`` (which
services each interface offers, and which face the internet). Every admin of a FortiGate is
privileged: the access profile only scopes what they may change.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from checks.facts.access import (
    AccessFacts,
    AdminAccount,
    FortigateAccess,
    FortigateAdmin,
    InsecureService,
    PasswordPolicyFacts,
)
from checks.fortigate.read import Fields, Unreadable, attempt, rows, single
from checks.fortigate.snapshot import FortiSnapshot

__all__ = ["ADMIN_SERVICES", "parse"]

T = TypeVar("T")

# allowaccess services that log an administrator in or manage the unit (ping, probe-response,
# ftm push and speed-test do not)
ADMIN_SERVICES = ("https", "ssh", "http", "telnet", "snmp", "fgfm", "fabric", "radius-acct")
_CLEAR = ("http", "telnet")  # management in clear text
_LOGIN = ("https", "ssh", "http", "telnet")


def _cidr(text: str) -> str:
    """``"10.0.0.0 255.0.0.0"`` → ``"10.0.0.0/8"`` (``ipaddress`` accepts a mask after the /)."""
    return str(ipaddress.ip_network("/".join(text.split()), strict=False))


def _trusthosts(row: Fields, prefix: str) -> tuple[str, ...]:
    """The networks set in ``<prefix>1..10``; an unset one reads 0.0.0.0/0 (or ::/0)."""
    out: list[str] = []
    for i in range(1, 11):
        text = row.text(f"{prefix}{i}")
        try:
            net = _cidr(text)
        except ValueError as exc:
            raise Unreadable(f"{row.where}: {prefix}{i} {text!r} is no network") from exc
        if not net.endswith("/0"):
            out.append(net)
    return tuple(dict.fromkeys(out))


def _admin(row: Fields) -> FortigateAdmin:
    problems: dict[str, str] = {}
    mfa = attempt(
        problems,
        "mfa",
        lambda: (row.text("two-factor"), row.on("remote-auth"), row.on("peer-auth")),
    )
    remote = mfa is not None and mfa[1]
    group = attempt(problems, "mfa", lambda: row.text("remote-group")) if remote else ""
    wildcard = attempt(problems, "mfa", lambda: row.on("wildcard")) if remote else False
    hosts = attempt(
        problems,
        "trusted_hosts",
        lambda: (_trusthosts(row, "trusthost"), _trusthosts(row, "ip6-trusthost")),
    )
    return FortigateAdmin(
        name=row.text("name"),
        kind="admin",
        accprofile=attempt(problems, "accprofile", lambda: row.text("accprofile")),
        two_factor=mfa[0] if mfa else None,
        remote_auth=mfa[1] if mfa else None,
        remote_group=group or "",
        wildcard=bool(wildcard),
        pki=mfa[2] if mfa else None,
        trusted_hosts=hosts[0] if hosts else None,
        trusted_hosts6=hosts[1] if hosts else None,
        problems=problems,
    )


def _admins(snapshot: FortiSnapshot) -> tuple[FortigateAdmin, ...]:
    found = tuple(_admin(r) for r in rows(snapshot, "system/admin"))
    if not found:
        # FortiOS refuses to delete the last administrator: an empty table is a view that hides
        # them, and "every admin" judged over none would pass
        raise Unreadable(
            "cmdb system/admin answered no administrator, yet a FortiGate always has one: the "
            "token's profile or VDOM scope hides them"
        )
    return found


def _api_hosts(row: Fields) -> tuple[str, ...]:
    out: list[str] = []
    for entry in row.members("trusthost"):
        kind = entry.choice("type", ("ipv4-trusthost", "ipv6-trusthost"))
        text = entry.text(kind)
        try:
            out.append(_cidr(text))
        except ValueError as exc:
            raise Unreadable(f"{entry.where}: {text!r} is no network") from exc
    if any(n in ("0.0.0.0/0", "::/0") for n in out):
        return ()  # one entry for anywhere opens it to anywhere
    return tuple(dict.fromkeys(out))


def _api_user(row: Fields) -> FortigateAdmin:
    problems: dict[str, str] = {}
    return FortigateAdmin(
        name=row.text("name"),
        kind="api-user",
        accprofile=attempt(problems, "accprofile", lambda: row.text("accprofile")),
        trusted_hosts=attempt(problems, "trusted_hosts", lambda: _api_hosts(row)),
        problems=problems,
    )


def _accounts(admins: tuple[FortigateAdmin, ...]) -> tuple[AdminAccount, ...]:
    out: list[AdminAccount] = []
    for a in admins:
        reasons = ["REST API user"] if a.kind == "api-user" else []
        reasons.append(f"accprofile {a.accprofile}" if a.accprofile else "accprofile unreadable")
        if a.remote_auth:
            reasons.append(f"remote group {a.remote_group or '?'}")
            if a.wildcard:
                reasons.append("wildcard: every member of the group")
        out.append(AdminAccount(name=a.name, reasons=tuple(reasons)))
    return tuple(out)


def _password_policy(snapshot: FortiSnapshot) -> PasswordPolicyFacts:
    policy = single(snapshot, "system/password-policy")
    glob = single(snapshot, "system/global")
    threshold = glob.number("admin-lockout-threshold")
    duration = glob.number("admin-lockout-duration")
    status, apply_to = policy.on("status"), policy.words("apply-to")
    detail = [
        f"system/password-policy: status {'enable' if status else 'disable'}, apply-to "
        + (" ".join(apply_to) or "(nothing)"),
        f"system/global: admin-lockout-threshold {threshold}, admin-lockout-duration {duration}",
    ]
    classes = (
        "min-lower-case-letter",
        "min-upper-case-letter",
        "min-number",
        "min-non-alphanumeric",
    )
    governed = status and "admin-password" in apply_to
    length = policy.number("minimum-length")
    counts = {c: policy.number(c) for c in classes}
    expires = policy.on("expire-status")
    expire_day = policy.number("expire-day")
    if governed:
        detail.append(
            f"minimum-length {length}, "
            + ", ".join(f"{c} {n}" for c, n in counts.items())
            + f", expire-status {'enable' if expires else 'disable'}, expire-day {expire_day}"
        )
    source = "system/password-policy" if governed else "admin passwords not under the policy"
    return PasswordPolicyFacts(
        min_length=length if governed else None,
        min_length_source=f"{source} minimum-length" if governed else source,
        complexity_classes=sum(1 for n in counts.values() if n > 0) if governed else 0,
        complexity_source="system/password-policy min-*" if governed else source,
        lockout_threshold=threshold,
        lockout_seconds=duration,
        lockout_source="system/global admin-lockout-threshold/-duration",
        max_age_days=expire_day if governed and expires else None,
        max_age_source="password-policy expire-day",
        detail=tuple(detail),
    )


class _Iface(NamedTuple):
    name: str
    role: str
    v4: tuple[str, ...]  # allowaccess
    v6: tuple[str, ...]  # ipv6.ip6-allowaccess


def _interfaces(snapshot: FortiSnapshot) -> list[_Iface]:
    return [
        _Iface(r.text("name"), r.text("role"), r.words("allowaccess"), _v6(r))
        for r in rows(snapshot, "system/interface")
    ]


def _v6(row: Fields) -> tuple[str, ...]:
    return row.object("ipv6").words("ip6-allowaccess")


def _offered(ifaces: list[_Iface], wanted: tuple[str, ...]) -> list[InsecureService]:
    out: list[InsecureService] = []
    for i in ifaces:
        for option, services in (("allowaccess", i.v4), ("ip6-allowaccess", i.v6)):
            out += [
                InsecureService(protocol=s, how=f"{option} {s} on {i.name} (role {i.role})")
                for s in services
                if s in wanted
            ]
    return out


def _clear_text(ifaces: list[_Iface], glob: Fields) -> tuple[InsecureService, ...]:
    found = _offered(ifaces, _CLEAR)
    if glob.on("admin-telnet"):
        found.append(InsecureService(protocol="telnet", how="admin-telnet enable (system/global)"))
    return tuple(found)


def _tls(glob: Fields) -> tuple[str, ...]:
    """``"tlsv1-1 tlsv1-2"`` → ``("1.1", "1.2")``."""
    versions = glob.words("admin-https-ssl-versions")
    return tuple(v.removeprefix("tlsv").replace("-", ".") for v in versions)


class _Sources:
    """``system/global`` and ``system/interface``, or why each could not be read."""

    def __init__(self, snapshot: FortiSnapshot) -> None:
        self.glob = self._read(lambda: single(snapshot, "system/global"))
        self.ifaces = self._read(lambda: _interfaces(snapshot))

    @staticmethod
    def _read(read: Callable[[], T]) -> T | Unreadable:
        try:
            return read()
        except Unreadable as exc:
            return exc

    @staticmethod
    def _got(source: T | Unreadable) -> T:
        if isinstance(source, Unreadable):
            raise source
        return source

    def on_global(
        self, problems: dict[str, str], name: str, read: Callable[[Fields], T]
    ) -> T | None:
        return attempt(problems, name, lambda: read(self._got(self.glob)))

    def on_ifaces(
        self, problems: dict[str, str], name: str, read: Callable[[list[_Iface]], T]
    ) -> T | None:
        return attempt(problems, name, lambda: read(self._got(self.ifaces)))

    def insecure(self, problems: dict[str, str]) -> tuple[InsecureService, ...] | None:
        return self.on_ifaces(
            problems, "insecure_services", lambda i: _clear_text(i, self._got(self.glob))
        )


def _fortigate(snapshot: FortiSnapshot, src: _Sources) -> FortigateAccess:
    problems: dict[str, str] = {}
    return FortigateAccess(
        admins=attempt(problems, "admins", lambda: _admins(snapshot)),
        api_users=attempt(
            problems,
            "api_users",
            lambda: tuple(_api_user(r) for r in rows(snapshot, "system/api-user")),
        ),
        ipv6_admin_interfaces=src.on_ifaces(
            problems,
            "ipv6_admin_interfaces",
            lambda i: tuple(x.name for x in i if set(x.v6) & set(_LOGIN)),
        ),
        internet_admin_access=src.on_ifaces(
            problems,
            "internet_admin_access",
            lambda i: tuple(_offered([x for x in i if x.role == "wan"], ADMIN_SERVICES)),
        ),
        admin_timeout_minutes=src.on_global(
            problems, "admin_timeout_minutes", lambda g: g.number("admintimeout")
        ),
        strong_crypto=src.on_global(problems, "strong_crypto", lambda g: g.on("strong-crypto")),
        https_redirect=src.on_global(
            problems, "https_redirect", lambda g: g.on("admin-https-redirect")
        ),
        tls_versions=src.on_global(problems, "tls_versions", _tls),
        problems=problems,
    )


def parse(snapshot: FortiSnapshot) -> AccessFacts:
    problems: dict[str, str] = {}
    src = _Sources(snapshot)
    fortigate = _fortigate(snapshot, src)
    accounts = None
    if fortigate.admins is not None and fortigate.api_users is not None:
        accounts = _accounts(fortigate.admins + fortigate.api_users)
    else:
        problems["admins"] = fortigate.problems.get("admins") or fortigate.problems["api_users"]
    return AccessFacts(
        ssh=None,
        admins=accounts,
        password_policy=attempt(problems, "password_policy", lambda: _password_policy(snapshot)),
        insecure_services=src.insecure(problems),
        protocols_checked=_CLEAR,
        problems=problems,
        fortigate=fortigate,
    )
