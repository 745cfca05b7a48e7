"""End to end through the CLI: access and logging controls against real Debian lab hosts.

Three host states in one run: ``hardened`` (every control passes), ``weak`` (every control
fails) and ``broken`` (probes that cannot answer: error, never pass). Lab hosts have no route
to each other, so the NTP server ``hardened`` synchronises to is a second chronyd inside the
same host, serving its local clock on 127.0.0.1:11123; both run with ``-x`` (the clock of a
namespace cannot be set) and the verdict comes from the real ``chronyc tracking``.
"""

from __future__ import annotations

import time

from baluarte.lab.aptrepo import install_packages
from baluarte.lab.linux_hosts import LinuxHost
from tests.integration.cli import baluarte, findings, ssh, write_inputs

POLICY = """\
id: access-logging-test
version: "1"
title: Access and logging (test)
applies_to: {platform: linux}
access:
  ssh_password_authentication: {required: true}
  ssh_root_login: {allowed: prohibit-password}
  admin_accounts: {allowed: [root]}
  password_policy:
    {min_length: 14, complexity: true, lockout_threshold: 5, lockout_minutes: 15, max_age_days: 90}
  insecure_admin_protocols: {forbidden: [telnet, ftp, rsh, rlogin]}
logging:
  remote_forwarding: {required: true, targets: ["logs.example.net:6514"]}
  time_sync: {required: true, max_offset_seconds: 0.5}
"""

HARDEN = r"""
mkdir -p /etc/security/pwquality.conf.d
printf 'minlen = 14\nminclass = 3\n' > /etc/security/pwquality.conf.d/50-baluarte.conf
printf 'deny = 5\nunlock_time = 900\n' >> /etc/security/faillock.conf
sed -i 's/^auth\t\[success=1 default=ignore\]\tpam_unix.so nullok/auth\trequired\tpam_faillock.so preauth\n&\nauth\t[default=die]\tpam_faillock.so authfail\nauth\tsufficient\tpam_faillock.so authsucc/' /etc/pam.d/common-auth
sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t90/' /etc/login.defs
printf '*.* @@logs.example.net:6514\n' > /etc/rsyslog.d/90-remote.conf
rsyslogd >/dev/null 2>&1
mkdir -p /srv/ntp
printf 'local stratum 8\nallow 127.0.0.0/8\nport 11123\ncmdport 0\npidfile /srv/ntp/pid\ndriftfile /srv/ntp/drift\n' > /srv/ntp/chrony.conf
chronyd -x -f /srv/ntp/chrony.conf -u _chrony
sed -i 's/^pool/#pool/' /etc/chrony/chrony.conf
printf 'server 127.0.0.1 port 11123 iburst minpoll -4 maxpoll -4\n' > /etc/chrony/sources.d/lab.sources
chronyd -x
for i in $(seq 50); do chronyc -n tracking | grep -q '^Leap status *: Normal' && exit 0; sleep 0.2; done
exit 1
"""

WEAKEN = r"""
useradd -m -u 1001 alice; useradd -m -u 1002 bob; useradd -o -u 0 -M toor
echo 'alice:Alice-pw-9' | chpasswd
usermod -aG sudo alice
printf 'bob ALL=(ALL) NOPASSWD: ALL\n' > /etc/sudoers.d/bob; chmod 440 /etc/sudoers.d/bob
printf 'Match Address 203.0.113.0/24\n  PasswordAuthentication yes\nMatch User alice\n  PermitRootLogin yes\n' >> /etc/ssh/sshd_config
printf 'minlen = 10\ndcredit = 1\n' >> /etc/security/pwquality.conf
printf '# *.* @@logs.example.net:6514\n' > /etc/rsyslog.d/90-remote.conf
(nc -lk -p 23 </dev/null >/dev/null 2>&1 &)
chronyd -x
"""

# chronyd runs, but its command channel answers nothing; ss is gone
BREAK = r"""
chronyd -x
mv /usr/bin/chronyc /usr/bin/chronyc.real
printf '#!/bin/sh\necho "506 Cannot talk to daemon"\nexit 1\n' > /usr/bin/chronyc
chmod +x /usr/bin/chronyc
mv /usr/bin/ss /usr/bin/ss.real
"""

CONTROLS = (
    "access.ssh_password_authentication",
    "access.ssh_root_login",
    "access.admin_accounts",
    "access.password_policy",
    "access.insecure_admin_protocols",
    "logging.remote_forwarding",
    "logging.time_sync",
)


def _shadow_hash(host: LinuxHost, user: str) -> str:
    for line in (host.root / "etc/shadow").read_text().splitlines():
        name, hashed, *_ = line.split(":")
        if name == user:
            return hashed
    raise AssertionError(f"{user} has no shadow entry")


def test_access_and_logging_pass_fail_and_error_end_to_end(tmp_path, lab, make_host):
    hardened, weak, broken = make_host("hardened"), make_host("weak"), make_host("broken")
    hardened.run(HARDEN)
    weak.run(WEAKEN)
    install_packages(weak, [("telnetd", "0.17-44"), ("vsftpd", "3.0.3-13")])
    broken.run(BREAK)

    write_inputs(tmp_path, lab, [hardened, weak, broken], policy=POLICY)
    result = baluarte(tmp_path, "check", "--format", "json")
    got = findings(result)

    status = {(d, c): f["status"] for (d, c), f in got.items()}
    assert {c: status[("hardened", c)] for c in CONTROLS} == dict.fromkeys(CONTROLS, "pass"), (
        result.stderr,
        {c: got[("hardened", c)] for c in CONTROLS if status[("hardened", c)] != "pass"},
    )
    assert {c: status[("weak", c)] for c in CONTROLS} == dict.fromkeys(CONTROLS, "fail")

    def observed(device: str, control: str) -> str:
        return got[(device, control)]["observed"]

    # the Match block only a connection from 203.0.113.0/24 enters is what fails
    assert "addr=203.0.113.1" in observed("weak", "access.ssh_password_authentication")
    assert "PermitRootLogin yes for connection user=alice" in observed(
        "weak", "access.ssh_root_login"
    )
    admins = observed("weak", "access.admin_accounts")
    assert "toor (UID 0)" in admins
    assert "alice (member of sudo, sudo: (ALL : ALL) ALL — every command)" in admins
    assert "bob (sudo: (ALL) NOPASSWD: ALL — every command)" in admins
    policy = observed("weak", "access.password_policy")
    assert "minimum length 9 < 14" in policy and "no account lockout" in policy
    insecure = observed("weak", "access.insecure_admin_protocols")
    assert "telnet: listening on tcp 0.0.0.0:23 (nc)" in insecure
    assert "package vsftpd installed" in insecure
    assert "no remote forwarding configured" in observed("weak", "logging.remote_forwarding")
    assert "Not synchronised" in observed("weak", "logging.time_sync")
    assert "127.0.0.1" in observed("hardened", "logging.time_sync")

    for control in ("access.insecure_admin_protocols", "logging.time_sync"):
        assert status[("broken", control)] == "error", got[("broken", control)]
    assert "chronyc tracking failed" in got[("broken", "logging.time_sync")]["reason"]
    assert status[("broken", "access.ssh_root_login")] == "pass"

    # account facts come from getent, never /etc/shadow: no hash in any output or the store
    secret = _shadow_hash(weak, "alice")
    assert len(secret) > 20
    for text in (result.stdout, result.stderr):
        assert secret not in text
    assert secret.encode() not in (tmp_path / "runs.db").read_bytes()


def test_an_ssh_server_without_sshd_on_the_path_is_an_error_not_not_applicable(
    tmp_path, lab, linux_host
):
    # OpenSSH run from /opt: "no sshd binary" made the SSH controls not applicable, on the very
    # server Baluarte logged in through
    linux_host.stop_sshd()
    linux_host.run(
        "mkdir -p /opt/openssh/sbin && mv /usr/sbin/sshd /opt/openssh/sbin/sshd"
        " && /opt/openssh/sbin/sshd -E /var/log/baluarte-sshd.log"
    )
    for _ in range(100):
        if ssh(lab, linux_host, "true").returncode == 0:
            break
        time.sleep(0.1)
    assert ssh(lab, linux_host, "command -v sshd; echo $?").stdout.strip() == "1"
    write_inputs(tmp_path, lab, [linux_host], policy=POLICY)
    got = findings(baluarte(tmp_path, "check", "--format", "json"))
    for control in ("access.ssh_password_authentication", "access.ssh_root_login"):
        finding = got[("testhost", control)]
        assert finding["status"] == "error", finding
        reason = finding["reason"]
        assert reason.startswith(
            "no OpenSSH sshd on PATH or at /usr/sbin/sshd, but an SSH server is there: "
            "sshd listening on 0.0.0.0:22"
        )
        assert f"this collection came in over SSH (from {linux_host.gateway})" in reason


def test_an_ssh_server_running_settings_sshd_t_did_not_read_is_an_error_not_a_pass(
    tmp_path, lab, make_host
):
    """sshd -T reads /etc/ssh/sshd_config. A second server root started with a file of its own,
    or the main one given a setting on its command line, serves what was never read."""
    second, option = make_host("ssh-second"), make_host("ssh-option")
    (second.root / "etc/ssh/vendor_config").write_text(
        "Port 2222\nPasswordAuthentication yes\nPermitRootLogin yes\nUsePAM no\n"
    )
    second.run("/usr/sbin/sshd -f /etc/ssh/vendor_config -E /var/log/vendor-sshd.log")
    option.stop_sshd()
    option.run("/usr/sbin/sshd -E /var/log/baluarte-sshd.log -o PasswordAuthentication=yes")
    for host in (second, option):
        for _ in range(100):
            if ssh(lab, host, "true").returncode == 0:
                break
            time.sleep(0.1)
    write_inputs(tmp_path, lab, [second, option], policy=POLICY)
    got = findings(baluarte(tmp_path, "check", "--format", "json"))
    for control in ("access.ssh_password_authentication", "access.ssh_root_login"):
        for device, why in (
            (
                "ssh-second",
                "runs /usr/sbin/sshd -f /etc/ssh/vendor_config -E /var/log/vendor-sshd.log: its "
                "configuration is /etc/ssh/vendor_config, not the /etc/ssh/sshd_config whose "
                "settings sshd -T read",
            ),
            (
                "ssh-option",
                "runs /usr/sbin/sshd -E /var/log/baluarte-sshd.log -o "
                "PasswordAuthentication=yes: PasswordAuthentication=yes on its command line "
                "overrides what sshd -T read",
            ),
        ):
            finding = got[(device, control)]
            assert finding["status"] == "error", finding
            assert why in finding["reason"], finding
