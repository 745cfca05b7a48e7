"""AccessFacts: how a device can be logged into and who administers it, whatever the platform.

``None`` always means "could not tell"; an evaluator that needs it reports ``error``. Nothing
here comes from password hashes: accounts are read from the name service (``getent``), never
from ``/etc/shadow``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = [
    "AccessFacts",
    "AdminAccount",
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

    installed: bool  # False: no sshd on the device, so the SSH controls do not apply
    views: tuple[SshView, ...] = ()
    unchecked_matches: tuple[str, ...] = ()  # Match lines no connection spec could enter


class AdminAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    reasons: tuple[str, ...]  # "UID 0", "member of sudo", "sudoers: ALL"…


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


class InsecureService(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    protocol: str  # telnet | ftp | rsh | rlogin
    how: str  # "listening on 0.0.0.0:23 (in.telnetd)", "package telnetd installed"…


class AccessFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ssh: SshFacts | None
    admins: tuple[AdminAccount, ...] | None
    password_policy: PasswordPolicyFacts | None
    insecure_services: tuple[InsecureService, ...] | None
    protocols_checked: tuple[str, ...] = ()  # which protocols the platform's probe covers
    # why a fact is None, by fact name ("ssh", "admins", "password_policy", "insecure_services")
    problems: dict[str, str] = {}
