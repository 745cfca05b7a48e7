"""sshd remedies: PasswordAuthentication and PermitRootLogin, in Baluarte's one drop-in.

Both controls write ``/etc/ssh/sshd_config.d/50-baluarte.conf``. Each remedy replaces only its
own keys in that file and keeps the other's lines, so applying both (in either order) leaves
both settings, whatever the other control's policy says. One ``server.shell`` step writes the
drop-in, makes sure sshd_config includes it, runs ``sshd -t`` and checks with ``sshd -T`` that
the value took effect for every connection the check probed (an earlier drop-in, a line before
the Include or a Match block wins over ours: first value wins); on any failure it restores the
previous files and fails, so sshd is never reloaded with a configuration it rejects. Only then
is sshd reloaded (never stopped, restarted or disabled).
"""

from __future__ import annotations

import shlex

from baluarte.remediation import Manual, Refused, Remedy, RemedyContext
from checks.facts.access import AccessFacts, SshFacts, SshView
from checks.policy.access import ROOT_LOGIN_ORDER, RootLogin
from checks.policy.base import Required
from deploys.linux.common import (
    login_user,
    needed,
    op,
    password_login,
    state_diff,
)

__all__ = ["DROPIN", "install_script", "ssh_password_authentication", "ssh_root_login"]

DROPIN = "/etc/ssh/sshd_config.d/50-baluarte.conf"
_CONFIG = "/etc/ssh/sshd_config"
_HEADER = "# Written by Baluarte (access controls). Change the policy, not this file."
_MATCH_TEXT = (
    "a Match block in /etc/ssh/sshd_config (or a file it includes) sets {key} for connection "
    "{spec}; a drop-in cannot override it. Change {key} inside that Match block, then run "
    "`sshd -t` and `systemctl reload ssh`."
)


def install_script(settings: dict[str, str], specs: tuple[str, ...]) -> str:
    """The one shell step: write the keys into the drop-in, validate, verify, or roll back."""
    keys = "|".join(k.lower() for k in settings)
    lines = " ".join(shlex.quote(f"{k} {v}") for k, v in settings.items())
    checks: list[str] = []
    for key, value in settings.items():
        wanted = value.lower()
        if wanted == "prohibit-password":  # sshd -T prints it as its legacy alias
            wanted = "(prohibit-password|without-password)"
        for spec in specs:
            option = f" -C {shlex.quote(spec)}" if spec != "default" else ""
            culprit = (
                f"$(grep -l -i -E '^[[:space:]]*{key}[[:space:]]' {_CONFIG} "
                f"/etc/ssh/sshd_config.d/*.conf 2>/dev/null | tr '\\n' ' ')"
            )
            checks.append(
                f'"$S" -T{option} 2>/dev/null | grep -q -i -x -E {shlex.quote(f"{key} {wanted}")}'
                f' || restore "sshd -T{option} does not report {key} {value}: an earlier setting'
                f' wins (files setting {key}: {culprit})"'
            )
    return "\n".join(
        [
            f"F={DROPIN}; C={_CONFIG}",
            "restore() {",
            '  if [ -e "$F.baluarte-prev" ]; then mv -f "$F.baluarte-prev" "$F"; '
            'else rm -f "$F"; fi',
            '  if [ -e "$C.baluarte-prev" ]; then cat "$C.baluarte-prev" > "$C" && '
            'rm -f "$C.baluarte-prev"; fi',
            '  echo "baluarte: $1; previous sshd configuration restored, sshd not reloaded" >&2',
            "  exit 1",
            "}",
            'rm -f "$F.baluarte-prev" "$F.baluarte-new" "$C.baluarte-prev"',
            'mkdir -p "${F%/*}" || exit 1',
            'if [ -e "$F" ]; then cp -p "$F" "$F.baluarte-prev" || exit 1; fi',
            "{",
            f'  if [ -e "$F" ]; then grep -v -i -E "^[[:space:]]*({keys})[[:space:]]" "$F"; '
            f"else echo {shlex.quote(_HEADER)}; fi",
            f"  printf '%s\\n' {lines}",
            '} > "$F.baluarte-new" || restore "could not write $F"',
            'chmod 644 "$F.baluarte-new" && mv -f "$F.baluarte-new" "$F" || '
            'restore "could not write $F"',
            # the drop-in only counts if sshd_config includes it before its own settings
            "if ! grep -q -i -E '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\\.d/\\*"
            '\\.conf\' "$C"; then',
            '  cp -p "$C" "$C.baluarte-prev" || restore "could not back up $C"',
            "  { echo 'Include /etc/ssh/sshd_config.d/*.conf'; cat \"$C.baluarte-prev\"; } "
            '> "$C" || restore "could not add the Include line to $C"',
            "fi",
            "S=$(command -v sshd || echo /usr/sbin/sshd)",
            "mkdir -p /run/sshd",  # sshd -t needs it; Debian creates it only while ssh runs
            'out=$("$S" -t 2>&1) || restore "sshd -t rejected the configuration: $out"',
            *checks,
            'rm -f "$F.baluarte-prev" "$C.baluarte-prev"',
        ]
    )


def _service(ctx: RemedyContext) -> str:
    # Debian and Ubuntu call the unit ssh.service (sshd.service is only an alias there)
    os_id = ctx.collected.identity.os_id.lower()
    return "ssh" if os_id in ("debian", "ubuntu", "raspbian", "linuxmint") else "sshd"


def _ssh(facts: AccessFacts) -> SshFacts:
    assert facts.ssh is not None  # needed() said the control fails: the views were read
    return facts.ssh


def _remedy(
    ctx: RemedyContext, ssh: SshFacts, settings: dict[str, str], summary: str, shown: list[str]
) -> Remedy:
    specs = tuple(v.connection for v in ssh.views)
    before = [f"{v.connection}: {_show(v, shown)}" for v in ssh.views]
    after = [f"{v.connection}: {_show(v, shown, settings)}" for v in ssh.views]
    return Remedy(
        summary=summary,
        before="\n".join(before),
        after=f"{DROPIN}: " + "; ".join(f"{k} {v}" for k, v in settings.items()),
        diff=state_diff("sshd -T", before, after),
        ops=(
            op(
                f"set {', '.join(settings)} in {DROPIN}, check with sshd -t and sshd -T, "
                "roll back on failure",
                "server",
                "shell",
                commands=[install_script(settings, specs)],
            ),
            op(
                "reload sshd (only if it runs; never stopped or restarted)",
                "systemd",
                "service",
                service=_service(ctx),
                running=None,
                reloaded=True,
            ),
        ),
    )


def _show(view: SshView, keys: list[str], new: dict[str, str] | None = None) -> str:
    values = {
        "PasswordAuthentication": "yes" if view.password_authentication else "no",
        "KbdInteractiveAuthentication": "yes" if view.kbd_interactive_authentication else "no",
        "PermitRootLogin": view.permit_root_login,
    }
    values |= new or {}
    return ", ".join(f"{k.lower()} {values[k]}" for k in keys)


def _how(ctx: RemedyContext) -> str:
    method = ctx.collected.identity.login_method
    if not method:
        return "used a method Baluarte could not see (so it may be a password)"
    return f"used {method} authentication, not a key"


def ssh_password_authentication(
    facts: AccessFacts, params: Required, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    """PasswordAuthentication no and KbdInteractiveAuthentication no (PAM would ask too)."""
    state = needed("access.ssh_password_authentication", facts, params, ctx)
    if state is not True:
        return state
    ssh = _ssh(facts)
    settings = {"PasswordAuthentication": "no", "KbdInteractiveAuthentication": "no"}
    if password_login(ctx):
        return Refused(
            summary="turn off SSH password logins (sshd drop-in)",
            reason=f"Baluarte's own login to this device {_how(ctx)}: turning password logins "
            "off would lock Baluarte out. Give the device an ssh.key the host accepts first.",
        )
    default = next((v for v in ssh.views if v.connection == "default"), None)
    for view in ssh.views:
        if view is default or default is None:
            continue
        if view.password_authentication and not default.password_authentication:
            return Manual(
                text=_MATCH_TEXT.format(key="PasswordAuthentication", spec=view.connection)
            )
        if view.kbd_interactive_authentication and not default.kbd_interactive_authentication:
            return Manual(
                text=_MATCH_TEXT.format(key="KbdInteractiveAuthentication", spec=view.connection)
            )
    return _remedy(
        ctx,
        ssh,
        settings,
        "turn off SSH password logins (sshd drop-in)",
        list(settings),
    )


def ssh_root_login(
    facts: AccessFacts, params: RootLogin, ctx: RemedyContext
) -> Remedy | Manual | Refused | None:
    """PermitRootLogin set to the policy's most permissive accepted value."""
    state = needed("access.ssh_root_login", facts, params, ctx)
    if state is not True:
        return state
    ssh = _ssh(facts)
    target = params.allowed
    worst = max(ssh.views, key=lambda v: ROOT_LOGIN_ORDER.index(v.permit_root_login))
    summary = f"restrict SSH root login: PermitRootLogin {worst.permit_root_login} → {target}"
    if login_user(ctx) == "root":
        if target in ("no", "forced-commands-only"):
            return Refused(
                summary=summary,
                reason=f"Baluarte logs in to this device as root: PermitRootLogin {target} "
                "would lock Baluarte out. Log in as another user with ssh.sudo: true first.",
            )
        if password_login(ctx):
            return Refused(
                summary=summary,
                reason=f"Baluarte logs in as root and its login {_how(ctx)}: PermitRootLogin "
                "prohibit-password would lock Baluarte out. Give the device an ssh.key the "
                "host accepts first.",
            )
    limit = ROOT_LOGIN_ORDER.index(target)
    default = next((v for v in ssh.views if v.connection == "default"), None)
    for view in ssh.views:
        if default is None or view is default:
            continue
        mine = ROOT_LOGIN_ORDER.index(view.permit_root_login)
        if mine > limit and view.permit_root_login != default.permit_root_login:
            return Manual(text=_MATCH_TEXT.format(key="PermitRootLogin", spec=view.connection))
    return _remedy(ctx, ssh, {"PermitRootLogin": target}, summary, ["PermitRootLogin"])
