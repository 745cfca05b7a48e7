"""AccessFacts of a Windows host: local Administrators, the local password policy, SMBv1 and RDP.

Administrators are the members of S-1-5-32-544; a local account (``PC\\name``) is also known by
its bare name. The password policy is the local SAM's (``secedit /export``): on a domain member,
domain accounts follow the domain's policy instead, and the finding says so. PasswordComplexity 1
is Windows' rule of 3 of 4 character classes; LockoutBadCount 0 is no lockout; LockoutDuration
-1 locks until an administrator unlocks; MaximumPasswordAge 0 or -1 never expires.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.facts.access import AccessFacts, AdminAccount, InsecureService, PasswordPolicyFacts
from checks.windows.read import Unreadable, check

__all__ = ["PROTOCOLS_CHECKED", "parse"]

PROTOCOLS_CHECKED = ("smbv1", "rdp_without_nla")


def _account(name: str) -> str:
    """``DOMAIN\\name`` as Get-LocalGroupMember writes it: ADSI's ``WinNT://WORKGROUP/PC/user``
    becomes ``WORKGROUP\\PC\\user``, whose first part is not the account's domain."""
    parts = name.split("\\")
    return "\\".join(parts[-2:]) if len(parts) > 2 else name


def _admins(document: Mapping[str, Any]) -> tuple[AdminAccount, ...]:
    data = check(document, "localadmins")
    computer = str(document["host"].get("ComputerName") or "").casefold()
    out: list[AdminAccount] = []
    for member in data.items("Members"):
        name = _account(member.text("Name"))
        domain, _, bare = name.rpartition("\\")
        source = member.optional_text("PrincipalSource")
        kind = member.optional_text("ObjectClass") or "member"
        reasons = [f"member of Administrators (S-1-5-32-544), {kind}"]
        if source:
            reasons.append(f"{source} {member.text('SID')}")
        aliases = (bare,) if domain and domain.casefold() == computer else ()
        out.append(AdminAccount(name=name, reasons=tuple(reasons), aliases=aliases))
    return tuple(out)


def _password(document: Mapping[str, Any]) -> PasswordPolicyFacts:
    data = check(document, "password.policy")
    length = data.number("MinimumPasswordLength")
    complexity = data.number("PasswordComplexity")
    bad = data.number("LockoutBadCount")
    duration = data.optional_number("LockoutDuration")
    max_age = data.number("MaximumPasswordAge")
    if bad and duration is None:
        raise Unreadable("password.policy: LockoutDuration missing while LockoutBadCount is set")
    seconds = None if not bad or duration is None else (0 if duration < 0 else duration * 60)
    keys: tuple[str, ...] = ("MinimumPasswordLength", "PasswordComplexity", "LockoutBadCount")
    keys += ("LockoutDuration", "ResetLockoutCount", "MaximumPasswordAge", "PasswordHistorySize")
    detail = tuple(f"secedit [System Access]: {k}={data.data.get(k)}" for k in keys)
    scope = ""
    if data.flag("PartOfDomain"):
        scope = "local accounts only: domain accounts follow the domain's password policy"
    return PasswordPolicyFacts(
        min_length=length,
        min_length_source="MinimumPasswordLength",
        complexity_classes=3 if complexity == 1 else 0,
        complexity_source=f"PasswordComplexity {complexity}",
        lockout_threshold=bad or None,
        lockout_seconds=seconds,
        lockout_source="LockoutBadCount, LockoutDuration",
        max_age_days=max_age if max_age > 0 else None,
        max_age_source="MaximumPasswordAge",
        detail=detail,
        no_lockout_reason=f"LockoutBadCount {bad}",
        scope=scope,
    )


def _insecure(document: Mapping[str, Any]) -> tuple[InsecureService, ...]:
    found: list[InsecureService] = []
    smb = check(document, "smb1")
    if smb.flag("ServerEnableSMB1Protocol"):
        found.append(InsecureService(protocol="smbv1", how="SMB1 server protocol enabled"))
    feature = smb.optional_text("SMB1FeatureState")
    if feature in ("Enabled", "Installed", "EnablePending"):
        found.append(InsecureService(protocol="smbv1", how=f"SMB1Protocol feature {feature}"))
    rdp = check(document, "rdp.nla")
    if rdp.raw("RdpEnabled") is None:
        raise Unreadable(
            "rdp.nla: fDenyTSConnections could not be read, so whether RDP is on is unknown"
        )
    if rdp.flag("RdpEnabled"):
        effective = rdp.optional_flag("NlaRequiredEffective")
        policy = rdp.optional_number("PolicyUserAuthentication")
        local = rdp.optional_number("UserAuthentication")
        if effective is None:
            effective = (policy if policy is not None else local) == 1
        if not effective:
            port = rdp.optional_number("PortNumber") or 3389
            # a value the registry does not hold is "unset", never Python's None
            shown = ["unset" if v is None else v for v in (local, policy)]
            how = (
                f"RDP enabled on port {port} without Network Level Authentication "
                f"(UserAuthentication {shown[0]}, policy {shown[1]})"
            )
            found.append(InsecureService(protocol="rdp_without_nla", how=how))
    return tuple(found)


def parse(document: Mapping[str, Any]) -> AccessFacts:
    problems: dict[str, str] = {"ssh": "SSH server settings are not collected on Windows"}
    admins = password = insecure = None
    try:
        admins = _admins(document)
    except Unreadable as exc:
        problems["admins"] = str(exc)
    try:
        password = _password(document)
    except Unreadable as exc:
        problems["password_policy"] = str(exc)
    try:
        insecure = _insecure(document)
    except Unreadable as exc:
        problems["insecure_services"] = str(exc)
    return AccessFacts(
        ssh=None,
        admins=admins,
        password_policy=password,
        insecure_services=insecure,
        protocols_checked=PROTOCOLS_CHECKED,
        problems=problems,
        names_ignore_case=True,
    )
