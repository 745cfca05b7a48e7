"""The checks the three tools have in common: one row of the cross-check table each.

Each row names what is true on a host when it passes (``meaning``), how the test establishes
that by behaviour (``truth``, implemented in truth.py), and which Baluarte control, OpenSCAP
rules (SSG ``content_rule_`` suffixes) and Lynis tests answer the same question. A tool with
nothing for a row shows ``—`` and is not counted for it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ROWS", "ROW_IDS", "Row"]


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    meaning: str
    truth: str
    control: str
    # "main" or "lockout": which Baluarte policy the control is judged under (policy in
    # baluarte_run.py); the lockout run judges password_policy on lockout alone.
    policy: str = "main"
    oscap: tuple[str, ...] = ()
    lynis: tuple[str, ...] = ()


ROWS: tuple[Row, ...] = (
    Row(
        "root_login",
        "SSH root login without a password only",
        "root cannot log in over SSH with a password (keys only)",
        "log in over SSH as root with root's password (password and keyboard-interactive)",
        "access.ssh_root_login",
        oscap=("sshd_disable_root_password_login",),
        lynis=("SSH-7408",),
    ),
    Row(
        "password_auth",
        "SSH password authentication off",
        "no account can log in over SSH with a password",
        "log in over SSH as alice with her password (password and keyboard-interactive)",
        "access.ssh_password_authentication",
    ),
    Row(
        "firewall_enabled",
        "Host firewall active",
        "inbound traffic is filtered",
        "from the lab network, connect to a listener on tcp/8080 that no rule allows",
        "firewall.enabled",
        oscap=("service_ufw_enabled",),
        lynis=("FIRE-4512", "FIRE-4590"),
    ),
    Row(
        "default_deny",
        "Firewall default inbound deny",
        "inbound traffic no rule allows is dropped",
        "the same probe: tcp/8080 listens and is not allowed, so it must be unreachable",
        "firewall.default_inbound_deny",
        oscap=("set_iptables_default_rule",),
    ),
    Row(
        "security_updates",
        "No pending security updates",
        "every installed package is at the version the security archive offers",
        "compare the host's installed versions with the lab security archive's Packages",
        "patching.security_updates_pending",
        oscap=("security_patches_up_to_date",),
        lynis=("PKGS-7392",),
    ),
    Row(
        "automatic_updates",
        "Automatic security updates",
        "a security fix published in the archive gets installed without a human",
        "publish a new security fix, run what the apt timers run (apt-daily, apt-daily-upgrade),"
        " see whether it got installed",
        "patching.automatic_updates",
        lynis=("PKGS-7420",),
    ),
    Row(
        "remote_logging",
        "Logs forwarded to a remote collector",
        "a syslog message reaches the collector logs.example.net:6514",
        "logger a unique line, wait for it at the collector",
        "logging.remote_forwarding",
        oscap=("rsyslog_remote_loghost",),
        lynis=("LOGG-2154",),
    ),
    Row(
        "time_sync",
        "Clock synchronised with NTP",
        "the NTP client polls its server and is synchronised to it",
        "the time server saw the client's NTP requests, and `chronyc waitsync` succeeds",
        "logging.time_sync",
        oscap=("service_chronyd_enabled", "chronyd_specify_remote_server"),
        lynis=("TIME-3104",),
    ),
    Row(
        "admin_accounts",
        "No privileged accounts but root",
        "no account other than root can act as UID 0 (UID-0 accounts, sudo grants)",
        "as each account, run `id -u` directly and through sudo (password, NOPASSWD and a"
        " find -exec escape); any 0 fails",
        "access.admin_accounts",
        oscap=("accounts_no_uid_except_zero",),
        lynis=("AUTH-9204",),
    ),
    Row(
        "insecure_daemons",
        "No cleartext admin daemons",
        "nothing answers on the telnet, ftp, rlogin or rsh ports",
        "from the lab network, connect to tcp/23, 21, 513 and 514",
        "access.insecure_admin_protocols",
        oscap=("package_telnetd_removed", "package_rsh_removed", "package_xinetd_removed"),
        lynis=("INSE-8002", "INSE-8006", "INSE-8016", "INSE-8304", "INSE-8322"),
    ),
    Row(
        "password_quality",
        "Password quality (14 characters, 3 classes)",
        "PAM refuses new passwords shorter than 14 characters or of fewer than 3 classes",
        "as alice, change her password with passwd (PAM) to a 13-character"
        " 4-class one and a 16-character 1-class one (both must be refused) and a good one"
        " (must be accepted)",
        "access.password_policy",
        oscap=("accounts_password_pam_minlen", "accounts_password_pam_minclass"),
        lynis=("AUTH-9262",),
    ),
    Row(
        "lockout",
        "Account lockout after 5 failures",
        "after at most 5 wrong passwords the right one is refused too",
        "drive PAM (pamtester, service sshd) with 5 wrong passwords for alice, then the right one",
        "access.password_policy",
        policy="lockout",
        oscap=("accounts_passwords_pam_faillock_deny",),
    ),
)
ROW_IDS: tuple[str, ...] = tuple(row.id for row in ROWS)
