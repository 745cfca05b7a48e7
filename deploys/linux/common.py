"""What every Linux remedy needs: op specs, diffs, the package family and Baluarte's own login."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterable
from typing import Any, Literal

from baluarte.controls import get_control
from baluarte.findings import Status
from baluarte.remediation import Manual, OpSpec, RemedyContext
from checks.facts.patching import PatchFacts

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


def needed(
    control_id: str, facts: Any, params: Any, ctx: RemedyContext
) -> Literal[True] | Manual | None:
    """True when the control fails now; None when it passes; Manual when it cannot be judged.

    The control's own evaluator decides, so a remedy is planned exactly when the finding fails
    and a second plan after a successful apply is empty.
    """
    control = get_control(control_id)
    assert control is not None and control.evaluate is not None, control_id
    outcome = control.evaluate(facts, params, ctx.ctx)
    if outcome.status is Status.FAIL:
        return True
    if outcome.status is Status.ERROR:
        return Manual(
            text=f"Baluarte could not read what {control_id} needs ({outcome.reason}); nothing "
            "is changed until a check can read it."
        )
    return None


def _lines(text: str) -> list[str]:
    return [line + "\n" for line in text.splitlines()]


def file_diff(path: str, before: str, after: str) -> str:
    """Unified diff of a file Baluarte writes (``before`` = its content as far as known)."""
    return "".join(difflib.unified_diff(_lines(before), _lines(after), path, path))


def state_diff(label: str, before: Iterable[str], after: Iterable[str]) -> str:
    """Unified diff of a state shown as lines (settings, firewall rules), labelled now/after."""
    old = [line + "\n" for line in before]
    new = [line + "\n" for line in after]
    return "".join(difflib.unified_diff(old, new, f"{label} (now)", f"{label} (after)"))


# -- Baluarte's own way in: what lockout guards protect ----------------------------------------


def login_user(ctx: RemedyContext) -> str | None:
    """The user Baluarte logs in as over SSH; None for @local (no SSH login at all)."""
    if ctx.device.is_local:
        return None
    return ctx.device.ssh.user if ctx.device.ssh else "root"


def password_login(ctx: RemedyContext) -> bool:
    """Baluarte logs in with a password (a password set and no key)."""
    ssh = ctx.device.ssh
    return (
        not ctx.device.is_local and ssh is not None and ssh.password is not None and ssh.key is None
    )


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
