"""Bring a booted cross-check host into a state: the common base, apt, daemons, the state.

The base is a Debian 12 server as installed, plus what the probes need and lab hosts lack:
* Debian's sshd defaults (the lab image's key-only drop-in removed), root and alice with
  known passwords (PASSWORDS);
* ``logs.example.net`` is the host's own address, where ``lab-collector`` (nc) writes what it
  receives on tcp/6514 to COLLECTOR_LOG: lab hosts have no route to each other;
* ``lab-ntp``, a second chronyd (run as ``lab-clockd``) serving the local clock on
  127.0.0.1:11123, with its command socket apart so the probe can ask whom it served; chrony
  points at it. The clock belongs to
  the machine, so both run with ``-x`` (never steer it);
* ``lab-listener`` on tcp/8080, a port no rule of any state allows;
* the lab archive as this site's security archive for unattended-upgrades;
* copies of the probe's own tools under /opt/xc, so a state that breaks chronyc breaks the
  tools under test, not the probe.

Two lab limitations are lifted so that verdicts do not depend on the machine:
* systemd-nspawn keeps CAP_NET_ADMIN from a container that joins an existing network namespace:
  without it no service or SSH session inside could list or load firewall rules, as none could
  on a real server's root. The hosts are booted with it (``CAPABILITIES``).
* The kernel clock is the machine's and the hosts' chronyd runs with ``-x``, so the kernel's
  "NTP synchronised" flag, which timedatectl reports, is the machine's, not the host's. On a
  real host chronyd steers the clock and the flag follows it: a timedatectl stand-in reports it
  so (from the host's chronyd), everything else is the real timedatectl's output.
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from baluarte.lab.aptrepo import REPO_DIR, SECURITY_SUITE, install_packages, publish_updates
from baluarte.lab.systemd_hosts import SystemdHost
from tests.crosscheck.states import HostState

__all__ = [
    "CAPABILITIES",
    "COLLECTOR_LOG",
    "LISTENER_PORT",
    "PASSWORDS",
    "SECURITY_FIX",
    "apply_state",
    "publish_auto_fix",
    "security_archive",
]

PASSWORDS = {"root": "Xc-Root-pw-2024", "alice": "Xc-Alice-pw-2024", "toor": "Xc-Toor-pw-2024"}
COLLECTOR_LOG = "/var/tmp/collector.log"
LISTENER_PORT = 8080
SECURITY_FIX = ("bl-sec", "1.0", "1.0+deb12u1")
_SOURCES = "etc/apt/sources.list.d/baluarte-repo.list"

_FILES = {
    # chrony.service is skipped without CAP_SYS_TIME; with -x chronyd never needs it
    "etc/systemd/system/chrony.service.d/lab.conf": "[Unit]\nConditionCapability=\n",
    "etc/default/chrony": 'DAEMON_OPTS="-F 1 -x"\n',
    # the lab time server runs as "lab-clockd": a second process named chronyd (or *ntpd*)
    # would pass for the host's own NTP client with any tool that looks at process names
    "srv/labclock/chrony.conf": (
        "local stratum 8\nallow 127.0.0.0/8\nport 11123\n"
        "bindcmdaddress /run/lab-ntp/chronyd.sock\ncmdport 0\n"
        "pidfile /run/lab-ntp/chronyd.pid\ndriftfile /srv/labclock/drift\n"
    ),
    "etc/systemd/system/lab-ntp.service": (
        "[Unit]\nDescription=lab time server\n[Service]\n"
        "ExecStartPre=/usr/bin/install -d -m 0750 -o _chrony -g _chrony /run/lab-ntp\n"
        "ExecStart=/opt/xc/lab-clockd -d -x -f /srv/labclock/chrony.conf\n"
        "[Install]\nWantedBy=multi-user.target\n"
    ),
    "etc/systemd/system/lab-collector.service": (
        "[Unit]\nDescription=lab syslog collector (logs.example.net:6514)\n[Service]\n"
        "ExecStart=/bin/nc -lk {address} 6514\n"
        f"StandardOutput=append:{COLLECTOR_LOG}\n"
        "[Install]\nWantedBy=multi-user.target\n"
    ),
    "etc/systemd/system/lab-listener.service": (
        f"[Unit]\nDescription=lab listener no firewall rule allows\n[Service]\n"
        f"ExecStart=/bin/nc -lk {LISTENER_PORT}\nStandardOutput=null\n"
        "[Install]\nWantedBy=multi-user.target\n"
    ),
    "opt/xc/timedatectl": (
        "#!/bin/sh\n"
        "# Lab stand-in (tests/crosscheck/host.py): the kernel clock's NTP flag as the host's\n"
        "# chronyd would leave it on a real server; the rest is the real timedatectl.\n"
        "synced=no\n"
        "/opt/xc/chronyc -n tracking 2>/dev/null | grep -q '^Leap status *: Normal' && synced=yes\n"
        '/usr/bin/timedatectl.distrib "$@" | sed -e "s/^NTPSynchronized=.*/NTPSynchronized=$synced/"'
        ' -e "s/System clock synchronized: .*/System clock synchronized: $synced/"\n'
    ),
    "etc/apt/apt.conf.d/51lab-security-origin": (
        f'Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename={SECURITY_SUITE},'
        'label=Debian-Security";\n'
    ),
}

_BASE = r"""
set -e
# systemd-nspawn mounts a tmpfs on /tmp; Debian 12 keeps /tmp on disk, and the lab's apt helpers
# hand packages over through the overlay's /tmp
umount -l /tmp
rm -f /etc/ssh/sshd_config.d/00-baluarte-lab.conf
echo 'root:{root}' | chpasswd 2>/dev/null
useradd -m -s /bin/bash alice
echo 'alice:{alice}' | chpasswd 2>/dev/null
echo '{address} logs.example.net' >> /etc/hosts
sed -i 's/^pool /#pool /' /etc/chrony/chrony.conf
printf 'server 127.0.0.1 port 11123 iburst minpoll -4 maxpoll -4\n' >> /etc/chrony/chrony.conf
cp /usr/bin/chronyc /opt/xc/chronyc
cp /usr/sbin/chronyd /opt/xc/lab-clockd
dpkg-divert --quiet --local --rename --add /usr/bin/timedatectl
install -m 755 /opt/xc/timedatectl /usr/bin/timedatectl
systemctl daemon-reload
systemctl enable --now lab-ntp lab-collector lab-listener 2>/dev/null
systemctl disable --now chrony 2>/dev/null
"""

# After the state: services re-read their configuration, sshd must accept it, and a client
# pointed at the lab time server gets the time to synchronise before any tool looks.
_SETTLE = r"""
set -e
sshd -t
systemctl restart ssh
systemctl try-restart rsyslog
if systemctl -q is-active chrony && grep -qs 'port 11123' /etc/chrony/chrony.conf /etc/chrony/sources.d/*; then
  /opt/xc/chronyc waitsync 300 0.5 0 0.2 >/dev/null
fi
"""


# nspawn withholds CAP_NET_ADMIN from a container joining an existing network namespace
CAPABILITIES = ("CAP_NET_ADMIN",)


def _write_base_files(host: SystemdHost) -> None:
    for relative, text in _FILES.items():
        path = host.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("{address}", host.address))


def _age_package_lists(host: SystemdHost, days: int) -> None:
    """Make the host's package lists look fetched ``days`` ago (Date: field and mtime)."""
    then = datetime.now(UTC) - timedelta(days=days)
    stamp = format_datetime(then, usegmt=True)
    lists = host.root / "var/lib/apt/lists"
    for release in lists.glob("*Release"):
        lines = release.read_text().splitlines()
        dated = [f"Date: {stamp}" if line.startswith("Date:") else line for line in lines]
        release.write_text("\n".join(dated) + "\n")
    when = shlex.quote(then.strftime("%Y-%m-%d %H:%M:%S UTC"))
    host.run(f"touch -d {when} /var/lib/apt/lists/*_* /var/lib/apt/periodic/* 2>/dev/null; true")


def _apt(host: SystemdHost, state: HostState) -> None:
    name, old, _new = SECURITY_FIX
    if state.apt == "stale":
        install_packages(host, [(name, old)])
        publish_updates(host, normal=[])  # empty suites: the lists the host fetched back then
        host.run("cp -a /var/lib/apt/lists /var/tmp/lists-before-fix")
        publish_updates(host, normal=[], security=[SECURITY_FIX])
        host.run("rm -rf /var/lib/apt/lists && mv /var/tmp/lists-before-fix /var/lib/apt/lists")
        _age_package_lists(host, 20)
        return
    publish_updates(host, normal=[], security=[SECURITY_FIX])
    if state.apt == "patched":
        host.run(f"apt-get install -y -q {name} >/dev/null")
    elif state.apt == "no-security-source":
        sources = host.root / _SOURCES
        kept = [line for line in sources.read_text().splitlines() if SECURITY_SUITE not in line]
        sources.write_text("\n".join(kept) + "\n")
        host.run("apt-get update -q >/dev/null")


def _legacy_daemons(host: SystemdHost, debs: Path) -> None:
    inbox = host.root / "var/tmp/legacy-debs"
    inbox.mkdir(parents=True, exist_ok=True)
    for deb in debs.glob("*.deb"):
        (inbox / deb.name).write_bytes(deb.read_bytes())
    # policy-rc.d keeps package scripts from starting them: start them as their units would
    host.run("dpkg -i /var/tmp/legacy-debs/*.deb >/dev/null 2>&1 && rm -rf /var/tmp/legacy-debs")
    # Debian registers telnet in inetd.conf switched off ("#<off>#"): the admin switched it on
    host.run(
        "update-inetd --enable telnet && systemctl enable --now inetd vsftpd 2>/dev/null"
        " && systemctl restart inetd"
    )


def apply_state(host: SystemdHost, state: HostState, legacy_debs: Path) -> None:
    """Base, apt, daemons, the state's parts, then settle (sshd valid, services reloaded)."""
    _write_base_files(host)
    host.run(_BASE.format(root=PASSWORDS["root"], alice=PASSWORDS["alice"], address=host.address))
    _apt(host, state)
    if state.legacy_daemons:
        _legacy_daemons(host, legacy_debs)
    host.run(state.setup())
    host.run(_SETTLE, timeout=120)


def publish_auto_fix(host: SystemdHost) -> tuple[str, str]:
    """Publish a new security fix (bl-auto) the way the archive would; the host's apt
    sources are left as the state made them. Returns (package, fixed version)."""
    sources = host.root / _SOURCES
    before = sources.read_text()
    name, old, new = "bl-auto", "1.0", "1.0+deb12u1"
    publish_updates(host, normal=[], security=[(name, old, new)])
    sources.write_text(before)
    return name, new


def security_archive(host: SystemdHost) -> dict[str, str]:
    """{package: version} the lab security archive offers (its Packages file)."""
    packages = host.root / REPO_DIR / "dists" / SECURITY_SUITE / "main/binary-all/Packages"
    offered: dict[str, str] = {}
    name = ""
    for line in packages.read_text().splitlines() if packages.exists() else []:
        if line.startswith("Package: "):
            name = line.split(": ", 1)[1]
        elif line.startswith("Version: ") and name:
            offered[name] = line.split(": ", 1)[1]
    return offered
