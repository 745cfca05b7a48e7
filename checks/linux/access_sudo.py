"""Who can become root through sudo, judged from what sudo itself answers (pure).

``access.sh`` asks ``sudo -l -U USER`` for every account of the name service, so sudo resolves
what a sudoers reader would have to re-implement: groups (``%g``, ``%#gid``), ``User_Alias``,
``#uid``, netgroups, ``Cmnd_Alias``/``Runas_Alias``, ``#include``/``@includedir`` anywhere, host
matching and LDAP/SSSD rules. Each rule sudo lists is then judged:

- it counts only if it runs commands as an account with UID 0 (``(root)``, ``(ALL)``, ``(#0)``,
  ``(toor)``, ``(%root)``…); ``(www-data)`` is not root, and a runas list is read the way sudo
  reads it, the last matching entry deciding (``(ALL, !root)`` still reaches ``toor``);
- ``ALL`` (negations after it, ``ALL, !/bin/su``, change nothing), a wildcard or regular
  expression in the command's path, and a command file or directory the user can write are
  root whatever the command;
- a command on ``ROOT_ESCAPES`` is root when its arguments are left free (or wildcarded); an
  editor, pager, shell or interpreter is root whatever arguments the rule pins (``less FILE``
  still runs ``!sh``);
- any other command, and ``sudoedit`` of a file outside the places root's logins and
  services read, is reported as "not root-equivalent" in the evidence, never silently passed
  over: a program run as root with free arguments may still be abused, and a reviewer sees it.
  ``NOEXEC:`` is not trusted (an editor still writes ``/etc/sudoers``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ROOT_ESCAPES",
    "Accounts",
    "PathInfo",
    "SudoRule",
    "accounts_from",
    "framed",
    "parse_paths",
    "parse_sudo",
    "root_reason",
]

# Root through sudo, from GTFOBins' "Sudo" entries (gtfobins.github.io) and the programs every
# administrator knows to hand out a shell. "any": root whatever arguments the rule pins (shells,
# interpreters, editors, pagers and programs that page or edit); otherwise only with free args.
_ANY, _FREE = "any", "free"  # root whatever the arguments; only with free arguments
_SHELL, _CODE = "is a shell", "runs any code"
_EDIT, _PAGE = "escapes to a shell (:!sh)", "escapes to a shell (!sh in a pager)"
_EXEC, _WRITE, _READ = "runs other commands", "writes any file", "reads any file (/etc/shadow)"


def _by_name(groups: dict[tuple[str, str], str]) -> dict[str, tuple[str, str]]:
    return {name: how for how, names in groups.items() for name in names.split()}


ROOT_ESCAPES = _by_name({
    (_ANY, _SHELL): "sh bash dash zsh ksh mksh csh tcsh fish ash rbash busybox",
    (_ANY, _CODE): "python python2 python3 perl ruby irb lua luajit php node nodejs tclsh wish "
    "expect awk gawk mawk nawk gdb guile rlwrap jjs jrunscript pwsh Rscript scheme julia",
    (_ANY, _EDIT): "vi vim vim.basic vim.tiny vim.nox vim.gtk3 nvim view vimdiff rvim rview ex "
    "nano pico ed red emacs emacs-nox joe jed mg ne mcedit micro editor sensible-editor visudo "
    "vipw vigr crontab",
    (_ANY, _PAGE): "less more most pg man w3m lynx links elinks screen tmux script ftp mail "
    "mailx mutt mysql mariadb psql sqlite3 git journalctl systemctl aptitude",
    (_FREE, _EXEC): "find env xargs nice ionice timeout stdbuf taskset flock nohup setsid strace "
    "ltrace watch time chroot unshare nsenter setarch capsh runuser su sudo doas pkexec "
    "start-stop-daemon systemd-run docker podman ctr nerdctl lxc kubectl tar zip unzip cpio "
    "rsync scp sftp ssh ssh-keygen sed make gcc cc ip service openvpn tcpdump nmap nc ncat "
    "netcat socat apt apt-get dpkg rpm yum dnf zypper snap pip pip3 npm gem mount modprobe "
    "insmod kmod useradd usermod adduser groupmod gpasswd passwd chpasswd at batch dmesg",
    (_FREE, _WRITE): "tee cp mv install ln dd chmod chown chgrp truncate wget curl openssl sponge",
    (_FREE, _READ): "cat head tail base64 base32 xxd od hexdump nl diff grep sort uniq cut "
    "strings tac rev fold",
})  # fmt: skip
# versioned names: python3.11, perl5.36.0, lua5.4, php8.2, and the dynamic loader itself
_NUMBERED = re.compile(r"^(?:(?:python|perl|lua|php|tclsh|ruby|node)[0-9.]*|ld-linux.*)$")
# systemctl/journalctl only page (and so escape) for some verbs; these pinned forms never page
_NO_PAGER_VERBS = frozenset((
    "start", "stop", "restart", "reload", "try-restart", "reload-or-restart", "force-reload",
    "try-reload-or-restart", "condrestart", "is-active", "is-enabled", "is-failed",
    "daemon-reload", "reset-failed",
))  # fmt: skip
# sudoedit edits files as root: root when the file is one root's logins, jobs or services read
_ROOT_FILES = (
    "/etc/sudoers", "/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/pam.d/",
    "/etc/security/", "/etc/cron", "/var/spool/cron/", "/etc/systemd/", "/lib/systemd/",
    "/usr/", "/bin/", "/sbin/", "/lib", "/boot/", "/root/", "/etc/init.d/", "/etc/rc",
    "/etc/profile", "/etc/bash.bashrc", "/etc/environment", "/etc/ld.so", "/etc/ssh/",
    "/etc/apt/", "/etc/logrotate", "/etc/update-motd.d/", "/etc/udev/", "/etc/modprobe.d/",
    "/etc/polkit-1/", "/etc/default/", "/etc/sysctl", "/etc/login.defs", "/etc/nsswitch.conf",
)  # fmt: skip
_TAG = re.compile(r"^(?:NO)?(?:PASSWD|EXEC|SETENV|LOG_INPUT|LOG_OUTPUT|MAIL|FOLLOW|INTERCEPT):$")
_OPTION = re.compile(r"^(?:[A-Z_]+=\S*|sha(?:224|256|384|512):\S+)$")  # CWD=, ROLE=, digests
_WILD = re.compile(r"[*?\[]")
# an argument carrying a secret: key=value with a secret-sounding key, or mysql's -pPASSWORD
_SECRET_ARG = re.compile(
    r"^((?:--?)?[\w.-]*(?:pass|secret|token|pwd|credential|key)[\w.-]*[=:]|-p(?=[^\d\s]))\S+$",
    re.IGNORECASE,
)
_SECRET_FLAG = re.compile(r"^--?[\w.-]*(?:pass|secret|token|pwd)[\w.-]*$", re.IGNORECASE)


@dataclass(frozen=True)
class SudoRule:
    """One command of ``sudo -l``: its runas list, tags in force, the command and arguments."""

    runas: str  # as printed: "root", "ALL : ALL", "alice : adm"
    tags: str  # "NOPASSWD: " etc., as in force for this command
    command: str  # "ALL", "sudoedit", or an absolute path (or a pattern)
    args: tuple[str, ...] | None  # None: any arguments; () only none ("")

    def show(self) -> str:
        """The rule as sudo lists it, with what looks like a password in its arguments masked
        (``mysqldump -pS3cret``, ``--password=…``): evidence never carries a secret."""
        if self.args is None:
            return f"({self.runas}) {self.tags}{self.command}"
        shown = " ".join(_masked(self.args)) or '""'
        return f"({self.runas}) {self.tags}{self.command} {shown}"


@dataclass(frozen=True)
class Accounts:
    """What the name service says, for matching runas lists and file ownership."""

    uid: dict[str, int]  # account -> uid
    gids: dict[str, set[int]]  # account -> primary and supplementary gids
    group_gid: dict[str, int]  # group name -> gid
    members: dict[int, set[str]]  # gid -> accounts (primary or supplementary)


@dataclass(frozen=True)
class PathInfo:
    mode: int
    uid: int
    gid: int
    kind: str  # "regular file", "directory", "symbolic link"…


def accounts_from(passwd: str, groups: str) -> Accounts:
    """``getent passwd``/``getent group`` (name:id:…) → Accounts. Raises ValueError."""
    uid: dict[str, int] = {}
    primary: dict[str, int] = {}
    for line in passwd.splitlines():
        parts = line.split(":")
        if len(parts) >= 3 and parts[1].isdigit() and parts[2].isdigit():
            uid.setdefault(parts[0], int(parts[1]))
            primary.setdefault(parts[0], int(parts[2]))
    if not uid:
        raise ValueError("getent passwd listed no accounts")
    group_gid: dict[str, int] = {}
    members: dict[int, set[str]] = {}
    for line in groups.splitlines():
        parts = line.split(":")
        if len(parts) >= 3 and parts[1].isdigit():
            gid = int(parts[1])
            group_gid.setdefault(parts[0], gid)
            members.setdefault(gid, set()).update(m for m in parts[2].split(",") if m)
    for name, gid in primary.items():
        members.setdefault(gid, set()).add(name)
    gids = {name: {g for g, who in members.items() if name in who} for name in uid}
    return Accounts(uid=uid, gids=gids, group_gid=group_gid, members=members)


def _masked(words: tuple[str, ...] | list[str]) -> list[str]:
    return [
        "********" if i and _SECRET_FLAG.match(words[i - 1]) else _SECRET_ARG.sub(r"\1********", w)
        for i, w in enumerate(words)
    ]


def _split_commas(text: str) -> list[str]:
    return [p.strip().replace("\\,", ",") for p in re.split(r"(?<!\\),", text) if p.strip()]


def _rule_line(line: str) -> list[SudoRule]:
    text = line.strip()
    runas = "root"  # sudo prints the default runas, but say so if a version does not
    m = re.match(r"^\(([^)]*)\)\s*", text)
    if m:
        runas, text = m[1].strip(), text[m.end() :]
    rules: list[SudoRule] = []
    tags: list[str] = []
    for part in _split_commas(text):
        words = part.split()
        while words and (_TAG.match(words[0]) or _OPTION.match(words[0])):
            word = words.pop(0)
            if _TAG.match(word):
                tags = [t for t in tags if t.removeprefix("NO") != word.removeprefix("NO")]
                tags.append(word)
        if not words:
            continue
        command, rest = words[0], words[1:]
        if command.startswith("!"):
            continue  # a negation only takes away: it never makes a rule less than root
        if rest == ['""']:
            args: tuple[str, ...] | None = ()
        else:
            args = tuple(rest) if rest else None
        rules.append(SudoRule(runas, "".join(t + " " for t in tags), command, args))
    return rules


def framed(text: str, marker: str) -> list[tuple[str, list[str], str]]:
    """``@@MARKER name`` … ``@@rc N`` sections → [(name, lines, N)]; a section cut off before
    its ``@@rc`` line is left out."""
    out: list[tuple[str, list[str], str]] = []
    name: str | None = None
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith(f"@@{marker} "):
            name, body = line.removeprefix(f"@@{marker} ").strip(), []
        elif line.startswith("@@rc ") and name is not None:
            out.append((name, body, line.removeprefix("@@rc ").strip()))
            name = None
        elif name is not None:
            body.append(line)
    return out


def parse_sudo(text: str) -> tuple[dict[str, list[SudoRule]], dict[str, str]]:
    """``@@user``/``@@rc`` sections of ``sudo -l -U`` → rules by account, failures by account."""
    rules: dict[str, list[SudoRule]] = {}
    failed: dict[str, str] = {}
    for user, body, rc in framed(text, "user"):
        if rc != "0":
            said = [b.strip() for b in body if b.strip()]
            # the cause comes first; sudo may quote a sudoers line, so secrets are masked
            tail = " / ".join(" ".join(_masked(b.split())) for b in said[:3]) or "no message"
            failed[user] = f"sudo -l -U {user} failed (exit {rc}): {tail}"
        else:
            rules[user] = _listed(body)
    return rules, failed


def _listed(body: list[str]) -> list[SudoRule]:
    out: list[SudoRule] = []
    listing = False
    for line in body:
        if re.match(r"^User \S+ may run the following commands", line):
            listing = True
        elif listing and line.startswith((" ", "\t")) and line.strip():
            out.extend(_rule_line(line))
        elif line.strip() and not line.startswith((" ", "\t")):
            listing = False  # a new heading ("Matching Defaults…", an LDAP role…)
    return out


def parse_paths(text: str) -> tuple[dict[str, PathInfo], dict[str, str]]:
    """``ac_sudo_paths`` → (lstat of each path, link target of each command path)."""
    info: dict[str, PathInfo] = {}
    targets: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("@@target "):
            parts = line.split(" ", 2)
            if len(parts) == 3:
                targets[parts[1]] = parts[2]
            continue
        left, sep, name = line.partition("|")
        words = left.split(" ", 3)
        if not sep or len(words) < 4 or not all(w.isdigit() for w in words[:3]):
            continue
        info[name] = PathInfo(int(words[0], 8), int(words[1]), int(words[2]), words[3])
    return info, targets


def _runs_as_root(runas: str, accounts: Accounts) -> bool:
    """Whether the runas user list reaches some UID 0 account (the last match decides)."""
    users = [u.strip() for u in runas.split(":", 1)[0].split(",") if u.strip()]
    roots = [name for name, uid in accounts.uid.items() if uid == 0] or ["root"]
    for account in roots:
        for entry in reversed(users):
            negated, name = entry.startswith("!"), entry.lstrip("!")
            if _matches(name, account, accounts):
                if not negated:
                    return True
                break
    return False


def _matches(entry: str, account: str, accounts: Accounts) -> bool:
    uid = accounts.uid.get(account, 0)
    if entry == "ALL" or entry == account or entry == f"#{uid}":
        return True
    if entry.startswith("%#") and entry[2:].isdigit():
        return account in accounts.members.get(int(entry[2:]), set())
    if entry.startswith("%"):
        gid = accounts.group_gid.get(entry.lstrip("%:"))
        return gid is None or account in accounts.members.get(gid, set())
    if entry.startswith("#") and entry[1:].isdigit():
        return False  # another uid
    # a netgroup (+name), an alias or an account the name service did not list: sudo may
    # resolve it to a UID 0 account where we cannot tell, so it counts
    return entry not in accounts.uid


def _escape(path: str, args: tuple[str, ...] | None) -> str | None:
    name = path.rstrip("/").rpartition("/")[2]
    kind, how = ROOT_ESCAPES.get(name) or ((_ANY, _CODE) if _NUMBERED.match(name) else ("", ""))
    if not kind:
        return None
    free = args is None or any(_WILD.search(a) or a.startswith("^") for a in args)
    if name in ("systemctl", "journalctl") and args and not free:
        verbs = [a for a in args if not a.startswith("-")]
        if "--no-pager" in args or (name == "systemctl" and verbs and verbs[0] in _NO_PAGER_VERBS
                                    and not any("/" in v for v in verbs)):  # fmt: skip
            return None
    if kind == _ANY or free:
        escape = "root shell escape" if how not in (_WRITE, _READ) else "root-equivalent"
        return f"{escape} ({name} {how})"
    return None


def _writable(path: str, user: str, accounts: Accounts, info: dict[str, PathInfo]) -> str | None:
    """The first file or directory on ``path`` the user could replace or create, if any."""
    uid = accounts.uid.get(user)
    if uid is None or not path.startswith("/"):
        return None
    gids = accounts.gids.get(user, set())

    def can_write(p: PathInfo) -> bool:
        return p.uid == uid or bool(p.mode & 0o002) or (p.gid in gids and bool(p.mode & 0o020))

    parts = [p for p in path.split("/") if p]
    chain = ["/"] + ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]
    for i, here in enumerate(chain):
        stat = info.get(here)
        if stat is None:  # missing: whoever can write its parent was found one step up
            return None
        last = i == len(chain) - 1
        if last:
            return here if stat.kind != "symbolic link" and can_write(stat) else None
        if stat.kind == "directory" and can_write(stat):
            child = info.get(chain[i + 1])
            sticky = bool(stat.mode & 0o1000) and stat.uid != uid
            if not sticky or child is None or child.uid == uid:
                return here
    return None


def root_reason(
    user: str,
    rule: SudoRule,
    accounts: Accounts,
    info: dict[str, PathInfo],
    targets: dict[str, str],
) -> tuple[bool, str]:
    """(root?, why) for one rule of one user."""
    if not _runs_as_root(rule.runas, accounts):
        return False, f"runs as {rule.runas.split(':')[0].strip() or user}, not as root"
    if rule.command == "ALL":
        return True, "every command"
    if rule.command == "sudoedit":
        files = rule.args or ()
        wild = [f for f in files if _WILD.search(f)]
        vital = [f for f in files if f.startswith(_ROOT_FILES)]
        if rule.args is None or wild or vital:
            return True, f"edits {(wild or vital or ['any file'])[0]} as root"
        return False, "edits only these files as root"
    if _WILD.search(rule.command) or rule.command.startswith("^") or rule.command.endswith("/"):
        return True, "wildcard command path: matches any program there, shells included"
    target = targets.get(rule.command, rule.command)
    for path in dict.fromkeys((rule.command, target)):
        how = _escape(path, rule.args)
        if how:
            return True, how
    for path in dict.fromkeys((rule.command, target)):
        spot = _writable(path, user, accounts, info)
        if spot:
            return True, f"{user} can write {spot}, so can replace the command"
    unchecked = ""
    if rule.command not in info:
        parent = rule.command.rpartition("/")[0] or "/"
        unchecked = "; no such file" if parent in info else "; its file was not examined"
    if rule.args is None:
        return False, f"any arguments, not a known root-shell escape{unchecked}"
    return False, f"fixed arguments, not a known root-shell escape{unchecked}"
