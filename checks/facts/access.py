"""AccessFacts: how a device can be logged into and who administers it, whatever the platform.

``None`` always means "could not tell"; an evaluator that needs it reports ``error``. Nothing
here comes from password hashes: accounts are read from the name service (``getent``), never
from ``/etc/shadow``. On a FortiGate, ``fortigate`` holds its administrators, REST API users and
admin-access settings (never a password: FortiOS only shows them as ``ENC …``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "AccessFacts",
    "AdminAccount",
    "FortigateAccess",
    "FortigateAdmin",
    "InsecureService",
    "PasswordPolicyFacts",
    "SshFacts",
    "SshView",
]


class SshView(BaseModel):
    """The effective sshd settings for one connection (``sshd -T [-C spec]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connection: str  # "default" (no Match applied) or the -C spec, e.g. "user=root,addr=…"
    password_authentication: bool
    kbd_interactive_authentication: bool
    use_pam: bool
    permit_root_login: str  # no | forced-commands-only | prohibit-password | yes
    authentication_methods: str = "any"


class SshFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    installed: bool  # False: proven that no SSH server runs, so the SSH controls do not apply
    views: tuple[SshView, ...] = ()
    unchecked_matches: tuple[str, ...] = ()  # Match lines no connection spec could enter


class AdminAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    reasons: tuple[str, ...]  # "UID 0", "member of sudo", "sudo: (root) /usr/bin/find — …"…
    aliases: tuple[str, ...] = ()  # other names a policy may use for it ("Administrator")


class PasswordPolicyFacts(BaseModel):
    """What the password stack enforces; every ``None`` field is "not enforced by anything"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_length: int | None  # shortest password the stack accepts (credits taken into account)
    min_length_source: str = ""
    complexity_classes: int  # character classes a password must contain (0 = none)
    complexity_source: str = ""
    lockout_threshold: int | None  # failed logins that lock the account; None = no lockout
    lockout_seconds: int | None  # how long the lock lasts; 0 = until an admin unlocks it
    lockout_source: str = ""
    max_age_days: int | None  # login.defs PASS_MAX_DAYS (new accounts); None = never expires
    detail: tuple[str, ...] = ()  # the settings read, as "file: key=value", for evidence
    max_age_source: str = "PASS_MAX_DAYS"  # the setting max_age_days comes from
    no_lockout_reason: str = "pam_faillock not in the auth stack"  # why lockout_threshold is None
    # why it cannot be told whether failed logins lock ("" = it can); then lockout_* say nothing
    lockout_undetermined: str = ""
    scope: str = ""  # whose passwords it governs, when not every account's ("local accounts")


class InsecureService(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    protocol: str  # telnet | ftp | rsh | rlogin
    how: str  # "listening on 0.0.0.0:23 (in.telnetd)", "package telnetd installed"…


class FortigateAdmin(BaseModel):
    """A FortiGate administrator (``system/admin``) or REST API user (``system/api-user``).

    A ``None`` field could not be read; ``problems`` says why, by field name.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["admin", "api-user"]
    accprofile: str | None
    two_factor: str | None = None  # disable | fortitoken | fortitoken-cloud | email | sms
    remote_auth: bool | None = None  # authenticates against RADIUS/LDAP/TACACS+
    remote_group: str = ""
    wildcard: bool = False  # any member of the remote group logs in as this admin
    pki: bool | None = None  # peer-auth: a PKI (certificate) administrator
    # networks the account may log in from; () = no restriction (anywhere)
    trusted_hosts: tuple[str, ...] | None = None  # IPv4 (API users: both families)
    trusted_hosts6: tuple[str, ...] | None = None  # IPv6 (admins only)
    problems: dict[str, str] = {}


class FortigateAccess(BaseModel):
    """What only a FortiGate's management has: its admins and its admin-access settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    admins: tuple[FortigateAdmin, ...] | None  # system/admin
    api_users: tuple[FortigateAdmin, ...] | None  # system/api-user
    ipv6_admin_interfaces: tuple[str, ...] | None  # interfaces offering admin logins over IPv6
    # admin services on internet-facing interfaces (protocol = the allowaccess service)
    internet_admin_access: tuple[InsecureService, ...] | None
    admin_timeout_minutes: int | None  # system/global admintimeout
    strong_crypto: bool | None  # system/global strong-crypto
    https_redirect: bool | None  # system/global admin-https-redirect
    tls_versions: tuple[str, ...] | None  # admin-https-ssl-versions as "1.2", "1.3"
    # why a fact is None, by fact name
    problems: dict[str, str] = {}


class AccessFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ssh: SshFacts | None
    admins: tuple[AdminAccount, ...] | None
    # grants read and judged not privileged, with why, for the evidence ("dave: sudo (www-data)
    # /usr/bin/vi — runs as www-data, not root"; "sudo is not installed…")
    admin_notes: tuple[str, ...] = ()
    password_policy: PasswordPolicyFacts | None
    insecure_services: tuple[InsecureService, ...] | None
    protocols_checked: tuple[str, ...] = ()  # which protocols the platform's probe covers
    # why a fact is None, by fact name ("ssh", "admins", "password_policy", "insecure_services")
    problems: dict[str, str] = {}
    fortigate: FortigateAccess | None = None  # set for FortiGate units only
    names_ignore_case: bool = False  # account names compare case-insensitively (Windows)
