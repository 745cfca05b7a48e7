"""Account lockout judged as Linux-PAM runs it: service stacks resolved, then driven (pure).

A ``pam_faillock.so preauth`` line alone locks nobody: failures are written only by
``authfail`` (or ``pam_tally2`` in ``auth``), and a locked account is refused only by a
``preauth``/``authsucc``/``pam_tally2`` line on the correct password's path whose failure the
stack does not ignore. So each service's ``auth`` stack is rebuilt the way libpam builds it
(``/etc/pam.d/SERVICE``, then ``/usr/lib/pam.d``; ``other`` when the service has no ``auth``
lines; ``include``, ``substack`` and Debian's ``@include`` resolved; ``#`` to the end of a line is
a comment) and then run the way ``_pam_dispatch_aux`` runs it (control values and actions, jumps,
``done``/``die`` confined to a substack): wrong passwords one after the other, each followed by a
trial with the right one, until the right one fails. The first count at which it fails is the
threshold; if it never does, the stack does not lock, and why is said.

The person modelled is a local, regular, non-root account (root is exempt from pam_faillock
unless ``even_deny_root``) logging in with a password. Modules whose answer is not known for
such an account (``pam_succeed_if``, one-time-password modules, anything unknown) are tried
with every answer they could give: a verdict holds only if every combination agrees.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

__all__ = ["SERVICES", "ServiceLockout", "judge_service", "pam_files"]

# the services a person types a password into on a server: remote and console logins, and the
# two ways to become someone else
SERVICES = ("sshd", "login", "su", "sudo")
_DIRS = ("/etc/pam.d/", "/usr/lib/pam.d/")
_MAX_INCLUDE = 32  # libpam's PAM_SUBSTACK_MAX_LEVEL
_MAX_COMBINATIONS = 4096
_MAX_TRIES = 1000  # wrong passwords tried before "does not lock" (deny above this is no lockout)

Action = str | int  # ok | done | bad | die | ignore | reset | N (jump over N modules)
_KEYWORDS: dict[str, dict[str, Action]] = {
    "required": {"success": "ok", "new_authtok_reqd": "ok", "ignore": "ignore", "default": "bad"},
    "requisite": {"success": "ok", "new_authtok_reqd": "ok", "ignore": "ignore",
                  "default": "die"},
    "optional": {"success": "ok", "new_authtok_reqd": "ok", "default": "ignore"},
    "sufficient": {"success": "done", "new_authtok_reqd": "done", "default": "ignore"},
}  # fmt: skip

# What a module answers for the modelled account: (wrong password, right password). A tuple of
# several answers means "any of these": every combination is tried.
Answers = tuple[tuple[str, ...], tuple[str, ...]]


def _by_module(groups: dict[Answers, str]) -> dict[str, Answers]:
    return {name: answers for answers, names in groups.items() for name in names.split()}


_ANSWERS = _by_module({
    (("auth_err",), ("success",)): "pam_unix.so",
    (("auth_err",), ("auth_err",)): "pam_deny.so pam_rootok.so",  # the person is not root
    (("success",), ("success",)): "pam_permit.so pam_localuser.so",
    # directory logins: a local account is unknown to them
    (("user_unknown",), ("user_unknown",)): "pam_sss.so pam_ldap.so pam_krb5.so pam_winbind.so "
    "pam_systemd_home.so pam_lsass.so pam_radius_auth.so pam_tacplus.so",
    # bookkeeping modules: success or ignore, whichever (both are tried)
    (("success", "ignore"), ("success", "ignore")): "pam_env.so pam_faildelay.so pam_nologin.so "
    "pam_securetty.so pam_group.so pam_cap.so pam_keyinit.so pam_loginuid.so pam_selinux.so "
    "pam_sepermit.so pam_limits.so pam_lastlog.so pam_umask.so pam_motd.so pam_mail.so "
    "pam_warn.so pam_echo.so pam_issue.so pam_gnome_keyring.so pam_kwallet.so pam_kwallet5.so "
    "pam_mount.so pam_ecryptfs.so pam_xauth.so pam_systemd.so pam_shells.so",
})  # fmt: skip
_ANYTHING = ("success", "auth_err", "ignore")
_LOCKERS = ("pam_faillock.so", "pam_tally2.so", "pam_tally.so")


@dataclass(frozen=True)
class _Entry:
    path: str  # the file the line is in
    module: str  # basename ("" for a substack marker or a broken line)
    args: tuple[str, ...]
    actions: dict[str, Action]
    level: int  # substack depth
    kind: Literal["module", "substack", "broken"] = "module"

    def action(self, value: str) -> Action:
        return self.actions.get(value, self.actions.get("default", "bad"))

    def arg(self, key: str) -> str | None:
        for a in self.args:
            name, sep, value = a.partition("=")
            if name == key:
                return value if sep else ""
        return None


def pam_files(text: str) -> dict[str, list[str]]:
    """``== path`` headed dump → {path: logical lines}, as libpam's _pam_line_assemble reads:
    ``#`` ends a line, a trailing backslash (on a line without ``#``) continues it."""
    files: dict[str, list[str]] = {}
    current: list[str] | None = None
    pending = ""
    for raw in text.splitlines():
        if raw.startswith("== "):
            current, pending = files.setdefault(raw[3:].strip(), []), ""
            continue
        if current is None:
            continue
        if "#" not in raw and raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line = (pending + raw.split("#", 1)[0]).strip()
        pending = ""
        if line:
            current.append(line)
    return files


def _tokens(line: str) -> list[str]:
    return re.findall(r"\[[^\]]*\]|\S+", line)


def _control(token: str) -> dict[str, Action] | None:
    if token.lower() in _KEYWORDS:
        return dict(_KEYWORDS[token.lower()])
    if not (token.startswith("[") and token.endswith("]")):
        return None
    actions: dict[str, Action] = {}
    for pair in token[1:-1].split():
        value, _, action = pair.partition("=")
        action = action.lower()
        if action.isdigit():
            actions[value.lower()] = int(action)
        elif action in ("ok", "done", "bad", "die", "ignore", "reset"):
            actions[value.lower()] = action
    actions.setdefault("default", "bad")  # libpam: unset values are failures
    return actions


def _find(files: dict[str, list[str]], name: str) -> str | None:
    if name.startswith("/"):
        return name if name in files else None
    return next((d + name for d in _DIRS if d + name in files), None)


def _load(
    files: dict[str, list[str]], path: str, type_: str, level: int, depth: int
) -> list[_Entry]:
    """The ``type_`` lines of one file, includes resolved (libpam's _pam_parse_conf_file)."""
    entries: list[_Entry] = []
    for line in files.get(path, []):
        words = _tokens(line)
        if words[0] == "@include" and len(words) > 1:  # Debian: the whole file, this type
            entries += _include(files, words[1], type_, level, depth, path)
            continue
        kind = words[0].lstrip("-").lower()
        if kind not in ("auth", "account", "password", "session"):
            kind = type_  # libpam: an illegal type becomes a line that always fails
            words = [kind, "required", ""]
        if kind != type_:
            continue
        if len(words) < 3 or not words[2]:
            entries.append(_Entry(path, "", (), {"default": "bad"}, level, "broken"))
            continue
        control = words[1].lower()
        if control in ("include", "substack"):
            if control == "substack":
                entries.append(_Entry(path, "", (), {}, level, "substack"))
            entries += _include(files, words[2], type_, level + (control == "substack"),
                                depth, path)  # fmt: skip
            continue
        actions = _control(words[1])
        if actions is None:
            entries.append(_Entry(path, "", (), {"default": "bad"}, level, "broken"))
            continue
        module = words[2].rpartition("/")[2]
        entries.append(_Entry(path, module, tuple(words[3:]), actions, level))
    return entries


def _include(
    files: dict[str, list[str]], name: str, type_: str, level: int, depth: int, where: str
) -> list[_Entry]:
    target = _find(files, name)
    if target is None or depth >= _MAX_INCLUDE:
        # libpam turns a missing include into a line that always fails
        return [_Entry(where, "", (f"missing {name}",), {"default": "bad"}, level, "broken")]
    return _load(files, target, type_, level, depth + 1)


def _auth_stack(files: dict[str, list[str]], service: str) -> tuple[list[_Entry], str]:
    path = _find(files, service)
    entries = _load(files, path, "auth", 0, 0) if path else []
    if entries:
        return entries, path or service
    other = _find(files, "other")
    note = f"{service}: no auth lines, so 'other'" if path else f"{service} has no file: 'other'"
    return (_load(files, other, "auth", 0, 0) if other else []), note


# -- running a stack (libpam's _pam_dispatch_aux) ---------------------------------------------


@dataclass(frozen=True)
class _Settings:
    deny: int  # 0: never locks
    unlock_seconds: int  # 0: until an administrator unlocks


@dataclass
class _State:
    """The account's failure records, and what the stack's lockout lines are set to."""

    settings: dict[int, _Settings]  # by stack index, for the lockout modules
    failures: int = 0  # valid pam_faillock records, or the pam_tally2 counter
    refused_by: int | None = None  # the lockout line that refused this attempt


def _dispatch(stack: list[_Entry], answer: dict[int, str], state: _State, right: bool) -> bool:
    """One authentication; True when it succeeds. ``answer`` fixes the uncertain modules."""
    impression, status = 0, "perm_denied"  # libpam: _PAM_UNDEF, PAM_MUST_FAIL_CODE
    saved: dict[int, tuple[int, str]] = {0: (impression, status)}
    prev_level = 0
    i = 0
    while i < len(stack):
        entry = stack[i]
        level = entry.level
        if prev_level < level:  # entering a substack: "reset" returns here
            saved[level] = (impression, status)
        prev_level = level
        if entry.kind == "substack":
            i += 1
            continue
        value = "perm_denied" if entry.kind == "broken" else _run(stack, i, answer, state, right)
        action = entry.action(value)
        if action == "reset":
            impression, status = saved.get(level, (0, "perm_denied"))
        elif action in ("ok", "done"):
            if impression == 0 or (impression == 1 and status == "success"):
                impression, status = 1, value
            if impression == 1 and action == "done":
                i = _skip_rest(stack, i)
                continue
        elif action in ("bad", "die"):
            if impression != -1:
                impression, status = -1, ("perm_denied" if value == "ignore" else value)
            if action == "die":
                i = _skip_rest(stack, i)
                continue
        elif isinstance(action, int) and action > 0:
            left = action
            while i + 1 < len(stack) and stack[i + 1].level >= level and left > 0:
                i += 1
                while i + 1 < len(stack) and stack[i + 1].level > level:
                    i += 1  # a substack counts as one module
                left -= 1
            if left:  # "bad jump in stack"
                impression, status = -1, "perm_denied"
        i += 1
    return status == "success" and impression == 1


def _skip_rest(stack: list[_Entry], i: int) -> int:
    """Index after the rest of the current (sub)stack: done/die end only their substack."""
    level = stack[i].level
    while i + 1 < len(stack) and stack[i + 1].level >= level:
        i += 1
    return i + 1


def _run(stack: list[_Entry], i: int, answer: dict[int, str], state: _State, right: bool) -> str:
    entry = stack[i]
    if i in state.settings:
        return _locker(entry, i, state)
    if i in answer:
        return answer[i]
    if entry.module == "pam_usertype.so":  # the modelled account is a regular one
        return "success" if "isregular" in entry.args else "auth_err"
    wrong, right_answers = _ANSWERS.get(entry.module, (_ANYTHING, _ANYTHING))
    return (right_answers if right else wrong)[0]


def _faillock_action(entry: _Entry) -> str:
    action = "preauth"  # pam_faillock: the last of these arguments wins; none means preauth
    for word in entry.args:
        if word in ("preauth", "authfail", "authsucc"):
            action = word
    return action


def _locker(entry: _Entry, i: int, state: _State) -> str:
    deny = state.settings[i].deny
    if entry.module == "pam_faillock.so":
        if deny > 0 and state.failures >= deny:
            state.refused_by = i if state.refused_by is None else state.refused_by
            return "auth_err"
        action = _faillock_action(entry)
        if action == "authfail":
            state.failures += 1
            return "ignore"
        if action == "authsucc":
            state.failures = 0
        return "success"
    # pam_tally2 (and pam_tally) in auth: count every attempt first, refuse above deny
    state.failures += 1
    if deny > 0 and state.failures > deny:
        state.refused_by = i if state.refused_by is None else state.refused_by
        return "auth_err"
    return "success"


# -- judging one service ----------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceLockout:
    """How one service's auth stack treats repeated wrong passwords."""

    service: str
    state: Literal["locks", "no_lockout", "closed", "undetermined"]
    threshold: int | None = None  # wrong passwords after which the right one is refused
    seconds: int | None = None  # how long (0: until an administrator unlocks)
    why: str = ""  # what happened, "the right password is refused after 5 wrong ones"
    stack: str = ""  # the stack read: "/etc/pam.d/sshd (auth lines from …/common-auth)"
    settings: tuple[str, ...] = ()  # the lockout lines and their effective settings


def _settings(entry: _Entry, conf: dict[str, str]) -> _Settings | str:
    """deny/unlock_time of a lockout line: defaults, faillock.conf, then its arguments."""
    if entry.module == "pam_faillock.so":
        values = {"deny": "3", "unlock_time": "600"}
        if entry.arg("conf") is None:
            values |= {k: v for k, v in conf.items() if k in values}
        elif entry.arg("deny") is None or entry.arg("unlock_time") is None:
            return f"{entry.path}: pam_faillock.so conf={entry.arg('conf')} was not read"
    else:  # pam_tally2: no lockout unless deny= is given; locked until reset without unlock_time
        values = {"deny": "0", "unlock_time": "0"}
    for key in ("deny", "unlock_time"):
        given = entry.arg(key)
        if given is not None:
            values[key] = given
    deny, unlock = values["deny"].strip(), values["unlock_time"].strip().lower()
    if not deny.isdigit() or not (unlock == "never" or unlock.isdigit()):
        return f"{entry.path}: {entry.module} deny={deny} unlock_time={unlock} unreadable"
    return _Settings(int(deny), 0 if unlock == "never" else int(unlock))


Uncertain = list[tuple[int, tuple[str, ...], tuple[str, ...]]]


def _uncertain(stack: list[_Entry], settings: dict[int, _Settings]) -> Uncertain:
    out: Uncertain = []
    for i, entry in enumerate(stack):
        if entry.kind != "module" or i in settings or entry.module == "pam_usertype.so":
            continue
        wrong, right = _ANSWERS.get(entry.module, (_ANYTHING, _ANYTHING))
        if len(wrong) > 1 or len(right) > 1:
            out.append((i, wrong, right))
    return out


def _combinations(uncertain: Uncertain) -> Iterator[tuple[dict[int, str], dict[int, str]]]:
    """(answers to a wrong password, answers to the right one), every combination."""
    wrong_choices = [[(i, a) for a in wrong] for i, wrong, _ in uncertain]
    right_choices = [[(i, a) for a in right] for i, _, right in uncertain]
    for w in itertools.product(*wrong_choices):
        for r in itertools.product(*right_choices):
            yield dict(w), dict(r)


@dataclass(frozen=True)
class _Drive:
    threshold: int | None  # wrong passwords before the right one fails; None: it never does
    refused_by: int | None  # the lockout line that refused it
    recorded: bool  # whether wrong passwords left any failure record


def _drive(stack: list[_Entry], settings: dict[int, _Settings], wrong: dict[int, str],
           right: dict[int, str], limit: int) -> _Drive:  # fmt: skip
    """Wrong passwords one by one, trying the right one before each, until it fails."""
    state = _State(settings)
    recorded = False
    for tries in range(limit + 1):
        trial = _State(settings, failures=state.failures)
        if not _dispatch(stack, right, trial, right=True):
            return _Drive(tries, trial.refused_by, recorded)
        _dispatch(stack, wrong, state, right=False)
        recorded = recorded or state.failures > 0
    return _Drive(None, None, recorded)


def _lockout_lines(
    stack: list[_Entry], conf: dict[str, str]
) -> tuple[dict[int, _Settings], list[str]] | str:
    settings: dict[int, _Settings] = {}
    notes: list[str] = []
    for i, entry in enumerate(stack):
        if entry.kind != "module" or entry.module not in _LOCKERS:
            continue
        got = _settings(entry, conf)
        if isinstance(got, str):
            return got
        settings[i] = got
        action = f" {_faillock_action(entry)}" if entry.module == "pam_faillock.so" else ""
        unlock = got.unlock_seconds or "never"
        notes.append(f"{entry.path}: {entry.module}{action} deny={got.deny} unlock_time={unlock}")
    return settings, notes


def judge_service(
    files: dict[str, list[str]], faillock_conf: dict[str, str], service: str
) -> ServiceLockout:
    """Drive ``service``'s auth stack with wrong passwords and say whether, when, it locks."""
    stack, source = _auth_stack(files, service)
    modules = " → ".join(dict.fromkeys(e.path for e in stack)) or "nothing"
    where = f"{source} (auth lines from {modules})"
    if not stack:
        return ServiceLockout(service, "closed", why="no auth stack: PAM refuses all", stack=where)
    lines = _lockout_lines(stack, faillock_conf)
    if isinstance(lines, str):
        return ServiceLockout(service, "undetermined", why=lines, stack=where)
    settings, notes = lines
    found = tuple(dict.fromkeys(notes))
    uncertain = _uncertain(stack, settings)
    # name the modules nothing is known about; the bookkeeping ones only when there are none
    unknown = {stack[i].module for i, _, _ in uncertain if stack[i].module not in _ANSWERS}
    names = ", ".join(sorted(unknown or {stack[i].module for i, _, _ in uncertain}))
    size = 1
    for _, w, r in uncertain:
        size *= len(w) * len(r)
    if size > _MAX_COMBINATIONS:
        why = f"too many modules whose answer is not known ({names})"
        return ServiceLockout(service, "undetermined", why=why, stack=where, settings=found)
    limit = min(_MAX_TRIES, max((s.deny for s in settings.values()), default=0) + 2)
    drives = [_drive(stack, settings, w, r, limit) for w, r in _combinations(uncertain)]
    if all(d.threshold == 0 for d in drives):
        why = "even a correct password is refused"
        return ServiceLockout(service, "closed", why=why, stack=where, settings=found)
    if len({d.threshold is None for d in drives}) > 1:
        why = f"whether it locks depends on what {names} answer"
        return ServiceLockout(service, "undetermined", why=why, stack=where, settings=found)
    if drives[0].threshold is None:
        if settings and all(s.deny == 0 for s in settings.values()):
            why = "deny=0 on every lockout line: failures never lock"
        elif any(d.recorded for d in drives):
            why = (
                "failures are recorded, but a locked account still logs in with the right"
                " password (no pam_faillock preauth/authsucc whose failure fails the stack)"
            )
        else:
            why = ("wrong passwords are never recorded (no pam_faillock authfail, nor"
                   " pam_tally2, on the wrong-password path)")  # fmt: skip
        return ServiceLockout(service, "no_lockout", why=why, stack=where, settings=found)
    threshold = max(d.threshold or 0 for d in drives)
    unlocks = [settings[d.refused_by].unlock_seconds for d in drives if d.refused_by in settings]
    # 0 (until an administrator unlocks) is the longest lock; the weakest is the shortest
    seconds = min(unlocks, key=lambda s: s or float("inf")) if unlocks else None
    why = f"the right password is refused after {threshold} wrong ones"
    return ServiceLockout(service, "locks", threshold, seconds, why, where, found)
