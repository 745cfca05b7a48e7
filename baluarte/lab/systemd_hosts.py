"""Real lab hosts with systemd as PID 1: systemd-nspawn containers on the lab's network.

For controls that need a real service manager (timers, ``systemctl show``, ``timedatectl``,
``ssh.service``). A ``SystemdHost`` has the surface of a ``LinuxHost`` (``name``, ``address``,
``port`` 22, ``root``, ``run(cmd)``, ``start_sshd``/``stop_sshd``) and lives in a
``SystemdHostLab``, which is a ``LinuxHostLab`` (key, known_hosts, addresses from the same
10.200.0.0/16 allocator, registry and stale-lab reaper), so ``tests/integration/cli.py`` and
``leftovers()`` take it as they are::

    with SystemdHostLab() as lab:
        host = lab.up("backup1")           # booted: is-system-running = running|degraded, :22 open
        host.write_unit("bk.service", "[Service]\\nType=oneshot\\nExecStart=/bin/true\\n")
        host.systemctl("start", "bk.service")
        host.unit_properties("bk.service", "Result", "ExecMainExitTimestamp")
        # {"Result": "success", "ExecMainExitTimestamp": "Sat 2026-11-28 08:50:01 UTC"}
        host.wait_unit_ran("bk.service")   # the same, once a timer-started run has finished

Pytest fixtures (tests/integration/conftest.py): ``systemd_lab`` (session), ``systemd_host``
(one host named ``sdhost``) and ``make_systemd_host(name, before_boot=None)``.
``before_boot(host)`` runs after the overlay is mounted and before systemd starts: write unit
files, ``/etc/systemd/timesyncd.conf`` or symlinks under ``host.root`` there, so they are in
place at boot. ``host.console_log()`` is the container's console (systemd's boot messages).

What differs from a plain ``LinuxHost``:
* ``run(cmd)`` enters the container's namespaces (nsenter by its PID 1); processes it leaves
  behind are outside the container's service tree, so start daemons with ``systemctl`` (or
  ``systemd-run``) instead.
* The clock is the machine's and cannot be set (CAP_SYS_TIME is dropped), so past service
  runs cannot be faked by time travel. chrony.service is skipped (its
  ``ConditionCapability=CAP_SYS_TIME``); ``chronyd -x`` runs without steering the clock but
  has no NTP server to reach. ``timedatectl show`` works (timedated over D-Bus) and says
  ``NTP=no``; its ``NTPSynchronized`` is the shared kernel clock's state (adjtimex), i.e. the
  machine's, the same in every host: do not build a passing/failing host state on it.
* ``/proc/sys`` is read-only inside; test sysctls on plain lab hosts.
* Measured here (2 cores, load ~6 from other sessions): boot to ready 1.0-2.2 s a host
  (``up`` is sequential: 15 hosts in 23 s), halt ~0.5 s, ~20 MB PSS a host; the image is
  built once, about 3 minutes cold. Plain lab hosts start in ~0.1 s: use these only where
  systemd is the point.

At most ``MAX_RUNNING`` (15) systemd hosts run at once on the machine, counted across every lab
and test run by lock files under ``/run/baluarte-lab/systemd-slots``: each container costs
inotify instances from ``fs.inotify.max_user_instances``, a limit shared by all root
processes that is never raised here. ``up`` waits for a free slot.

Each container gets its own control group (named after its machine, so ``leftovers()`` sees
it): with ``--keep-unit`` systemd-nspawn otherwise puts every container in the same
``payload`` group, where one container's systemd would manage another's processes.
Teardown is a graceful halt (SIGTERM to systemd-nspawn), a second SIGTERM then SIGKILL if it
hangs, then the network, overlay, control groups and nspawn state are removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from baluarte.lab.images import IMAGE_PACKAGES, LabError, ensure_image
from baluarte.lab.linux_hosts import (
    NSPAWN_PROPAGATE,
    REGISTRY,
    LinuxHost,
    LinuxHostLab,
    _port_open,
    _wait_for,
    leftovers,
    remove_cgroup,
    run_inside,
)

__all__ = [
    "MAX_RUNNING",
    "SYSTEMD_PACKAGES",
    "BeforeBoot",
    "LabError",
    "SystemdHost",
    "SystemdHostLab",
    "ensure_systemd_image",
    "inotify_headroom",
    "leftovers",
]

SYSTEMD_PACKAGES: tuple[str, ...] = ("systemd", "systemd-sysv", "dbus")
MAX_RUNNING = 15
SLOTS_DIR = REGISTRY / "systemd-slots"
BOOT_TIMEOUT = 90.0
SLOT_TIMEOUT = 300.0
HALT_TIMEOUT = 20.0
# Measured: a booted host holds about 8 (systemd, journald, logind, dbus, cron, rsyslog…).
INOTIFY_PER_HOST = 10
_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LC_ALL": "C",
    "DEBIAN_FRONTEND": "noninteractive",
    "SYSTEMD_PAGER": "",
    "SYSTEMD_COLORS": "0",
}
# Moves the launcher into the host's own control groups, then becomes systemd-nspawn.
_LAUNCH = 'for c in $BL_CGROUPS; do echo $$ > "$c/cgroup.procs" || exit 1; done; exec "$@"'
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")
# is-system-running states after which the boot will not reach running/degraded.
_DEAD_STATES = {"maintenance", "stopping"}

BeforeBoot = Callable[["SystemdHost"], None]


def ensure_systemd_image() -> Path:
    """The lab image plus systemd, systemd-sysv and dbus (cached apart from the plain one)."""
    return ensure_image(packages=IMAGE_PACKAGES + SYSTEMD_PACKAGES)


def _own_cgroups() -> list[Path]:
    """Where this process sits in the hierarchies systemd-nspawn uses (name=systemd, v2)."""
    mine: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _id, controllers, path = line.split(":", 2)
        if controllers in ("", "name=systemd"):
            mine[controllers] = path
    found = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            pre, _, post = line.partition(" - ")
            fstype, _source, options = post.split()[:3]
            root, point = pre.split()[3:5]
            key = "" if fstype == "cgroup2" else "name=systemd"
            if fstype == "cgroup" and "name=systemd" not in options.split(","):
                continue
            if fstype not in ("cgroup", "cgroup2") or key not in mine:
                continue
            relative = os.path.relpath(mine.pop(key), root)
            found.append(Path(point) / relative)
    return [p.resolve() for p in found]


class SystemdHost(LinuxHost):
    """One booted systemd-nspawn lab host. Create with ``SystemdHostLab.up``."""

    def __init__(
        self,
        lab: SystemdHostLab,
        name: str,
        netns: str,
        hostdir: Path,
        before_boot: BeforeBoot | None,
        capabilities: tuple[str, ...] = (),
    ) -> None:
        super().__init__(lab, name, netns, hostdir)
        self.machine = netns  # carries the lab prefix: nspawn state and cgroups are findable
        self._before_boot = before_boot
        self._capabilities = capabilities
        self._slot: int | None = None
        self._cgroups: list[Path] = []
        self._leader = 0

    def __repr__(self) -> str:
        return f"SystemdHost({self.name!r}, {self.address})"

    def run(
        self, cmd: str, check: bool = True, *, input: str | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run ``sh -c cmd`` as root inside the container (all its namespaces and its root)."""
        if not self._leader:
            raise LabError(f"{self.name} is not running")
        namespaces = ("-m", "-u", "-i", "-n", "-p", "-C", "-r", "-w")
        return run_inside(self.name, self._leader, namespaces, cmd, check, input, timeout)

    def systemctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``systemctl ARGS`` inside the host (arguments are shell-quoted)."""
        quoted = " ".join(_quote(a) for a in args)
        return self.run(f"systemctl --no-pager {quoted}", check=check)

    def write_unit(self, name: str, text: str) -> None:
        """Install ``/etc/systemd/system/<name>`` and reload systemd's configuration."""
        (self.root / "etc/systemd/system" / name).write_text(text)
        self.systemctl("daemon-reload")

    def unit_properties(self, unit: str, *names: str) -> dict[str, str]:
        """``systemctl show -p NAME… unit`` as a dict (values as systemctl prints them)."""
        flags = [f"--property={n}" for n in names]
        out = self.systemctl("show", *flags, "--", unit).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def wait_unit_ran(self, service: str, timeout: float = 60) -> dict[str, str]:
        """Wait until ``service`` has finished a run (e.g. one its timer started).

        Returns its ``Result``, ``ExecMainExitTimestamp``, ``ExecMainStatus`` and
        ``ActiveState``; raises LabError if no run finished within ``timeout`` seconds.
        """
        names = ("Result", "ExecMainExitTimestamp", "ExecMainStatus", "ActiveState")
        deadline = time.monotonic() + timeout
        while True:
            props = self.unit_properties(service, *names, "ExecMainExitTimestampMonotonic")
            finished = props.get("ExecMainExitTimestampMonotonic", "0") != "0"
            if finished and props.get("ActiveState") not in ("activating", "deactivating"):
                return {n: props.get(n, "") for n in names}
            if time.monotonic() > deadline:
                raise LabError(f"{self.name}: {service} did not finish a run in {timeout:.0f} s")
            time.sleep(0.1)

    def console_log(self) -> str:
        """The container's console so far (systemd's boot and shutdown messages)."""
        with contextlib.suppress(OSError):
            return _ANSI.sub("", (self.dir / "console.log").read_text(errors="replace"))
        return ""

    def stop_sshd(self) -> None:
        """``systemctl stop ssh.service``; connections are then refused."""
        self.systemctl("stop", "ssh.service")
        _wait_for(lambda: not _port_open(self.address, self.port), f"{self.name} sshd to stop", 15)

    def start_sshd(self) -> None:
        """``systemctl start ssh.service`` and wait until it accepts connections."""
        self.systemctl("start", "ssh.service")
        _wait_for(lambda: _port_open(self.address, self.port), f"{self.name} sshd", 15)

    # -- lifecycle, called by the lab -------------------------------------------------------

    def _start(self, authorized_key: str) -> None:
        self._slot = _claim_slot(SLOTS_DIR)
        self._prepare(authorized_key)
        # The image's machine-id would be shared by every host (journal directories, D-Bus).
        (self.root / "etc/machine-id").write_text(secrets.token_hex(16) + "\n")
        if self._before_boot is not None:
            self._before_boot(self)
        self._launch()

    def _launch(self) -> None:
        self._cgroups = [parent / self.machine for parent in _own_cgroups()]
        for cgroup in self._cgroups:
            cgroup.mkdir()
        argv = [
            "systemd-nspawn",
            "--quiet",
            f"--directory={self.root}",
            f"--machine={self.machine}",
            f"--hostname={self.name}",
            "--register=no",  # no machined on this machine (its PID 1 is not systemd)
            "--keep-unit",
            f"--network-namespace-path=/run/netns/{self.netns}",
            "--console=read-only",  # boot messages reach console.log as they happen
            "--link-journal=no",  # nothing of the container is written on the machine
            "--resolv-conf=off",
            "--timezone=off",
            *(f"--capability={c}" for c in self._capabilities),
            "--boot",
        ]
        env = {**_ENV, "BL_CGROUPS": " ".join(str(c) for c in self._cgroups)}
        with open(self.dir / "console.log", "wb") as log:
            self._launcher = subprocess.Popen(
                ["/bin/sh", "-c", _LAUNCH, "sh", *argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # a Ctrl-C in the test terminal is not for the hosts
            )
        self._leader = self._wait_leader()
        self._init_pid = self._leader  # LinuxHost's "is running" marker
        self._wait_booted()

    def _boot_failed(self, why: str) -> LabError:
        tail = "\n".join(self.console_log().strip().splitlines()[-40:])
        return LabError(f"{self.name} did not boot: {why}\n--- console (last lines) ---\n{tail}")

    def _wait_leader(self) -> int:
        """The container's PID 1: the nspawn child that is PID 1 of a new PID namespace."""
        assert self._launcher is not None
        pid = self._launcher.pid  # sh execs systemd-nspawn in place
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
                    status = Path(f"/proc/{child}/status").read_text()
                    nspid = re.search(r"^NSpid:\s+(.*)$", status, re.M)
                    if nspid and nspid.group(1).split()[1:] == ["1"]:
                        return int(child)
            if self._launcher.poll() is not None:
                raise self._boot_failed(f"systemd-nspawn exited {self._launcher.returncode}")
            time.sleep(0.01)
        raise self._boot_failed("systemd-nspawn did not start the container's PID 1")

    def _wait_booted(self) -> None:
        assert self._launcher is not None
        deadline = time.monotonic() + BOOT_TIMEOUT
        state = ""
        while True:
            if self._launcher.poll() is not None:
                raise self._boot_failed(f"systemd-nspawn exited {self._launcher.returncode}")
            done = self.run("systemctl is-system-running", check=False, timeout=30)
            state = done.stdout.strip() or done.stderr.strip()
            if state in ("running", "degraded") and _port_open(self.address, self.port):
                return
            if state in _DEAD_STATES:
                raise self._boot_failed(f"systemctl is-system-running says {state}")
            if time.monotonic() > deadline:
                raise self._boot_failed(
                    f"not ready after {BOOT_TIMEOUT:.0f} s (is-system-running: {state!r}, "
                    f"port {self.port} open: {_port_open(self.address, self.port)})"
                )
            time.sleep(0.05)

    def _stop(self) -> None:
        self._halt()
        self._leader = 0
        self._init_pid = 0
        self._launcher = None
        super()._stop()  # network namespace, veth, overlay, host directory
        for cgroup in self._cgroups:
            remove_cgroup(cgroup)
        self._cgroups = []
        # systemd-nspawn removes it on a clean exit; not when it was killed.
        with contextlib.suppress(OSError):
            (NSPAWN_PROPAGATE / self.machine).rmdir()
        if self._slot is not None:
            with contextlib.suppress(OSError):
                os.close(self._slot)
            self._slot = None

    def _halt(self) -> None:
        launcher = self._launcher
        if launcher is None or launcher.poll() is not None:
            return
        # First SIGTERM: nspawn asks the container's systemd to halt. Second: immediate stop.
        for sig, wait in ((signal.SIGTERM, HALT_TIMEOUT), (signal.SIGTERM, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                launcher.send_signal(sig)
            try:
                launcher.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue
        launcher.kill()  # the container's PID namespace dies with its PID 1
        launcher.wait(timeout=10)
        if self._leader:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._leader, signal.SIGKILL)


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


def inotify_headroom() -> int:
    """Inotify instances root may still open before ``fs.inotify.max_user_instances``.

    Counts descriptors, so an instance shared by two descriptors counts twice: an
    underestimate of the headroom, which is the safe side. The sysctl is only read.
    """
    limit = int(Path("/proc/sys/fs/inotify/max_user_instances").read_text())
    used = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if proc.stat().st_uid != 0:
                continue
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    used += os.readlink(fd) == "anon_inode:inotify"
    return limit - used


def _try_slot(slots: Path) -> int | None:
    for index in range(MAX_RUNNING):
        fd = os.open(slots / f"{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return fd
    return None


def _claim_slot(slots: Path, timeout: float = SLOT_TIMEOUT) -> int:
    """Hold one of MAX_RUNNING machine-wide lock files; returns its descriptor.

    The kernel drops the lock when the descriptor is closed or its process dies, so a killed
    test run frees its slots by itself. A slot is only taken while the inotify headroom
    allows one more container (other root processes use instances too).
    """
    slots.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    why = ""
    while True:
        fd = _try_slot(slots)
        if fd is not None:
            headroom = inotify_headroom()
            if headroom >= INOTIFY_PER_HOST:
                return fd
            os.close(fd)
            why = f"only {headroom} inotify instances left for root (fs.inotify.max_user_instances)"
        else:
            why = f"{MAX_RUNNING} systemd lab hosts already running on this machine"
        if time.monotonic() > deadline:
            raise LabError(f"cannot boot a systemd lab host: {why}, for {timeout:.0f} s")
        time.sleep(0.2)


class SystemdHostLab(LinuxHostLab):
    """A LinuxHostLab whose hosts boot systemd (image: lab packages + SYSTEMD_PACKAGES)."""

    def __init__(self, workdir: Path | None = None, image: Path | None = None) -> None:
        if os.geteuid() == 0 and image is None:
            image = ensure_systemd_image()
        super().__init__(workdir, image)
        self._pending_before_boot: BeforeBoot | None = None
        self._pending_capabilities: tuple[str, ...] = ()

    def __enter__(self) -> SystemdHostLab:
        return self

    def up(
        self,
        name: str,
        *,
        before_boot: BeforeBoot | None = None,
        capabilities: tuple[str, ...] = (),
    ) -> SystemdHost:
        """Boot a host named ``name``; returns once systemd has booted and sshd accepts TCP.

        ``before_boot(host)`` may write files under ``host.root`` before systemd starts.
        ``capabilities`` are given to the container beyond nspawn's default set: with
        ``CAP_NET_ADMIN`` its root (and so a check over SSH) can read and change the firewall
        of the host's own network namespace, as on a real server; nspawn withholds it from a
        container that joins an existing namespace.
        Raises LabError with the console's last lines when the boot fails.
        """
        self._pending_before_boot = before_boot
        self._pending_capabilities = capabilities
        try:
            return cast(SystemdHost, super().up(name))
        finally:
            self._pending_before_boot = None
            self._pending_capabilities = ()

    def _new_host(self, name: str, netns: str, hostdir: Path) -> LinuxHost:
        return SystemdHost(
            self, name, netns, hostdir, self._pending_before_boot, self._pending_capabilities
        )
