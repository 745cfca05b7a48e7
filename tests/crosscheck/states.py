"""The host states of the cross-check: small declarative setups run inside each lab host.

Every host starts as the same Debian 12 server (``BASE``, see host.py): Debian's own sshd
defaults, root and alice with known passwords, a time server and a syslog collector of its own,
a listener on tcp/8080 no firewall rule allows. A state then adds its parts: ``hardened`` is what
all three tools should pass, ``weak`` a typical unhardened server, and each trap is ``hardened``
with one part replaced, so one row shows the trap.

``apt`` picks how the lab security archive and the host's view of it relate:
``patched`` (fix installed), ``pending`` (fix visible, not installed), ``stale`` (fix published
after the host's package lists were last fetched, 20 days ago), ``no-security-source`` (the host
never looks at the security archive).

``unknowable``: rows where Baluarte cannot establish the fact from the host and must say
``error`` rather than guess (``fail`` is also right when the truth is fail). ``blind``: rows
whose only evidence the state breaks: Baluarte must say ``error``. ``waive``: controls waived
for the host in waivers.yaml; a waiver never turns ``error`` into ``waived``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = ["HARDENED", "STATES", "HostState"]

Apt = Literal["patched", "pending", "stale", "no-security-source"]

# -- the parts of a hardened host --------------------------------------------------------------
# sshd_config itself (OpenSCAP reads no other file); Debian's file includes sshd_config.d first,
# and sshd keeps the first value it reads, so these appended lines hold unless a drop-in says
# otherwise.
SSH_HARDENED = r"""
printf '\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n' >> /etc/ssh/sshd_config
"""
FIREWALL_UFW = r"""
ufw default deny incoming >/dev/null
ufw allow from 10.0.0.0/8 to any port 22 proto tcp >/dev/null
ufw --force enable >/dev/null
"""
UPDATES_AUTO = r"""
printf 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n' \
  > /etc/apt/apt.conf.d/20auto-upgrades
"""
LOGGING_FORWARD = r"""
printf '*.* @@logs.example.net:6514\n' > /etc/rsyslog.d/90-remote.conf
"""
TIME_CHRONY = r"""
systemctl enable --now chrony 2>/dev/null
"""
PWQUALITY_MAIN = r"""
printf 'minlen = 14\nminclass = 3\n' >> /etc/security/pwquality.conf
"""
# pam_faillock(8)'s own example stack; deny and unlock_time in faillock.conf
_COMMON_AUTH_FAILLOCK = (
    "auth\trequired\tpam_faillock.so preauth\n"
    "auth\t[success=1 default=ignore]\tpam_unix.so nullok\n"
    "auth\t[default=die]\tpam_faillock.so authfail\n"
    "auth\tsufficient\tpam_faillock.so authsucc\n"
    "auth\trequisite\tpam_deny.so\n"
    "auth\trequired\tpam_permit.so\n"
)
LOCKOUT_FAILLOCK = rf"""
printf 'deny = 5\nunlock_time = 900\n' >> /etc/security/faillock.conf
printf '{_COMMON_AUTH_FAILLOCK}' > /etc/pam.d/common-auth
printf 'account\trequired\tpam_faillock.so\n' >> /etc/pam.d/common-account
"""

HARDENED: MappingProxyType[str, str] = MappingProxyType(
    {
        "ssh": SSH_HARDENED,
        "firewall": FIREWALL_UFW,
        "updates": UPDATES_AUTO,
        "logging": LOGGING_FORWARD,
        "time": TIME_CHRONY,
        "accounts": "",
        "pwquality": PWQUALITY_MAIN,
        "lockout": LOCKOUT_FAILLOCK,
    }
)

# -- weak -------------------------------------------------------------------------------------
WEAK: MappingProxyType[str, str] = MappingProxyType(
    {
        # Debian's default PasswordAuthentication is yes
        "ssh": "printf '\\nPermitRootLogin yes\\n' >> /etc/ssh/sshd_config\n",
        "firewall": "",
        "updates": r"""
printf 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "0";\n' \
  > /etc/apt/apt.conf.d/20auto-upgrades
""",
        "logging": "printf '# *.* @@logs.example.net:6514\\n' > /etc/rsyslog.d/90-remote.conf\n",
        "time": "",
        "accounts": r"""
useradd -o -u 0 -g 0 -M -d /root -s /bin/bash toor
echo 'toor:Xc-Toor-pw-2024' | chpasswd 2>/dev/null
""",
        "pwquality": "",
        "lockout": "",
    }
)

# -- traps ------------------------------------------------------------------------------------
SSH_CLOUD_INIT_DROPIN = (
    SSH_HARDENED
    + r"""
printf 'PasswordAuthentication yes\nPermitRootLogin yes\n' > /etc/ssh/sshd_config.d/50-cloud-init.conf
"""
)
SSH_MATCH = (
    SSH_HARDENED
    + r"""
printf 'Match Address 10.200.0.0/16\n    PasswordAuthentication yes\n    PermitRootLogin yes\n' \
  >> /etc/ssh/sshd_config
"""
)
SSH_KBDINT = (
    SSH_HARDENED
    + r"""
sed -i 's/^KbdInteractiveAuthentication no/KbdInteractiveAuthentication yes/' /etc/ssh/sshd_config
"""
)
PWQUALITY_DROPIN = r"""
mkdir -p /etc/security/pwquality.conf.d
printf 'minlen = 14\nminclass = 3\n' > /etc/security/pwquality.conf.d/50-site.conf
"""
# Debian 12's chrony reads its sources from sources.d (the package's own layout)
TIME_SOURCES_D = r"""
sed -i '/port 11123/d' /etc/chrony/chrony.conf
printf 'server 127.0.0.1 port 11123 iburst minpoll -4 maxpoll -4\n' > /etc/chrony/sources.d/site.sources
systemctl enable --now chrony 2>/dev/null
"""
PWQUALITY_PAM_ARGS = (
    PWQUALITY_MAIN
    + r"""
sed -i 's/pam_pwquality.so retry=3/pam_pwquality.so retry=3 minlen=8 minclass=1/' /etc/pam.d/common-password
"""
)
# faillock counts nothing without its authfail line: preauth alone never locks
LOCKOUT_PREAUTH_ONLY = r"""
printf 'deny = 5\nunlock_time = 900\n' >> /etc/security/faillock.conf
sed -i 's/^auth\t\[success=1 default=ignore\]\tpam_unix.so nullok/auth\trequired\tpam_faillock.so preauth\n&/' /etc/pam.d/common-auth
"""
SUDO_FIND_ALIAS = r"""
printf 'Cmnd_Alias SEARCH = /usr/bin/find\nalice ALL=(root) NOPASSWD: SEARCH\n' > /etc/sudoers.d/helpdesk
chmod 440 /etc/sudoers.d/helpdesk
"""
SUDO_INCLUDE_OUTSIDE = r"""
printf '@include /etc/sudoers.local\n' >> /etc/sudoers
printf 'User_Alias OPS = alice\nOPS ALL=(ALL:ALL) ALL\n' > /etc/sudoers.local
chmod 440 /etc/sudoers.local
visudo -cq
"""
# fail2ban's shape: INPUT policy ACCEPT, a jump to a chain of bans that returns
FIREWALL_FAIL2BAN = r"""
iptables -N f2b-sshd
for ip in 198.51.100.7 198.51.100.23 203.0.113.5 203.0.113.77 192.0.2.44 192.0.2.99; do
  iptables -A f2b-sshd -s "$ip/32" -j REJECT --reject-with icmp-port-unreachable
done
iptables -A f2b-sshd -j RETURN
iptables -I INPUT -p tcp -m multiport --dports 22 -j f2b-sshd
"""
LOGGING_OMFWD_ACTION = r"""
cat > /etc/rsyslog.d/90-remote.conf <<'EOF'
action(type="omfwd"
       target="logs.example.net" port="6514" protocol="tcp"
       queue.type="LinkedList" queue.size="10000"
       action.resumeRetryCount="-1")
EOF
"""
LOGGING_RULESET_INCLUDE = r"""
mkdir -p /etc/rsyslog-site
cat > /etc/rsyslog-site/forward.conf <<'EOF'
ruleset(name="forward") {
    action(type="omfwd" target="logs.example.net" port="6514" protocol="tcp")
}
call forward
EOF
printf 'include(file="/etc/rsyslog-site/forward.conf")\n' > /etc/rsyslog.d/90-remote.conf
"""
LOGGING_DEAD = (
    LOGGING_FORWARD
    + r"""
systemctl disable --now rsyslog.service syslog.socket 2>/dev/null
"""
)
# Debian's chrony.conf as shipped: only the Debian pool, which the lab cannot reach
TIME_UNREACHABLE = r"""
sed -i 's/^#pool /pool /; /port 11123/d' /etc/chrony/chrony.conf
systemctl enable --now chrony 2>/dev/null
"""
# every source Baluarte has for time sync and listening daemons answers nothing usable
BLIND_PROBES = r"""
mv /usr/bin/chronyc /usr/bin/chronyc.orig
printf '#!/bin/sh\necho "506 Cannot talk to daemon"\nexit 1\n' > /usr/bin/chronyc
printf '#!/bin/sh\necho "Failed to connect to bus: Connection refused" >&2\nexit 1\n' > /usr/bin/timedatectl
chmod 755 /usr/bin/chronyc /usr/bin/timedatectl
mv /usr/bin/ss /usr/bin/ss.orig
"""


@dataclass(frozen=True)
class HostState:
    name: str
    summary: str
    trap: str
    parts: MappingProxyType[str, str]
    apt: Apt = "patched"
    legacy_daemons: bool = False
    extra: str = ""
    unknowable: frozenset[str] = field(default_factory=frozenset)
    blind: frozenset[str] = field(default_factory=frozenset)
    waive: tuple[str, ...] = ()

    def setup(self) -> str:
        """The state's shell, run inside the host after the base setup."""
        return "set -e\n" + "".join(self.parts.values()) + self.extra


def _hardened_but(**parts: str) -> MappingProxyType[str, str]:
    assert set(parts) <= set(HARDENED), parts
    return MappingProxyType({**HARDENED, **parts})


STATES: tuple[HostState, ...] = (
    HostState(
        "weak",
        "a typical unhardened Debian 12 server: root and password SSH logins, no firewall, a"
        " pending security fix and unattended-upgrades off, no log forwarding, no time sync, a"
        " second UID-0 account, telnetd (inetd) and vsftpd running, Debian's password defaults,"
        " no lockout",
        "",
        WEAK,
        apt="pending",
        legacy_daemons=True,
    ),
    HostState("hardened", "what all three tools should pass", "", HARDENED),
    HostState(
        "sshd-dropin",
        "sshd_config hardened, but a cloud-init drop-in in sshd_config.d turns password and"
        " root logins back on",
        "OpenSCAP blind spot (drop-ins)",
        _hardened_but(ssh=SSH_CLOUD_INIT_DROPIN),
    ),
    HostState(
        "sshd-match",
        "a Match Address block for the lab network allows password and root logins",
        "OpenSCAP/Lynis blind spot (Match blocks)",
        _hardened_but(ssh=SSH_MATCH),
    ),
    HostState(
        "sshd-kbdint",
        "PasswordAuthentication no, but KbdInteractiveAuthentication yes with UsePAM: PAM asks"
        " for the password",
        "misc",
        _hardened_but(ssh=SSH_KBDINT),
    ),
    HostState(
        "conf-d",
        "password quality set in pwquality.conf.d and the NTP server in chrony's sources.d,"
        " Debian 12's own drop-in directories",
        "OpenSCAP blind spot (drop-ins)",
        _hardened_but(pwquality=PWQUALITY_DROPIN, time=TIME_SOURCES_D),
    ),
    HostState(
        "pam-args",
        "pwquality.conf says 14 characters, the pam_pwquality line in common-password says"
        " minlen=8 minclass=1 (module arguments win)",
        "OpenSCAP blind spot (module arguments)",
        _hardened_but(pwquality=PWQUALITY_PAM_ARGS),
    ),
    HostState(
        "lockout-preauth",
        "faillock.conf deny = 5 and pam_faillock preauth in common-auth, but no authfail line:"
        " failures are never counted",
        "class 3 (partial PAM stack)",
        _hardened_but(lockout=LOCKOUT_PREAUTH_ONLY),
    ),
    HostState(
        "sudo-alias",
        "alice may run find as root without a password, through a Cmnd_Alias (find -exec is a"
        " root shell)",
        "class 2 (root-equivalent sudo)",
        _hardened_but(accounts=SUDO_FIND_ALIAS),
    ),
    HostState(
        "sudo-include",
        "/etc/sudoers @includes /etc/sudoers.local (outside sudoers.d), where a User_Alias"
        " gives alice ALL",
        "class 2 (root-equivalent sudo)",
        _hardened_but(accounts=SUDO_INCLUDE_OUTSIDE),
    ),
    HostState(
        "fw-fail2ban",
        "no firewall but fail2ban's: INPUT policy ACCEPT, a jump to a chain of six bans that"
        " returns",
        "class 6 (nothing filtered)",
        _hardened_but(firewall=FIREWALL_FAIL2BAN),
    ),
    HostState(
        "rsyslog-action",
        'forwarding by a multi-line action(type="omfwd" … queue.type="LinkedList")',
        "class 7 (rsyslog forwarding shapes)",
        _hardened_but(logging=LOGGING_OMFWD_ACTION),
    ),
    HostState(
        "rsyslog-include",
        "forwarding by a ruleset in a file that rsyslog.d include()s from outside rsyslog.d",
        "class 7 (rsyslog forwarding shapes)",
        _hardened_but(logging=LOGGING_RULESET_INCLUDE),
    ),
    HostState(
        "rsyslog-dead",
        "forwarding configured, rsyslog stopped and disabled",
        "OpenSCAP blind spot (configuration, not service)",
        _hardened_but(logging=LOGGING_DEAD),
    ),
    HostState(
        "ntp-unreachable",
        "chrony enabled and running with Debian's pool, which it cannot reach",
        "running is not synchronised",
        _hardened_but(time=TIME_UNREACHABLE),
    ),
    HostState(
        "apt-stale",
        "the security fix was published after the host's package lists were last fetched"
        " (20 days ago)",
        "class 1 (stale package lists)",
        HARDENED,
        apt="stale",
        unknowable=frozenset({"security_updates"}),
    ),
    HostState(
        "apt-nosecurity",
        "the host's apt sources do not include the security archive",
        "class 1 (no security source)",
        HARDENED,
        apt="no-security-source",
        unknowable=frozenset({"security_updates"}),
    ),
    HostState(
        "blind",
        "hardened, but chronyc and timedatectl cannot reach their daemons and ss is missing;"
        " both controls waived",
        "class 5 (a waiver turning error into waived)",
        HARDENED,
        extra=BLIND_PROBES,
        blind=frozenset({"time_sync", "insecure_daemons"}),
        waive=("logging.time_sync", "access.insecure_admin_protocols"),
    ),
)
