"""The ``access:`` section of a policy."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, IPvAnyNetwork, field_validator

from checks.policy.base import ControlParams, Required, Section

__all__ = [
    "AccessSection",
    "AdminAccounts",
    "InsecureProtocols",
    "PasswordPolicy",
    "RootLogin",
    "SessionTimeout",
    "StrongCrypto",
    "TrustedHosts",
]

# From most to least restrictive, as sshd understands PermitRootLogin.
ROOT_LOGIN_ORDER = ("no", "forced-commands-only", "prohibit-password", "yes")


class RootLogin(ControlParams):
    allowed: Literal["no", "forced-commands-only", "prohibit-password", "yes"] = Field(
        default="no",
        description="most permissive PermitRootLogin accepted, in the order no <"
        " forced-commands-only < prohibit-password < yes",
    )


class AdminAccounts(ControlParams):
    allowed: tuple[str, ...] = Field(
        description="the only privileged accounts (UID 0 and sudo/wheel members; local"
        " Administrators; FortiGate admins); any other privileged account fails",
    )


class PasswordPolicy(ControlParams):
    min_length: int = Field(default=12, ge=1, description="shortest password accepted")
    complexity: bool = Field(default=True, description="character-class complexity enforced")
    complexity_classes: int = Field(
        default=3,
        ge=1,
        le=4,
        description="Linux: character classes (digits, upper, lower, other) a password must mix"
        " when complexity is required",
    )
    lockout_threshold: int | None = Field(
        default=5, ge=1, description="most failed logins before lockout; null = not checked"
    )
    lockout_minutes: int | None = Field(
        default=15, ge=1, description="least lockout duration in minutes; null = not checked"
    )
    max_age_days: int | None = Field(
        default=None, ge=1, description="longest password lifetime; null = not checked"
    )


class TrustedHosts(ControlParams):
    within: tuple[IPvAnyNetwork, ...] | None = Field(
        default=None,
        description="networks every admin's trusted hosts must fall within; omitted = any"
        " restriction other than 0.0.0.0/0 passes",
    )


InsecureProtocol = Literal[
    "telnet", "http", "ftp", "rsh", "rlogin", "smbv1", "rdp_without_nla", "snmpv1", "snmpv2c"
]


class InsecureProtocols(ControlParams):
    forbidden: tuple[InsecureProtocol, ...] = Field(
        default=("telnet", "http", "ftp", "rsh", "rlogin", "smbv1", "rdp_without_nla"),
        description="management protocols that must not be offered",
    )
    admin_on_internet_interfaces: bool = Field(
        default=False, description="true tolerates admin access on internet-facing interfaces"
    )


class SessionTimeout(ControlParams):
    max_minutes: int = Field(default=15, ge=1, description="longest admin idle timeout")


class StrongCrypto(ControlParams):
    required: bool = Field(default=True, description="strong-crypto and HTTPS redirect on")
    min_tls_version: Literal["1.2", "1.3"] = Field(
        default="1.2", description="lowest TLS version accepted for admin access"
    )

    @field_validator("min_tls_version", mode="before")
    @classmethod
    def _unquoted(cls, value: Any) -> Any:
        # YAML reads an unquoted 1.2 as a number.
        return str(value) if isinstance(value, float) else value


class AccessSection(Section):
    ssh_password_authentication: Required | None = Field(
        default=None, description="Linux: sshd password authentication off"
    )
    ssh_root_login: RootLogin | None = Field(
        default=None, description="Linux: PermitRootLogin no more than allowed"
    )
    admin_accounts: AdminAccounts | None = Field(
        default=None, description="privileged accounts are exactly the allowed ones"
    )
    password_policy: PasswordPolicy | None = Field(
        default=None, description="length, complexity and lockout meet the policy"
    )
    admin_mfa: Required | None = Field(default=None, description="FortiGate: admins have 2FA")
    admin_trusted_hosts: TrustedHosts | None = Field(
        default=None, description="FortiGate: admins restricted to trusted hosts"
    )
    insecure_admin_protocols: InsecureProtocols | None = Field(
        default=None, description="no Telnet/HTTP/FTP/rsh management, SMBv1 off, RDP with NLA"
    )
    admin_session_timeout: SessionTimeout | None = Field(
        default=None, description="FortiGate: admin idle timeout at most max_minutes"
    )
    strong_crypto: StrongCrypto | None = Field(
        default=None, description="FortiGate: strong-crypto, HTTPS redirect, TLS >= 1.2"
    )
