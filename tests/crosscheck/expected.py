"""Why each tool gets a cell wrong: every disagreement with ground truth must have a cause here.

``CAUSES[(tool, state, row)]`` explains a wrong ``pass``/``fail`` (report.py puts it in
docs/crosscheck.md; test_crosscheck.py fails on a disagreement without one, so a new one cannot
slip into the table unexplained, and on a cause whose disagreement is gone, so none goes stale).

``BALUARTE_GAPS`` are the cells where Baluarte itself is still wrong: tolerated by the
Baluarte-equals-truth test (each listed with its issue class), and strict: once Baluarte gets
one right, the test asks for its removal.
"""

from __future__ import annotations

__all__ = ["BALUARTE_GAPS", "CAUSES", "NO_VERDICT"]

BALUARTE_GAPS: dict[tuple[str, str], str] = {}

_UFW_ACTIVE = (
    "service_ufw_enabled asks systemd whether ufw.service is active and enabled; ufw.service is"
    " a oneshot that succeeds and stays active when /etc/ufw/ufw.conf says ENABLED=no, so the"
    " rule passes on every host with ufw installed, filtering or not"
)
_SSHD_MAIN_ONLY = (
    "reads /etc/ssh/sshd_config only; Debian's sshd_config includes sshd_config.d/*.conf first"
    " and sshd keeps the first value, so the drop-in's PermitRootLogin yes wins"
)
_PWQUALITY_MAIN_ONLY = (
    "reads minlen/minclass from /etc/security/pwquality.conf only; libpwquality also reads"
    " pwquality.conf.d/*.conf (the main file last), where this host sets 14 and 3"
)
_RSYSLOG_LEGACY_ONLY = (
    "rsyslog_remote_loghost matches only legacy selector lines (`*.* @host`, `*.* :omrelp:`) in"
    ' rsyslog.conf and rsyslog.d/*.conf; RainerScript action(type="omfwd") forwarding is not'
    " recognised"
)
_PKGS_7420 = (
    "PKGS-7420 only looks for an unattended-upgrade binary; it does not read whether it is"
    " enabled, what it may install or whether apt can see the security archive"
)
_AUTH_9262 = (
    "AUTH-9262 only looks for a password-quality PAM module (pam_pwquality is there); it reads"
    " no length or class setting"
)
_UID0_ONLY = {
    "openscap": "accounts_no_uid_except_zero reads UIDs in /etc/passwd; sudo grants that make"
    " an account root are outside the rule",
    "lynis": "AUTH-9204 reads UIDs in /etc/passwd; sudo grants that make an account root are"
    " outside the test",
}
_TIME_3104 = (
    "TIME-3104 stays silent in a virtual machine or container (report: vm=1,"
    " vmtype=systemd-nspawn: 'virtual machines usually don't need time synchronization'), and"
    " otherwise only looks for a running NTP daemon"
)

CAUSES: dict[tuple[str, str, str], str] = {
    # -- OpenSCAP ------------------------------------------------------------------------------
    ("openscap", "weak", "firewall_enabled"): _UFW_ACTIVE,
    ("openscap", "fw-fail2ban", "firewall_enabled"): _UFW_ACTIVE,
    ("openscap", "sshd-dropin", "root_login"): _SSHD_MAIN_ONLY,
    ("openscap", "conf-d", "password_quality"): _PWQUALITY_MAIN_ONLY,
    ("openscap", "conf-d", "time_sync"): (
        "chronyd_specify_remote_server reads chrony.conf and chrony.d/*.conf (the RHEL layout);"
        " Debian 12's chrony takes its sources from sources.d/*.sources, where this host's"
        " server is, and polls it"
    ),
    ("openscap", "pam-args", "password_quality"): (
        "reads pwquality.conf only; the pam_pwquality line's own arguments (minlen=8"
        " minclass=1) override the file, and passwd accepted a 13-character password"
    ),
    ("openscap", "rsyslog-action", "remote_logging"): _RSYSLOG_LEGACY_ONLY,
    ("openscap", "rsyslog-include", "remote_logging"): _RSYSLOG_LEGACY_ONLY,
    ("openscap", "rsyslog-dead", "remote_logging"): (
        "rsyslog_remote_loghost reads the configuration, not whether rsyslog runs: it is"
        " stopped and disabled, and nothing reaches the collector"
    ),
    ("openscap", "ntp-unreachable", "time_sync"): (
        "service_chronyd_enabled and chronyd_specify_remote_server pass on a running chronyd"
        " with a pool line; neither asks whether a source answers"
    ),
    ("openscap", "sudo-alias", "admin_accounts"): _UID0_ONLY["openscap"],
    ("openscap", "sudo-include", "admin_accounts"): _UID0_ONLY["openscap"],
    # -- Lynis ---------------------------------------------------------------------------------
    ("lynis", "weak", "automatic_updates"): _PKGS_7420,
    ("lynis", "apt-nosecurity", "automatic_updates"): _PKGS_7420,
    ("lynis", "weak", "password_quality"): _AUTH_9262,
    ("lynis", "pam-args", "password_quality"): _AUTH_9262,
    ("lynis", "weak", "time_sync"): _TIME_3104,
    ("lynis", "ntp-unreachable", "time_sync"): _TIME_3104,
    ("lynis", "fw-fail2ban", "firewall_enabled"): (
        "FIRE-4590 calls a firewall active when the kernel has iptables, and FIRE-4512 calls a"
        " ruleset empty only at 5 rules or fewer; fail2ban's six bans and its jump make eight"
        " rules that filter nothing else"
    ),
    ("lynis", "sshd-match", "root_login"): (
        "SSH-7408 reads `sshd -T` without connection parameters: the global values, never a"
        " Match block"
    ),
    ("lynis", "sudo-alias", "admin_accounts"): _UID0_ONLY["lynis"],
    ("lynis", "sudo-include", "admin_accounts"): _UID0_ONLY["lynis"],
    ("lynis", "apt-nosecurity", "security_updates"): (
        "PKGS-7392 refreshes the lists and greps `-security` in an upgrade simulation; with no"
        " security archive in the sources there is nothing to find"
    ),
    ("lynis", "rsyslog-include", "remote_logging"): (
        'LOGG-2154 looks for @host or target="…" in files under /etc/rsyslog.d only; the'
        " forwarding action is in a file include()d from outside it"
    ),
    # -- Baluarte ------------------------------------------------------------------------------
    **{("baluarte", state, row): why for (state, row), why in BALUARTE_GAPS.items()},
}

# Rows where a tool has a rule or test that gives no verdict on Debian 12, and why.
NO_VERDICT: dict[tuple[str, str], str] = {
    ("openscap", "security_updates"): (
        "security_patches_up_to_date points at Debian's OVAL feed on www.debian.org; without"
        " --fetch-remote-resources (the lab has no internet) it is notchecked. It would judge"
        " Debian's DSA list, not the archive the host is configured for"
    ),
    ("openscap", "default_deny"): (
        "set_iptables_default_rule applies only where neither ufw nor nftables is installed"
        " (Debian 12 servers usually have nftables) and is a manual (OCIL) check anyway"
    ),
}
