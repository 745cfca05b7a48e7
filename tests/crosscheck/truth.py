"""Ground truth by behaviour: make the host do the thing each row is about.

Nothing here reads the configuration the tools read. Logins go over real SSH from the lab
network, ports are probed from outside the host, PAM is driven with pamtester, a syslog line must
arrive at the collector, the time server must have been polled, accounts run ``id -u`` through
su and sudo, and the apt timers' own jobs must install a freshly published fix.

A probe that cannot tell (its own helper is not running, a good password is refused) raises
ProbeError: the cross-check never turns "no signal" into a verdict.

``establish(host)`` runs the probes in an order that keeps them apart: read-only ones first,
then password changes, then the lockout (alice stays locked), then apt (installs packages). The
syslog probe sends its line first and waits at the collector while the others run.
"""

from __future__ import annotations

import secrets
import shlex
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import paramiko

from baluarte.lab.systemd_hosts import SystemdHost
from tests.crosscheck.host import (
    COLLECTOR_LOG,
    LISTENER_PORT,
    PASSWORDS,
    publish_auto_fix,
    security_archive,
)

__all__ = ["ProbeError", "Truth", "establish"]

Verdict = Literal["pass", "fail"]
CLEARTEXT_PORTS = {21: "ftp", 23: "telnet", 513: "rlogin", 514: "rsh"}
SYSLOG_WAIT = 15  # seconds; forwarding is immediate when it works, the rest is load headroom
# 13 characters of 4 classes, 16 of 1 class, and 16 of 4 classes; none from a dictionary
TOO_SHORT = "Vq7#Lm2!Zr9$K"
ONE_CLASS = "qzvmkwpxjrtbnhdq"
GOOD = "Vq7#Lm2!Zr9$Kp4@"


class ProbeError(AssertionError):
    """A ground-truth probe could not establish its fact."""


@dataclass(frozen=True)
class Truth:
    verdict: Verdict
    evidence: str


def _ok(passed: bool) -> Verdict:
    return "pass" if passed else "fail"


# -- SSH logins, from the lab network ------------------------------------------------------------


def _ssh_login(address: str, user: str, password: str) -> dict[str, str]:
    """Try password and keyboard-interactive logins; {method: accepted|refused|not offered}."""
    results: dict[str, str] = {}
    for method in ("password", "keyboard-interactive"):
        with socket.create_connection((address, 22), timeout=10) as sock:
            transport = paramiko.Transport(sock)
            try:
                transport.start_client(timeout=10)
                if method == "password":
                    transport.auth_password(user, password, fallback=False)
                else:
                    transport.auth_interactive(
                        user, lambda _t, _i, prompts: [password] * len(prompts)
                    )
                results[method] = "accepted" if transport.is_authenticated() else "refused"
            except paramiko.BadAuthenticationType:
                results[method] = "not offered"
            except paramiko.AuthenticationException:
                results[method] = "refused"
            finally:
                transport.close()
    return results


def _login_truth(host: SystemdHost, user: str) -> Truth:
    got = _ssh_login(host.address, user, PASSWORDS[user])
    accepted = [m for m, r in got.items() if r == "accepted"]
    shown = ", ".join(f"{m} {r}" for m, r in got.items())
    return Truth(_ok(not accepted), f"SSH as {user} with the password: {shown}")


# -- ports, from the lab network -----------------------------------------------------------------


def _connect(address: str, port: int) -> str:
    """'open (banner)', 'refused' or 'filtered'."""
    try:
        with socket.create_connection((address, port), timeout=1.5) as sock:
            sock.settimeout(1.0)
            try:
                banner = sock.recv(64)
            except TimeoutError:
                banner = b""
            if banner.startswith(b"\xff"):  # IAC: telnet option negotiation
                return "open (telnet negotiation)"
            shown = "".join(chr(b) for b in banner if 32 <= b < 127).strip()[:40]
            return f"open ({shown!r})" if shown else "open"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "filtered"


def _firewall_truth(host: SystemdHost) -> Truth:
    inside = host.run(f"nc -z -w 2 127.0.0.1 {LISTENER_PORT}", check=False)
    if inside.returncode != 0:
        raise ProbeError(f"{host.name}: lab-listener is not listening on tcp/{LISTENER_PORT}")
    outside = _connect(host.address, LISTENER_PORT)
    return Truth(
        _ok(not outside.startswith("open")),
        f"tcp/{LISTENER_PORT} (listening, allowed by no rule) from the lab network: {outside}",
    )


def _cleartext_truth(host: SystemdHost) -> Truth:
    with ThreadPoolExecutor(len(CLEARTEXT_PORTS)) as pool:
        answers = pool.map(lambda port: _connect(host.address, port), CLEARTEXT_PORTS)
        seen = dict(zip(CLEARTEXT_PORTS, answers, strict=True))
    open_ = [f"{CLEARTEXT_PORTS[p]} tcp/{p} {r}" for p, r in seen.items() if r.startswith("open")]
    return Truth(
        _ok(not open_),
        "answering: " + "; ".join(open_) if open_ else "tcp/21, 23, 513, 514: none answers",
    )


# -- inside the host -----------------------------------------------------------------------------


def _security_updates_truth(host: SystemdHost) -> Truth:
    offered = security_archive(host)
    if not offered:
        raise ProbeError(f"{host.name}: the lab security archive offers nothing")
    behind = []
    for name, version in sorted(offered.items()):
        got = host.run(f"dpkg-query -W -f '${{Version}}' {name}", check=False).stdout.strip()
        if not got:
            continue
        older = host.run(f"dpkg --compare-versions {got} lt {version}", check=False)
        if older.returncode == 0:
            behind.append(f"{name} {got} installed, {version} in the security archive")
    return Truth(
        _ok(not behind),
        "; ".join(behind) or "every package of the security archive is at its version",
    )


def _syslog_truth(host: SystemdHost) -> Truth:
    if host.run("systemctl -q is-active lab-collector", check=False).returncode != 0:
        raise ProbeError(f"{host.name}: lab-collector is not running")
    nonce = f"xc-probe-{secrets.token_hex(6)}"
    host.run(f"logger -p auth.warning {nonce}")
    log = host.root / COLLECTOR_LOG.lstrip("/")
    deadline = time.monotonic() + SYSLOG_WAIT
    while time.monotonic() < deadline:
        if log.exists() and nonce in log.read_text(errors="replace"):
            return Truth("pass", "a logger line reached logs.example.net:6514")
        time.sleep(0.2)
    return Truth(
        "fail", f"a logger line did not reach logs.example.net:6514 within {SYSLOG_WAIT} s"
    )


def _time_truth(host: SystemdHost) -> Truth:
    if host.run("systemctl -q is-active lab-ntp", check=False).returncode != 0:
        raise ProbeError(f"{host.name}: the lab time server is not running")
    clients = host.run("/opt/xc/chronyc -n -h /run/lab-ntp/chronyd.sock clients").stdout
    polled = 0
    for line in clients.splitlines():
        fields = line.split()
        if fields and fields[0] == "127.0.0.1":
            polled = int(fields[1])
    synced = host.run("timeout 20 /opt/xc/chronyc waitsync 10 0.5 0 0.2", check=False)
    ok = polled > 0 and synced.returncode == 0
    served = "polled by the host's NTP client" if polled else "never polled"
    state = "synchronised" if synced.returncode == 0 else "not synchronised"
    return Truth(_ok(ok), f"the time server was {served}; chronyc waitsync: {state}")


# Prints "user: how" for the first attempt that reaches UID 0, per user.
_ESCALATE = r"""
reached=" "
try() {  # user, password, label, command
  case $reached in *" $1 "*) return 0 ;; esac
  if [ -n "$2" ]; then
    out=$(printf '%s\n' "$2" | su -s /bin/sh "$1" -c "$4" 2>/dev/null | tail -n 1)
  else
    out=$(su -s /bin/sh "$1" -c "$4" </dev/null 2>/dev/null | tail -n 1)
  fi
  if [ "$out" = 0 ]; then echo "$1: $3"; reached="$reached$1 "; fi
  return 0
}
"""
_ATTEMPTS = (
    ("id -u", "id -u", False),
    ("sudo id -u (no password)", "sudo -n id -u", False),
    ("sudo id -u (own password)", "sudo -S -k -p '' id -u", True),
    ("sudo find -exec id -u (no password)", "sudo -n find /etc/hostname -exec id -u ';'", False),
    (
        "sudo find -exec id -u (own password)",
        "sudo -S -k -p '' find /etc/hostname -exec id -u ';'",
        True,
    ),
    ("sudo bash -c id -u (no password)", "sudo -n /bin/bash -c 'id -u'", False),
)


def _accounts_truth(host: SystemdHost) -> Truth:
    users = []
    for line in (host.root / "etc/passwd").read_text().splitlines():
        name, _pw, uid, *_ = line.split(":")
        if name != "root" and (uid == "0" or 1000 <= int(uid) < 65534):
            users.append(name)
    script = _ESCALATE
    for user in users:
        password = PASSWORDS.get(user, "")
        for label, command, needs_password in _ATTEMPTS:
            given = password if needs_password else ""
            if needs_password and not password:
                continue
            script += (
                f"try {user} {shlex.quote(given)} {shlex.quote(label)} {shlex.quote(command)}\n"
            )
    (host.root / "opt/xc/escalate.sh").write_text(script)
    found = host.run("sh /opt/xc/escalate.sh", timeout=120).stdout.split("\n")
    found = [line for line in found if line]
    checked = ", ".join(users) or "no account"
    if found:
        return Truth("fail", "UID 0 reached: " + "; ".join(found))
    return Truth("pass", f"no account reached UID 0 ({checked} tried su and sudo)")


# passwd(1) itself: setuid root, as when a user changes her password (pamtester cannot write
# /etc/shadow as alice)
_PWTRY = r"""
old=$1 new=$2
if printf '%s\n%s\n%s\n' "$old" "$new" "$new" | su -s /bin/sh alice -c passwd >/tmp/pwtry.out 2>&1; then
  echo accepted
  printf 'alice:%s\n' "$old" | chpasswd 2>/dev/null
else
  echo "refused: $(grep -o 'BAD PASSWORD: [^.]*' /tmp/pwtry.out | head -n 1)"
fi
"""


def _password_quality_truth(host: SystemdHost) -> Truth:
    (host.root / "opt/xc/pwtry.sh").write_text(_PWTRY)
    old = PASSWORDS["alice"]

    def attempt(new: str) -> str:
        return host.run(f"sh /opt/xc/pwtry.sh {shlex.quote(old)} {shlex.quote(new)}").stdout.strip()

    good = attempt(GOOD)
    if good != "accepted":
        raise ProbeError(f"{host.name}: PAM refused even a good password ({good})")
    short, single = attempt(TOO_SHORT), attempt(ONE_CLASS)
    ok = short.startswith("refused") and single.startswith("refused")
    return Truth(
        _ok(ok),
        f"13 characters, 4 classes: {short}; 16 characters, 1 class: {single}",
    )


def _lockout_truth(host: SystemdHost) -> Truth:
    right = f"printf '%s\\n' {shlex.quote(PASSWORDS['alice'])} | pamtester sshd alice authenticate"
    if host.run(right, check=False).returncode != 0:
        raise ProbeError(f"{host.name}: PAM refuses alice's right password before any failure")
    # the five failures at once: pam_faillock serialises its tally file, and PAM's failure
    # delay (2 s each) is paid once
    host.run(
        "for n in 1 2 3 4 5; do"
        " printf 'wrong-%s\\n' $n | pamtester sshd alice authenticate >/dev/null 2>&1 & done; wait"
    )
    if host.run(right, check=False).returncode == 0:
        return Truth("fail", "after 5 wrong passwords (PAM service sshd) the right one still works")
    return Truth("pass", "after 5 wrong passwords (PAM service sshd) the right one is refused")


def _automatic_updates_truth(host: SystemdHost) -> Truth:
    timers = host.run(
        "systemctl is-active apt-daily.timer apt-daily-upgrade.timer", check=False
    ).stdout.split()
    name, fixed = publish_auto_fix(host)
    host.run(
        "systemctl start apt-daily.service && systemctl start apt-daily-upgrade.service",
        timeout=300,
    )
    got = host.run(f"dpkg-query -W -f '${{Version}}' {name}").stdout.strip()
    ok = got == fixed and timers == ["active", "active"]
    return Truth(
        _ok(ok),
        f"fix {name} {fixed} published; after apt-daily and apt-daily-upgrade ran: {got}"
        f" installed (timers: {', '.join(timers)})",
    )


def establish(host: SystemdHost) -> dict[str, Truth]:
    """Every row's ground truth on ``host``, probes in a non-interfering order."""
    truth: dict[str, Truth] = {}
    # The syslog probe's logger line goes first; its wait at the collector (the whole
    # SYSLOG_WAIT when nothing arrives) only reads a file, so the other probes run meanwhile.
    with ThreadPoolExecutor(1) as pool:
        syslog = pool.submit(_syslog_truth, host)
        truth["root_login"] = _login_truth(host, "root")
        truth["password_auth"] = _login_truth(host, "alice")
        truth["firewall_enabled"] = truth["default_deny"] = _firewall_truth(host)
        truth["insecure_daemons"] = _cleartext_truth(host)
        truth["security_updates"] = _security_updates_truth(host)
        truth["time_sync"] = _time_truth(host)
        truth["admin_accounts"] = _accounts_truth(host)
        truth["password_quality"] = _password_quality_truth(host)
        truth["lockout"] = _lockout_truth(host)
        truth["automatic_updates"] = _automatic_updates_truth(host)
        truth["remote_logging"] = syslog.result()
    return truth
