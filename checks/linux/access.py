"""Parse what ``access.sh`` fetched from a Linux host into AccessFacts (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from checks.facts.access import (
    AccessFacts,
    AdminAccount,
    InsecureService,
    PasswordPolicyFacts,
    SshFacts,
    SshView,
)
from checks.linux.access_listeners import unread_listener
from checks.linux.access_pam import SERVICES, judge_service, pam_files
from checks.linux.access_sudo import accounts_from, framed, parse_paths, parse_sudo, root_reason
from checks.linux.raw import out

__all__ = [
    "parse",
    "parse_admins",
    "parse_insecure",
    "parse_password_policy",
    "parse_sshd",
    "ssh_server_elsewhere",
]

# sshd -T prints prohibit-password as its legacy alias without-password
_ROOT_LOGIN = {"without-password": "prohibit-password"} | {
    v: v for v in ("no", "forced-commands-only", "prohibit-password", "yes")
}
PRIVILEGED_GROUPS = ("sudo", "wheel", "admin")


# -- sshd -------------------------------------------------------------------------------------


def _view(spec: str, lines: list[str]) -> SshView:
    values: dict[str, str] = {}
    for line in lines:
        key, _, value = line.strip().partition(" ")
        values[key.lower()] = value.strip()
    needed = ("passwordauthentication", "permitrootlogin")
    missing = [k for k in needed if k not in values]
    if missing:
        raise ValueError(f"sshd -T printed no {', '.join(missing)} for {spec}")
    root = _ROOT_LOGIN.get(values["permitrootlogin"].lower())
    if root is None:
        raise ValueError(f"unknown PermitRootLogin value {values['permitrootlogin']!r}")
    return SshView(
        connection=spec,
        password_authentication=values["passwordauthentication"].lower() == "yes",
        kbd_interactive_authentication=values.get("kbdinteractiveauthentication", "no").lower()
        == "yes",
        use_pam=values.get("usepam", "no").lower() == "yes",
        permit_root_login=root,
        authentication_methods=values.get("authenticationmethods", "any"),
    )


def _unenterable(matches: str) -> tuple[str, ...]:
    """Match lines the probe cannot enter on purpose: negated or wildcard values."""
    out: list[str] = []
    for line in matches.splitlines():
        _, _, text = line.partition(": ")
        if re.search(r"[!*?]", text):
            out.append(line.strip())
    return tuple(out)


def parse_sshd(text: str, rc: int, matches: str = "") -> SshFacts:
    """The ``@@spec``/``@@rc`` sections of ``ac_sshd`` → SshFacts. Raises ValueError."""
    if rc == 127 and "sshd not installed" in text:
        return SshFacts(installed=False)
    sections = [(spec, body, int(rc or -1)) for spec, body, rc in framed(text, "spec")]
    if not sections or sections[0][0] != "default":
        raise ValueError(f"sshd -T gave no output (exit {rc}): {text.strip()[-200:]}")
    views: list[SshView] = []
    for spec_name, body, status in sections:
        if status != 0:
            tail = " / ".join(line.strip() for line in body[-2:]) or "no message"
            probe = "sshd -T" if spec_name == "default" else f"sshd -T -C {spec_name}"
            raise ValueError(f"{probe} failed (exit {status}): {tail}")
        views.append(_view(spec_name, body))
    return SshFacts(installed=True, views=tuple(views), unchecked_matches=_unenterable(matches))


_SSH_PORT = 22
_SSH_DAEMONS = ("sshd", "dropbear", "tinysshd", "lshd")
_SSH_PACKAGES = (
    "openssh-server", "dropbear", "dropbear-bin", "dropbear-run", "tinysshd", "lsh-server",
)  # fmt: skip


def _ssh_listeners(listening: str) -> list[str]:
    """TCP listeners on the SSH port or run by an SSH daemon (names need root to be shown)."""
    found: list[str] = []
    for line in listening.splitlines():
        parts = line.split()
        if len(parts) < 5 or parts[0] != "tcp":
            continue
        port = parts[4].rpartition(":")[2]
        procs = re.findall(r'\("([^"]+)"', line)
        if port == str(_SSH_PORT) or any(p in _SSH_DAEMONS for p in procs):
            who = ", ".join(procs) or "a service"
            found.append(f"{who} listening on {parts[4]}")
    return found


def _ssh_packages(packages: str) -> list[str]:
    found: list[str] = []
    for line in packages.splitlines():
        name, _, status = line.partition("\t")
        if name in _SSH_PACKAGES and len(status) >= 2 and status[1] == "i":
            found.append(f"package {name} installed")
    return found


def ssh_server_elsewhere(raw: dict[str, Any], host: dict[str, Any]) -> str | None:
    """With no sshd binary found: why the SSH controls still cannot be called not applicable
    (an SSH server Baluarte cannot read, or what could not be looked at); None when it is
    proven that no SSH server runs: nothing listening on port 22 or run by an SSH daemon, no
    SSH server package, and the collection did not come in over SSH."""
    found: list[str] = []
    unread: list[str] = []
    listening, listening_rc = out(raw, "listening")
    if listening_rc == 0:
        found += _ssh_listeners(listening)
    else:
        unread.append(_failure("ss -ltun", listening, listening_rc))
    packages, packages_rc = out(raw, "packages")
    if packages_rc == 0 and "@@" in packages:
        found += _ssh_packages(packages)
    else:
        unread.append(_failure("the package query", packages, packages_rc))
    peer = out(host, "peer")[0].strip()
    if peer:
        found.append(f"this collection came in over SSH (from {peer})")
    none = "no OpenSSH sshd on PATH or at /usr/sbin/sshd"
    if found:
        return (
            f"{none}, but an SSH server is there: {'; '.join(found)}. Baluarte reads SSH "
            "settings only through OpenSSH's sshd -T, so this server's cannot be checked"
        )
    if unread:
        return f"{none}, and whether another SSH server runs cannot be told: {'; '.join(unread)}"
    return None


# -- privileged accounts ----------------------------------------------------------------------

_MAX_SUDO_REASONS = 4  # per account; the rest are counted, every rule is in the evidence


def parse_admins(
    passwd: str, groups: str, sudo: str, paths: str = ""
) -> tuple[tuple[AdminAccount, ...], tuple[str, ...]]:
    """UID 0 accounts, members of sudo/wheel/admin and accounts sudo lets become root.

    Returns the privileged accounts and the evidence notes on the rest: sudo rules judged not
    root-equivalent (with why), or that sudo is not installed. Raises ValueError when the
    accounts or sudo's answers cannot be read.
    """
    accounts = accounts_from(passwd, groups)
    reasons: dict[str, list[str]] = {}
    for name, uid in accounts.uid.items():
        if uid == 0:
            reasons.setdefault(name, []).append("UID 0")
    for group in PRIVILEGED_GROUPS:
        gid = accounts.group_gid.get(group)
        for name in sorted(accounts.members.get(gid, set()) if gid is not None else ()):
            reasons.setdefault(name, []).append(f"member of {group}")
    if "@@no-sudo" in sudo.splitlines():
        return _admins(reasons), ("sudo is not installed, so no sudo rule grants root",)
    rules, failed = parse_sudo(sudo)
    if failed:
        first = next(iter(failed.values()))
        more = f" (and {len(failed) - 1} more accounts)" if len(failed) > 1 else ""
        raise ValueError(first + more)
    missing = sorted(set(accounts.uid) - set(rules))
    if missing:
        raise ValueError(f"sudo -l gave no answer for {', '.join(missing[:5])}")
    info, targets = parse_paths(paths)
    notes: list[str] = []
    for name in sorted(rules):
        granted: list[str] = []
        for rule in rules[name]:
            root, why = root_reason(name, rule, accounts, info, targets)
            if root:
                granted.append(f"sudo: {rule.show()} — {why}")
            else:
                notes.append(f"{name}: sudo {rule.show()} — {why}")
        if len(granted) > _MAX_SUDO_REASONS:
            extra = len(granted) - _MAX_SUDO_REASONS
            granted = [*granted[:_MAX_SUDO_REASONS], f"and {extra} more root sudo rules"]
        if granted:
            reasons.setdefault(name, []).extend(granted)
    return _admins(reasons), tuple(notes)


def _admins(reasons: dict[str, list[str]]) -> tuple[AdminAccount, ...]:
    return tuple(
        AdminAccount(name=name, reasons=tuple(dict.fromkeys(why)))
        for name, why in sorted(reasons.items())
    )


# -- password policy --------------------------------------------------------------------------

_PAM_LINE = re.compile(r"^-?(?P<type>\w+)\s+(?:\[[^\]]*\]|\S+)\s+(?P<module>\S+)\s*(?P<args>.*)$")
_PWQUALITY_DEFAULTS = {"minlen": 8, "dcredit": 0, "ucredit": 0, "lcredit": 0, "ocredit": 0,
                       "minclass": 0, "enforcing": 1}  # fmt: skip
_PAM_UNIX_MINLEN = 6  # Linux-PAM's pam_unix default when no minlen= is given
# where the distributions keep the password-changing stack (Debian; RHEL and SUSE)
_PASSWORD_FILES = ("common-password", "common-auth", "system-auth", "password-auth")


def _sections(text: str) -> list[tuple[str, list[str]]]:
    """``== path`` headed output → [(path, lines)], comments already dropped by the fragment."""
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("== "):
            out.append((line[3:].strip(), []))
        elif out and line.strip() and not line.lstrip().startswith("#"):
            out[-1][1].append(line.strip())
    return out


def _int(value: str, what: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ValueError(f"{what} is not a number: {value.strip()!r}") from None


def _key_values(lines: list[str], sep: str = "=") -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        key, has_sep, value = line.partition(sep)
        out[key.strip()] = value.strip() if has_sep else ""
    return out


def _pam_modules(pam: str) -> list[tuple[str, str, str, dict[str, str]]]:
    """(file, type, module basename, args) for every PAM rule read."""
    rules: list[tuple[str, str, str, dict[str, str]]] = []
    for path, lines in _sections(pam):
        for line in lines:
            m = _PAM_LINE.match(line)
            if not m:
                continue
            args = _key_values(m["args"].split())
            rules.append((path, m["type"].lower(), m["module"].rpartition("/")[2], args))
    return rules


def _pwquality(pwquality: str, rules: list[tuple[str, str, str, dict[str, str]]],
               detail: list[str]) -> tuple[dict[str, int], str] | None:  # fmt: skip
    """Effective pwquality settings when pam_pwquality is in a password stack and enforcing."""
    rule = next((r for r in rules if r[1] == "password" and r[2] in
                 ("pam_pwquality.so", "pam_cracklib.so")), None)  # fmt: skip
    if rule is None:
        return None
    settings = dict(_PWQUALITY_DEFAULTS)
    origin = {k: "default" for k in settings}
    for path, lines in _sections(pwquality):  # conf.d first, then pwquality.conf: later wins
        for key, value in _key_values(lines).items():
            if key in settings:
                settings[key] = _int(value, f"{path}: {key}")
                origin[key] = path
                detail.append(f"{path}: {key}={value}")
    for key, value in rule[3].items():  # module arguments override the files
        if key in settings:
            settings[key] = _int(value, f"{rule[0]}: {rule[2]} {key}")
            origin[key] = f"{rule[0]} ({rule[2]})"
            detail.append(f"{rule[0]}: {rule[2]} {key}={value}")
    if settings["enforcing"] == 0:
        detail.append(f"{origin['enforcing']}: enforcing=0 (pwquality only warns)")
        return None
    return settings, f"{rule[2]} in {rule[0]} (minlen from {origin['minlen']})"


@dataclass(frozen=True)
class _Lockout:
    threshold: int | None = None
    seconds: int | None = None
    source: str = ""
    reason: str = ""  # why there is no lockout
    undetermined: str = ""  # why it cannot be told
    detail: tuple[str, ...] = ()


def _lockout(pam: str, faillock: str, ssh: SshFacts | None) -> _Lockout:
    """The weakest lockout among the services a password is typed into (access_pam.SERVICES)."""
    files = pam_files(pam)
    conf: dict[str, str] = {}
    for _, lines in _sections(faillock):
        conf |= _key_values(lines)
    judged = [judge_service(files, conf, service) for service in SERVICES]
    detail = tuple(f"{j.service}: {j.stack}: {j.why}" for j in judged)
    detail += tuple(s for j in judged for s in j.settings)
    open_ = [j for j in judged if j.state != "closed"]
    # sshd checking passwords itself (UsePAM no) never consults PAM: nothing locks SSH logins
    for view in ssh.views if ssh is not None and ssh.installed else ():
        if view.password_authentication and not view.use_pam:
            reason = (
                f"sshd checks passwords itself (UsePAM no, PasswordAuthentication yes) for"
                f" {view.connection}: no PAM lockout applies to SSH logins"
            )
            return _Lockout(reason=reason, detail=detail)
    weak: dict[str, list[str]] = {}  # why -> the services it holds for
    for j in open_:
        if j.state == "no_lockout":
            weak.setdefault(j.why, []).append(j.service)
    if weak:
        reason = "; ".join(
            f"PAM service{'s' if len(names) > 1 else ''} {', '.join(names)}: {why}"
            for why, names in weak.items()
        )
        return _Lockout(reason=reason, detail=detail)
    unsure = next((j for j in open_ if j.state == "undetermined"), None)
    if unsure is not None:
        why = f"PAM service {unsure.service}: {unsure.why}"
        return _Lockout(undetermined=why, detail=detail)
    if not open_:
        why = f"no service among {', '.join(SERVICES)} accepts a correct password"
        return _Lockout(undetermined=why, detail=detail)
    weakest = max(open_, key=lambda j: (j.threshold or 0, -(j.seconds or 10**9)))
    seconds = [j.seconds for j in open_ if j.seconds is not None]
    shortest = min(seconds, key=lambda v: v or 10**9) if seconds else None
    names = ", ".join(j.service for j in open_)
    source = f"PAM auth stacks of {names} (weakest: {weakest.service})"
    return _Lockout(weakest.threshold, shortest, source, detail=detail)


def parse_password_policy(
    pwquality: str, pam: str, faillock: str, login_defs: str, ssh: SshFacts | None = None
) -> PasswordPolicyFacts:
    """pwquality, the PAM password stack, the login services' auth stacks as PAM runs them,
    faillock and login.defs → what is enforced. ``ssh`` tells whether sshd hands its password
    logins to PAM at all."""
    rules = [r for r in _pam_modules(pam) if r[0].rpartition("/")[2] in _PASSWORD_FILES]
    if not rules:
        raise ValueError("no PAM configuration found (common-password/common-auth or system-auth)")
    detail: list[str] = []
    min_length: int | None = None
    source = ""
    classes = 0
    complexity_source = ""
    quality = _pwquality(pwquality, rules, detail)
    if quality is not None:
        q, source = quality
        # positive credits let each character of a class count as one more: shorter passwords pass
        credit = sum(max(0, q[k]) for k in ("dcredit", "ucredit", "lcredit", "ocredit"))
        min_length = max(6, q["minlen"]) - credit  # pwquality raises minlen below 6 to 6
        if credit:
            source += f"; minlen {q['minlen']} less {credit} positive credits"
        required = sum(1 for k in ("dcredit", "ucredit", "lcredit", "ocredit") if q[k] < 0)
        classes = max(q["minclass"], required)
        complexity_source = f"minclass={q['minclass']}, {required} classes required by credits"
    unix = next((r for r in rules if r[1] == "password" and r[2] == "pam_unix.so"), None)
    if unix is not None:
        unix_min = _int(unix[3].get("minlen", str(_PAM_UNIX_MINLEN)), f"{unix[0]}: minlen")
        if min_length is None or unix_min > min_length:
            min_length, source = unix_min, f"pam_unix.so in {unix[0]}"

    lockout = _lockout(pam, faillock, ssh)
    detail += lockout.detail

    max_age: int | None = None
    for line in login_defs.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "PASS_MAX_DAYS":
            days = _int(words[1], "PASS_MAX_DAYS")
            max_age = days if 0 < days < 99999 else None  # 99999 is "never" by convention
            detail.append(f"/etc/login.defs: PASS_MAX_DAYS {words[1]}")
        elif len(words) >= 2 and words[0] == "PASS_MIN_LEN":
            # obsolete where PAM is used: only recorded
            detail.append(f"/etc/login.defs: PASS_MIN_LEN {words[1]} (not used with PAM)")
    return PasswordPolicyFacts(
        min_length=min_length,
        min_length_source=source,
        complexity_classes=classes,
        complexity_source=complexity_source,
        lockout_threshold=lockout.threshold,
        lockout_seconds=lockout.seconds,
        lockout_source=lockout.source,
        no_lockout_reason=lockout.reason,
        lockout_undetermined=lockout.undetermined,
        max_age_days=max_age,
        detail=tuple(dict.fromkeys(detail)),
    )


# -- insecure management protocols ------------------------------------------------------------

_TCP_PORTS = {23: "telnet", 21: "ftp", 513: "rlogin", 514: "rsh", 512: "rsh"}
_UDP_PORTS = {69: "ftp"}  # TFTP: unauthenticated file transfer


def _by_protocol(names: dict[str, str]) -> dict[str, str]:
    return {name: protocol for protocol, words in names.items() for name in words.split()}


_DAEMONS = _by_protocol({
    "telnet": "in.telnetd telnetd", "rsh": "in.rshd rshd in.rexecd", "rlogin": "in.rlogind rlogind",
    "ftp": "vsftpd proftpd pure-ftpd in.ftpd ftpd in.tftpd atftpd",
})  # fmt: skip
_PACKAGES = _by_protocol({
    "telnet": "telnetd inetutils-telnetd telnetd-ssl telnet-server krb5-telnetd",
    "rsh": "rsh-server rsh-redone-server inetutils-rshd rsh-redone-rshd krb5-rsh-server",
    "rlogin": "rlogind",
    "ftp": "vsftpd proftpd proftpd-basic proftpd-core pure-ftpd pure-ftpd-mysql inetutils-ftpd"
    " pure-ftpd-postgresql pure-ftpd-ldap ftpd ftpd-ssl tftpd tftpd-hpa atftpd tftp-server",
})  # fmt: skip
_INETD_SERVICES = {
    "telnet": "telnet", "ftp": "ftp", "tftp": "ftp", "shell": "rsh", "exec": "rsh",
    "login": "rlogin",
}  # fmt: skip
LINUX_PROTOCOLS = ("telnet", "ftp", "rsh", "rlogin")


def _listening(text: str) -> list[InsecureService]:
    found: list[InsecureService] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 5 or parts[0] not in ("tcp", "udp"):
            continue
        local = parts[4]
        port_text = local.rpartition(":")[2]
        port = int(port_text) if port_text.isdigit() else -1
        procs = re.findall(r'\("([^"]+)"', line)
        by_port = (_TCP_PORTS if parts[0] == "tcp" else _UDP_PORTS).get(port)
        by_name = next((_DAEMONS[p] for p in procs if p in _DAEMONS), None)
        protocol = by_name or by_port
        if protocol:
            who = f" ({', '.join(procs)})" if procs else ""
            found.append(
                InsecureService(protocol=protocol, how=f"listening on {parts[0]} {local}{who}")
            )
    return found


def _installed(text: str) -> list[InsecureService]:
    found: list[InsecureService] = []
    for line in text.splitlines():
        name, _, status = line.partition("\t")
        # dpkg's abbreviated status: desired, then current state; "i" = installed
        if name in _PACKAGES and len(status) >= 2 and status[1] == "i":
            found.append(InsecureService(protocol=_PACKAGES[name], how=f"package {name} installed"))
    return found


def _inetd(text: str) -> list[InsecureService]:
    found: list[InsecureService] = []
    path, service, disabled = "", "", False

    def close() -> None:
        if service in _INETD_SERVICES and not disabled:
            found.append(
                InsecureService(
                    protocol=_INETD_SERVICES[service], how=f"xinetd service {service} ({path})"
                )
            )

    for line in text.splitlines():
        if line.startswith("== "):
            close()
            path, service, disabled = line[3:].strip(), "", False
            continue
        words = line.split()
        if not words:
            continue
        if path.endswith("/inetd.conf"):
            name = words[0].split(":")[-1]
            if name in _INETD_SERVICES:
                found.append(
                    InsecureService(
                        protocol=_INETD_SERVICES[name], how=f"inetd entry {name} ({path})"
                    )
                )
        elif words[0] == "service" and len(words) > 1:
            close()
            service, disabled = words[1], False
        elif words[0] == "disable" and "yes" in words:
            disabled = True
    close()
    return found


def parse_insecure(listening: str, packages: str, inetd: str) -> tuple[InsecureService, ...]:
    found = _listening(listening) + _installed(packages) + _inetd(inetd)
    return tuple(dict.fromkeys(found))


# -- the domain -------------------------------------------------------------------------------


def _failure(what: str, text: str, rc: int) -> str:
    tail = " / ".join(text.strip().splitlines()[-2:]) or "no output"
    return f"{what} failed (exit {rc}): {tail}"


def parse(raw: dict[str, Any], host: dict[str, Any]) -> AccessFacts:
    """``raw`` is the document's ``access`` member, ``host`` its ``host`` member."""
    problems: dict[str, str] = {}

    ssh: SshFacts | None = None
    text, rc = out(raw, "sshd")
    try:
        ssh = parse_sshd(text, rc, out(raw, "matches")[0])
    except ValueError as exc:
        problems["ssh"] = str(exc)
    if ssh is not None and not ssh.installed:
        # "no sshd binary" alone is not "no SSH server": dropbear, or sshd at another path
        elsewhere = ssh_server_elsewhere(raw, host)
        if elsewhere:
            ssh, problems["ssh"] = None, elsewhere
    elif ssh is not None and (other := unread_listener(out(raw, "sshd_running")[0])):
        ssh, problems["ssh"] = None, other  # a listener serves settings sshd -T did not read

    admins: tuple[AdminAccount, ...] | None = None
    notes: tuple[str, ...] = ()
    passwd, passwd_rc = out(raw, "passwd")
    groups, groups_rc = out(raw, "groups")
    sudo, sudo_rc = out(raw, "sudo")
    if passwd_rc != 0 or groups_rc != 0:
        problems["admins"] = _failure(
            "getent passwd" if passwd_rc else "getent group",
            passwd if passwd_rc else groups,
            passwd_rc or groups_rc,
        )
    elif sudo_rc != 0:
        problems["admins"] = _failure("asking sudo -l -U for each account", sudo, sudo_rc)
    else:
        try:
            admins, notes = parse_admins(passwd, groups, sudo, out(raw, "sudo_paths")[0])
        except ValueError as exc:
            problems["admins"] = str(exc)

    policy = None
    try:
        policy = parse_password_policy(
            out(raw, "pwquality")[0],
            out(raw, "pam")[0],
            out(raw, "faillock")[0],
            out(raw, "login_defs")[0],
            ssh,
        )
    except ValueError as exc:
        problems["password_policy"] = str(exc)

    insecure: tuple[InsecureService, ...] | None = None
    listening, listening_rc = out(raw, "listening")
    packages, packages_rc = out(raw, "packages")
    if listening_rc != 0:
        problems["insecure_services"] = _failure("ss -ltun", listening, listening_rc)
    elif packages_rc != 0 or "@@" not in packages:
        problems["insecure_services"] = _failure("the package query", packages, packages_rc)
    else:
        insecure = parse_insecure(listening, packages, out(raw, "inetd")[0])

    return AccessFacts(
        ssh=ssh,
        admins=admins,
        admin_notes=notes,
        password_policy=policy,
        insecure_services=insecure,
        protocols_checked=LINUX_PROTOCOLS,
        problems=problems,
    )
