"""Patching remedies: install the pending security updates; turn automatic updates on.

apt (Debian, Ubuntu) and dnf (RHEL family, dnf 4). Updates are installed exactly as the facts
list them: on apt each package is pinned to the candidate version the check saw, so a newer
version from another origin that appeared since is not installed behind the plan's back.
"""

from __future__ import annotations

import shlex

from baluarte.remediation import Manual, Refused, Remedy, RemedyContext
from checks.facts.patching import PatchFacts, PendingUpdate
from checks.policy.base import Required
from checks.policy.patching import SecurityUpdates
from deploys.linux.common import family, file_diff, needed, op, state_diff

__all__ = ["AUTO_UPGRADES", "automatic_updates", "security_updates_pending"]

AUTO_UPGRADES = "/etc/apt/apt.conf.d/20auto-upgrades"
_AUTO_TEXT = 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n'
_SECURITY_PATTERNS = "/etc/apt/apt.conf.d/51baluarte-security"
_ORIGIN = {
    "debian": "origin=Debian,codename=${distro_codename}-security,label=Debian-Security",
    "ubuntu": "origin=Ubuntu,archive=${distro_codename}-security,label=Ubuntu",
}
_DNF_CONF = "/etc/dnf/automatic.conf"
_APT_ENV = "DEBIAN_FRONTEND=noninteractive"
_APT_OPTS = "-y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"


def _wanted(facts: PatchFacts, params: SecurityUpdates) -> tuple[PendingUpdate, ...]:
    """The updates the control counts, chosen as its evaluator chooses them."""
    pending = facts.pending or ()
    if params.origins:
        return tuple(u for u in pending if any(o in params.origins for o in u.origins))
    return tuple(u for u in pending if u.security)


def security_updates_pending(
    facts: PatchFacts, params: SecurityUpdates, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("patching.security_updates_pending", facts, params, ctx)
    if state is not True:
        return state
    wanted = _wanted(facts, params)
    # a hold (apt-mark hold) is someone's decision: never overridden, left to a technician
    held = [u.name for u in wanted if u.kept == "held"]
    updates = tuple(u for u in wanted if u.kept != "held")
    if not updates:
        return Manual(
            text=f"the pending security updates are held ({', '.join(held)}): lift the hold "
            "(apt-mark unhold) once whoever set it agrees, then install them, or waive the "
            "control with the reason for the hold"
        )
    before = [f"{u.name} {u.installed or '(new)'} → {u.candidate}" for u in updates]
    after = [f"{u.name} {u.candidate}" for u in updates]
    summary = f"install {len(updates)} pending security update{'s' if len(updates) > 1 else ''}"
    where = f" from {', '.join(params.origins)}" if params.origins else ""
    if held:
        where += f"; held, left alone: {', '.join(held)}"
    pm = family(ctx)
    if pm == "apt":
        commands: list[str] = []
        upgrades = [u for u in updates if u.installed is not None]
        new = [u for u in updates if u.installed is None]
        pinned = " ".join(shlex.quote(f"{u.name}={u.candidate}") for u in upgrades)
        if upgrades:
            commands.append(f"{_APT_ENV} apt-get install --only-upgrade {_APT_OPTS} {pinned}")
        if new:  # new packages a security update depends on (a new kernel ABI, for instance)
            added = " ".join(shlex.quote(f"{u.name}={u.candidate}") for u in new)
            commands.append(f"{_APT_ENV} apt-get install {_APT_OPTS} {added}")
        ops = (
            op(
                f"{summary}{where} (pinned to the versions checked)",
                "server",
                "shell",
                commands=commands,
            ),
        )
    elif pm == "dnf":
        names = " ".join(shlex.quote(u.name) for u in updates)
        ops = (op(summary, "server", "shell", commands=[f"dnf -y upgrade --security {names}"]),)
    else:
        return Manual(
            text="install the pending security updates with the host's package "
            "manager (no apt or dnf found): " + ", ".join(before)
        )
    return Remedy(
        summary=summary + where,
        before=f"{len(updates)} pending: " + ", ".join(before),
        after="0 pending security updates",
        diff=state_diff("security updates", before, after),
        ops=ops,
    )


def automatic_updates(
    facts: PatchFacts, params: Required, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    state = needed("patching.automatic_updates", facts, params, ctx)
    if state is not True:
        return state
    auto = facts.automatic_updates
    assert auto is not None  # the evaluator failed on it: it was read
    pm = family(ctx)
    if pm == "apt":
        return _unattended(auto.installed, auto.security_origin, auto.detail, ctx)
    if pm == "dnf":
        return _dnf_automatic(auto.detail)
    return Manual(
        text="configure automatic security updates with the host's own tool (no apt or dnf found)."
    )


def _unattended(installed: bool, security: bool, detail: str, ctx: RemedyContext) -> Remedy:
    ops = [
        op("install unattended-upgrades", "apt", "packages", packages=["unattended-upgrades"]),
        op(
            f"write {AUTO_UPGRADES}",
            "files",
            "put",
            src_text=_AUTO_TEXT,
            dest=AUTO_UPGRADES,
            mode="644",
        ),
    ]
    # the facts hold the effective values (apt-config dump), not the file: diff those
    seen = [p for p in detail.split("; ") if p.startswith("APT::Periodic::")]
    wanted = ["APT::Periodic::Unattended-Upgrade=1", "APT::Periodic::Update-Package-Lists=1"]
    diff = state_diff(f"apt-config ({AUTO_UPGRADES})", seen, wanted)
    after = "unattended-upgrades installed; Update-Package-Lists 1, Unattended-Upgrade 1"
    os_id = ctx.collected.identity.os_id.lower()
    if installed and not security and os_id in _ORIGIN:
        # the packaged 50unattended-upgrades targets the security origin; someone removed it
        text = f'Unattended-Upgrade::Origins-Pattern {{\n    "{_ORIGIN[os_id]}";\n}};\n'
        ops.append(
            op(
                f"write {_SECURITY_PATTERNS}",
                "files",
                "put",
                src_text=text,
                dest=_SECURITY_PATTERNS,
                mode="644",
            )
        )
        diff += file_diff(_SECURITY_PATTERNS, "", text)
        after += "; security origin targeted"
    return Remedy(
        summary="turn on automatic security updates (unattended-upgrades)",
        before=detail,
        after=after,
        diff=diff,
        ops=tuple(ops),
    )


def _dnf_automatic(detail: str) -> Remedy:
    settings = {"apply_updates": "yes", "upgrade_type": "security"}
    ops = [op("install dnf-automatic", "dnf", "packages", packages=["dnf-automatic"])]
    for key, value in settings.items():
        ops.append(
            op(
                f"{key} = {value} in {_DNF_CONF}",
                "files",
                "line",
                path=_DNF_CONF,
                line=f"^{key}[[:space:]]*=.*",
                replace=f"{key} = {value}",
                extended_regex=True,
            )
        )
    ops.append(
        op(
            "enable and start dnf-automatic.timer",
            "systemd",
            "service",
            service="dnf-automatic.timer",
            running=True,
            enabled=True,
        )
    )
    after = "dnf-automatic installed; apply_updates = yes, upgrade_type = security; timer on"
    return Remedy(
        summary="turn on automatic security updates (dnf-automatic)",
        before=detail,
        after=after,
        diff=state_diff(_DNF_CONF, detail.split("; "), after.split("; ")),
        ops=tuple(ops),
    )
