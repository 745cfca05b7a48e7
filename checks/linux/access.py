"""Parse what ``access.sh`` fetched from a Linux host into AccessFacts (pure)."""

from __future__ import annotations

import re
from typing import Any

from checks.facts.access import (
    AccessFacts,
    AdminAccount,
    InsecureService,
    PasswordPolicyFacts,
    SshFacts,
    SshView,
)
from checks.linux.raw import out

__all__ = ["parse", "parse_admins", "parse_insecure", "parse_password_policy", "parse_sshd"]

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
    sections: list[tuple[str, list[str], int]] = []
    spec: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("@@spec "):
            spec, lines = line.removeprefix("@@spec ").strip(), []
        elif line.startswith("@@rc ") and spec is not None:
            sections.append((spec, lines, int(line.removeprefix("@@rc ").strip() or -1)))
            spec = None
        elif spec is not None:
            lines.append(line)
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


# -- privileged accounts ----------------------------------------------------------------------


def _logical_lines(text: str) -> list[tuple[str, str]]:
    """sudoers → (file, line) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    current_file, pending = "", ""
    for line in text.splitlines():
        if line.startswith("== "):
            current_file = line[3:].strip()
            continue
        stripped = line.strip()
        # "#1000" at the start of a rule is a uid, "#include" a directive, the rest comments
        if stripped.startswith("#") and not re.match(r"#(include(dir)?\s|\d)", stripped):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        if full:
            out.append((current_file, full))
    return out


_NOT_SPECS = re.compile(r"^(Defaults|Cmnd_Alias|Host_Alias|Runas_Alias|User_Alias|[#@]include)")


def _sudoers_grants(text: str) -> list[tuple[str, str]]:
    """(principal, where) for every sudoers rule that may run ALL commands."""
    aliases: dict[str, list[str]] = {}
    grants: list[tuple[str, str]] = []
    for path, line in _logical_lines(text):
        if line.startswith("User_Alias"):
            for part in line.removeprefix("User_Alias").split(":"):
                name, _, members = part.partition("=")
                aliases[name.strip()] = [m.strip() for m in members.split(",") if m.strip()]
            continue
        if _NOT_SPECS.match(line) or "=" not in line:
            continue
        who, _, rest = line.partition("=")
        users = who.split()[0] if who.split() else ""
        # after '=': optional (runas), tags such as NOPASSWD:, then the commands
        for block in re.split(r":\s*\S+\s*=", rest):
            block = re.sub(r"\([^)]*\)", " ", block)
            block = re.sub(r"\b[A-Z_]+:", " ", block)
            if any(cmd.strip() == "ALL" for cmd in block.split(",")):
                for principal in users.split(","):
                    for name in aliases.get(principal.strip(), [principal.strip()]):
                        grants.append((name, path))
                break
    return grants


def parse_admins(passwd: str, groups: str, sudoers: str | None) -> tuple[AdminAccount, ...]:
    """UID 0 accounts, members of sudo/wheel/admin and sudoers ALL grants, by account."""
    users: dict[str, tuple[int, int]] = {}
    for line in passwd.splitlines():
        parts = line.split(":")
        if len(parts) >= 3 and parts[1].isdigit() and parts[2].isdigit():
            users.setdefault(parts[0], (int(parts[1]), int(parts[2])))
    if not users:
        raise ValueError("getent passwd listed no accounts")
    members: dict[str, set[str]] = {}
    gids: dict[str, int] = {}
    for line in groups.splitlines():
        parts = line.split(":")
        if len(parts) >= 3 and parts[1].isdigit():
            gids.setdefault(parts[0], int(parts[1]))
            members.setdefault(parts[0], {m for m in parts[2].split(",") if m})

    def group_members(group: str) -> set[str]:
        gid = gids.get(group)
        primary = {u for u, (_, g) in users.items() if gid is not None and g == gid}
        return members.get(group, set()) | primary

    reasons: dict[str, list[str]] = {}
    for name, (uid, _) in users.items():
        if uid == 0:
            reasons.setdefault(name, []).append("UID 0")
    for group in PRIVILEGED_GROUPS:
        for name in sorted(group_members(group)):
            reasons.setdefault(name, []).append(f"member of {group}")
    by_uid = {str(uid): u for u, (uid, _) in users.items()}
    for principal, where in _sudoers_grants(sudoers or ""):
        if principal.startswith("%") and not principal.startswith("%:"):
            group = principal[1:]
            for name in sorted(group_members(group)):
                reason = f"sudo ALL via %{group} ({where})"
                if group not in PRIVILEGED_GROUPS:
                    reasons.setdefault(name, []).append(reason)
        elif principal == "ALL":
            for name in sorted(users):
                reasons.setdefault(name, []).append(f"sudo ALL granted to ALL users ({where})")
        elif principal.startswith("#") and principal[1:].isdigit():
            name = by_uid.get(principal[1:], principal)
            reasons.setdefault(name, []).append(f"sudo ALL ({where})")
        elif principal and not principal.startswith("!"):
            reasons.setdefault(principal, []).append(f"sudo ALL ({where})")
    return tuple(
        AdminAccount(name=name, reasons=tuple(dict.fromkeys(why)))
        for name, why in sorted(reasons.items())
    )


# -- password policy --------------------------------------------------------------------------

_PAM_LINE = re.compile(r"^-?(?P<type>\w+)\s+(?:\[[^\]]*\]|\S+)\s+(?P<module>\S+)\s*(?P<args>.*)$")
_PWQUALITY_DEFAULTS = {"minlen": 8, "dcredit": 0, "ucredit": 0, "lcredit": 0, "ocredit": 0,
                       "minclass": 0, "enforcing": 1}  # fmt: skip
_PAM_UNIX_MINLEN = 6  # Linux-PAM's pam_unix default when no minlen= is given
_FAILLOCK_DEFAULTS = {"deny": 3, "unlock_time": 600}


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


def parse_password_policy(
    pwquality: str, pam: str, faillock: str, login_defs: str
) -> PasswordPolicyFacts:
    """pwquality, the PAM password and auth stacks, faillock and login.defs → what is enforced."""
    rules = _pam_modules(pam)
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

    threshold: int | None = None
    seconds: int | None = None
    lockout_source = ""
    lock = next((r for r in rules if r[1] == "auth" and r[2] in
                 ("pam_faillock.so", "pam_tally2.so")), None)  # fmt: skip
    if lock is not None:
        settings: dict[str, str] = {k: str(v) for k, v in _FAILLOCK_DEFAULTS.items()}
        if lock[2] == "pam_faillock.so":
            for path, lines in _sections(faillock):
                for key, value in _key_values(lines).items():
                    if key in settings:
                        settings[key] = value
                        detail.append(f"{path}: {key}={value}")
        for path, _, module, args in rules:
            if module == lock[2]:
                for key in settings.keys() & args.keys():
                    settings[key] = args[key]
                    detail.append(f"{path}: {module} {key}={args[key]}")
        deny = _int(settings["deny"], "deny")
        if deny > 0:
            threshold = deny
            unlock = settings["unlock_time"].strip()
            seconds = 0 if unlock == "never" else _int(unlock, "unlock_time")
            lockout_source = f"{lock[2]} in {lock[0]}"

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
        lockout_threshold=threshold,
        lockout_seconds=seconds,
        lockout_source=lockout_source,
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

    admins: tuple[AdminAccount, ...] | None = None
    passwd, passwd_rc = out(raw, "passwd")
    groups, groups_rc = out(raw, "groups")
    sudoers, sudoers_rc = out(raw, "sudoers")
    if passwd_rc != 0 or groups_rc != 0:
        problems["admins"] = _failure(
            "getent passwd" if passwd_rc else "getent group",
            passwd if passwd_rc else groups,
            passwd_rc or groups_rc,
        )
    elif sudoers_rc != 0:
        problems["admins"] = _failure("reading /etc/sudoers", sudoers, sudoers_rc)
    else:
        try:
            admins = parse_admins(passwd, groups, sudoers)
        except ValueError as exc:
            problems["admins"] = str(exc)

    policy = None
    try:
        policy = parse_password_policy(
            out(raw, "pwquality")[0],
            out(raw, "pam")[0],
            out(raw, "faillock")[0],
            out(raw, "login_defs")[0],
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
        password_policy=policy,
        insecure_services=insecure,
        protocols_checked=LINUX_PROTOCOLS,
        problems=problems,
    )
