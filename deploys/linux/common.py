"""What every Linux remedy needs: op specs, diffs, the package family and Baluarte's own login."""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from baluarte.remediation import OpSpec, RemedyContext
from checks.facts.patching import PatchFacts
from deploys.common import file_diff, needed, state_diff

__all__ = [
    "Family",
    "family",
    "file_diff",
    "login_user",
    "needed",
    "op",
    "password_login",
    "peer",
    "ssh_port",
    "state_diff",
]

Family = Literal["apt", "dnf"]
_DNF_IDS = ("rhel", "rocky", "almalinux", "centos", "fedora", "ol")


def op(name: str, module: str, function: str, **kwargs: Any) -> OpSpec:
    return OpSpec(name=name, module=module, function=function, kwargs=kwargs)


def family(ctx: RemedyContext) -> Family | None:
    """The package manager, from the patching facts, else from the OS id."""
    patching = ctx.collected.facts.get("patching")
    if isinstance(patching, PatchFacts) and patching.package_manager in ("apt", "dnf"):
        return "apt" if patching.package_manager == "apt" else "dnf"
    os_id = ctx.collected.identity.os_id.lower()
    if os_id in ("debian", "ubuntu", "raspbian", "linuxmint"):
        return "apt"
    if os_id in _DNF_IDS:
        return "dnf"
    return None


# -- Baluarte's own way in: what lockout guards protect ----------------------------------------


def login_user(ctx: RemedyContext) -> str | None:
    """The user Baluarte logs in as over SSH; None for @local (no SSH login at all)."""
    if ctx.device.is_local:
        return None
    return ctx.device.ssh.user if ctx.device.ssh else "root"


def password_login(ctx: RemedyContext) -> bool:
    """Baluarte's login to this device was not by key (or it cannot tell): the way it got in on
    this very connection decides, not what the inventory offers (a key that the host refused
    leaves the password doing the work)."""
    if ctx.device.is_local:
        return False
    return ctx.collected.identity.login_method != "publickey"


def ssh_port(ctx: RemedyContext) -> int:
    ssh = ctx.device.ssh
    return (ssh.port if ssh and ssh.port else None) or ctx.device.port or 22


def peer(ctx: RemedyContext) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Baluarte's address as the host sees the SSH connection; None when unknown."""
    text = ctx.collected.identity.peer.strip()
    try:
        return ipaddress.ip_address(text.removeprefix("::ffff:")) if text else None
    except ValueError:
        return None
