"""Privileged accounts and account lockout against real Debian lab hosts, proven by behaviour.

sudo: every account tries, through its own rules, to run ``id -u`` as root the ways GTFOBins
lists (``sudo -n find / -maxdepth 0 -exec id -u \\;``, ``sudo -n env id -u``…). The accounts
that print 0 must be exactly the ones ``access.admin_accounts`` calls privileged through sudo.

PAM: pamtester drives a service's real stack with N wrong passwords and then the right one. It
must be refused where ``access.password_policy`` says the stack locks after N, and accepted
where Baluarte says it does not lock. The lab image's sshd does not use PAM, so the services are
driven directly, as root inside the host (pamtester reads the password from standard input).
"""

from __future__ import annotations

import shlex

from baluarte.lab.linux_hosts import LinuxHost
from tests.integration.cli import baluarte, findings, write_inputs

PASSWORD = "Right-pw-1"

# alice..heidi reach root only through rules the old sudoers reader missed: a GTFOBins program,
# a group grant, a User_Alias, a Cmnd_Alias of ALL, an @include outside sudoers.d, ALL with a
# negation, a command in the user's own directory. ivan and judy run programs as root that give
# no shell (or run as www-data); kim is in the sudo group (her password is needed).
SUDO_SETUP = r"""
for u in alice bob carol dave erin frank grace heidi ivan judy kim; do useradd -m -s /bin/sh $u; done
echo 'kim:Kim-pw-1' | chpasswd 2>/dev/null; usermod -aG sudo kim
groupadd ops; usermod -aG ops carol
mkdir /home/heidi/bin; printf '#!/bin/sh\necho tool\n' > /home/heidi/bin/tool
chmod 755 /home/heidi/bin/tool; chown -R heidi: /home/heidi/bin
cat > /etc/sudoers.d/50-lab <<'EOF'
Cmnd_Alias EVERYTHING = ALL
User_Alias SCRIPTERS = dave
alice ALL=(root) NOPASSWD: /usr/bin/find
bob ALL=(root) NOPASSWD: /usr/bin/env
%ops ALL=(root) NOPASSWD: /usr/bin/awk
SCRIPTERS ALL=(root) NOPASSWD: /usr/bin/python3
erin ALL=(root) NOPASSWD: EVERYTHING
grace ALL=(ALL : ALL) NOPASSWD: ALL, !/usr/bin/su
heidi ALL=(root) NOPASSWD: /home/heidi/bin/tool
ivan ALL=(www-data) NOPASSWD: /usr/bin/find
ivan ALL=(root) NOPASSWD: /usr/bin/cat /var/log/dpkg.log
judy ALL=(root) NOPASSWD: /usr/bin/systemctl restart nginx
EOF
chmod 440 /etc/sudoers.d/50-lab
printf 'frank ALL=(root) NOPASSWD: /usr/bin/perl\n' > /etc/sudo-extra; chmod 440 /etc/sudo-extra
echo '@include /etc/sudo-extra' >> /etc/sudoers
visudo -c >/dev/null
"""
ACCOUNTS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy")
ACCOUNTS += ("kim",)
# Every way an account tries to get a root shell; each prints the uid it got, or nothing.
ESCAPES = (
    r"sudo -n find / -maxdepth 0 -exec id -u \;",
    "sudo -n env id -u",
    """sudo -n awk 'BEGIN{system("id -u")}'""",
    """sudo -n python3 -c 'import os; os.system("id -u")'""",
    """sudo -n perl -e 'system("id -u")'""",
    "sudo -n sh -c 'id -u'",
    "sudo -n systemctl restart nginx; sudo -n systemctl status; sudo -n systemctl",
    r"sudo -n -u www-data find / -maxdepth 0 -exec id -u \;",
    # a command the account can rewrite
    r"""printf '#!/bin/sh\nid -u\n' > "$HOME/bin/tool" && sudo -n "$HOME/bin/tool" """,
    # members of the sudo group, with their password
    "id -nG | grep -qw sudo && echo Kim-pw-1 | sudo -S -p '' sh -c 'id -u'",
)
POLICY_SUDO = """\
id: sudo-test
version: "1"
title: sudo (test)
applies_to: {platform: linux}
access:
  admin_accounts: {allowed: [root, grace]}
"""


def _roots_by_behaviour(host: LinuxHost) -> set[str]:
    """Accounts that got uid 0 through one of their sudo rules."""
    roots = set()
    for account in ACCOUNTS:
        script = "; ".join(f"( {e} ) 2>/dev/null" for e in ESCAPES)
        done = host.run(f"su -s /bin/sh {account} -c {shlex.quote(script)}", check=False)
        if "0" in done.stdout.split():
            roots.add(account)
    return roots


def test_privileged_accounts_are_those_that_can_get_a_root_shell(tmp_path, lab, make_host):
    host = make_host("sudoers")
    host.run(SUDO_SETUP)
    behaviour = _roots_by_behaviour(host)
    assert behaviour == set(ACCOUNTS) - {"ivan", "judy"}  # the set-up does what it says

    write_inputs(tmp_path, lab, [host], policy=POLICY_SUDO)
    got = findings(baluarte(tmp_path, "check", "--format", "json"))
    admins = got[("sudoers", "access.admin_accounts")]
    assert admins["status"] == "fail", admins
    privileged = {
        line.partition(": ")[0]
        for line in admins["evidence"].split("\nnot privileged:")[0].splitlines()
    }
    assert privileged - {"root", "grace"} == behaviour - {"grace"}
    observed = admins["observed"]
    assert "alice (sudo: (root) NOPASSWD: /usr/bin/find — root shell escape" in observed
    assert "heidi (sudo: (root) NOPASSWD: /home/heidi/bin/tool — heidi can write" in observed
    assert "kim (member of sudo, sudo: (ALL : ALL) ALL — every command)" in observed
    assert "erin (sudo: (root) NOPASSWD: ALL — every command)" in observed  # the Cmnd_Alias
    # the rules that give no root are shown, with why, not silently passed over
    notes = admins["evidence"].split("\nnot privileged:\n")[1]
    assert "ivan: sudo (www-data) NOPASSWD: /usr/bin/find — runs as www-data" in notes
    assert "ivan: sudo (root) NOPASSWD: /usr/bin/cat /var/log/dpkg.log — fixed arguments" in notes
    assert "judy: sudo (root) NOPASSWD: /usr/bin/systemctl restart nginx — fixed" in notes


def test_sudo_that_cannot_answer_is_an_error_and_no_sudo_is_said(tmp_path, lab, make_host):
    broken, absent = make_host("sudo-broken"), make_host("sudo-absent")
    # sudo refuses to read a world-writable sudoers: it cannot say who may do what
    broken.run("chmod 666 /etc/sudoers")
    absent.run("rm /usr/bin/sudo")
    write_inputs(tmp_path, lab, [broken, absent], policy=POLICY_SUDO)
    got = findings(baluarte(tmp_path, "check", "--format", "json"))
    error = got[("sudo-broken", "access.admin_accounts")]
    assert error["status"] == "error", error
    assert "sudo -l -U" in error["reason"] and "world writable" in error["reason"]
    none = got[("sudo-absent", "access.admin_accounts")]
    assert none["status"] == "pass", none
    assert "sudo is not installed" in none["evidence"]


# -- PAM lockout --------------------------------------------------------------------------------

# nodelay keeps each wrong password from costing seconds; it changes no verdict
PREAUTH_ONLY = """\
auth	required	pam_faillock.so preauth nodelay
auth	[success=1 default=ignore]	pam_unix.so nullok nodelay
auth	requisite	pam_deny.so
auth	required	pam_permit.so
"""
FULL = """\
auth	required	pam_faillock.so preauth nodelay
auth	[success=1 default=ignore]	pam_unix.so nullok nodelay
auth	[default=die]	pam_faillock.so authfail nodelay
auth	sufficient	pam_faillock.so authsucc nodelay
auth	requisite	pam_deny.so
auth	required	pam_permit.so
"""
# failures recorded, but nothing refuses a locked account
AUTHFAIL_ONLY = """\
auth	[success=2 default=ignore]	pam_unix.so nullok nodelay
auth	[default=die]	pam_faillock.so authfail nodelay
auth	requisite	pam_deny.so
auth	required	pam_permit.so
"""
POLICY_PAM = """\
id: lockout-test
version: "1"
title: lockout (test)
applies_to: {platform: linux}
access:
  password_policy: {min_length: 8, complexity: false, lockout_threshold: 5, lockout_minutes: 10}
"""


def _stack(host: LinuxHost, common_auth: str, sshd_auth: str = "") -> None:
    host.run(f"useradd -m alice && echo 'alice:{PASSWORD}' | chpasswd 2>/dev/null")
    host.run("printf 'deny = 3\\nunlock_time = 900\\n' >> /etc/security/faillock.conf")
    host.run(f"cat > /etc/pam.d/common-auth <<'EOF'\n{common_auth}EOF")
    if sshd_auth:  # a stack of its own for sshd, in place of common-auth
        host.run(f"sed -i 's|^@include common-auth$|{sshd_auth}|' /etc/pam.d/sshd")


def _logs_in_after(host: LinuxHost, service: str, wrong: int) -> bool:
    """``wrong`` wrong passwords, then the right one: whether the right one is accepted."""
    host.run("rm -rf /run/faillock")
    for _ in range(wrong):
        done = host.run(f"pamtester {service} alice authenticate", input="nope\n", check=False)
        assert done.returncode != 0
    right = host.run(f"pamtester {service} alice authenticate", input=f"{PASSWORD}\n", check=False)
    return right.returncode == 0


def test_lockout_is_judged_as_pam_runs_the_stack(tmp_path, lab, make_host):
    preauth, full, authfail, sshd_only = (
        make_host("pam-preauth"), make_host("pam-full"), make_host("pam-authfail"),
        make_host("pam-sshd-only"),
    )  # fmt: skip
    _stack(preauth, PREAUTH_ONLY)
    _stack(full, FULL)
    _stack(authfail, AUTHFAIL_ONLY)
    # sshd locks on its own stack, console logins (common-auth) do not
    _stack(sshd_only, PREAUTH_ONLY, r"auth required pam_faillock.so preauth nodelay\n"
           r"auth [success=1 default=ignore] pam_unix.so nodelay\n"
           r"auth [default=die] pam_faillock.so authfail nodelay\n"
           r"auth sufficient pam_faillock.so authsucc nodelay\nauth requisite pam_deny.so")  # fmt: skip

    write_inputs(tmp_path, lab, [preauth, full, authfail, sshd_only], policy=POLICY_PAM)
    got = findings(baluarte(tmp_path, "check", "--format", "json"))

    def verdict(device: str) -> dict:
        return got[(device, "access.password_policy")]

    # the case: preauth alone, which the old reader counted as "lockout after 3"
    assert verdict("pam-preauth")["status"] == "fail"
    assert "no account lockout" in verdict("pam-preauth")["observed"]
    assert "never recorded" in verdict("pam-preauth")["observed"]
    for service in ("sshd", "sudo"):
        assert _logs_in_after(preauth, service, 5)

    assert verdict("pam-full")["status"] == "pass", verdict("pam-full")
    assert "lockout after 3 failures" in verdict("pam-full")["observed"]
    for service in ("sshd", "sudo"):
        assert _logs_in_after(full, service, 2)
        assert not _logs_in_after(full, service, 3)
    assert not _logs_in_after(full, "login", 3)

    assert verdict("pam-authfail")["status"] == "fail"
    assert "still logs in with the right password" in verdict("pam-authfail")["observed"]
    assert _logs_in_after(authfail, "sshd", 5)
    records = authfail.run("faillock --user alice").stdout.splitlines()
    # recorded, up to deny=3 (authfail stops writing then): the lock exists, nothing enforces it
    assert sum(line.rstrip().endswith(" V") for line in records) == 3

    # the weakest service decides, and is named
    weakest = verdict("pam-sshd-only")
    assert weakest["status"] == "fail", weakest
    assert "PAM services login, su, sudo:" in weakest["observed"]
    assert not _logs_in_after(sshd_only, "sshd", 3)
    assert _logs_in_after(sshd_only, "login", 3)
