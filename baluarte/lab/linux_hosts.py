"""Real Linux test hosts: an overlay of the lab image, its own namespaces and sshd.

Each host is an overlay (lower = the cached image, upper = per host) chrooted inside its own
network, UTS, PID and mount namespaces, reachable by real SSH at ``10.200.I.2:22`` over a veth
pair whose host side holds ``10.200.I.1/30``::

    with LinuxHostLab() as lab:
        host = lab.up("web1")
        host.run("hostname").stdout          # "web1\\n"
        # ssh -i lab.key_path -o UserKnownHostsFile=lab.known_hosts_path root@host.address

Several labs may run at once on one machine (other engineers' test runs): subnet indexes are
claimed by atomically creating the veth named after the index (``blv<I>``), and every other
name (network namespaces, the work directory, the veth alias) carries the lab's unique prefix,
which is what ``leftovers()`` and the stale-lab reaper look for.
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from baluarte.lab.images import LabError, ensure_image, unmount_under

__all__ = [
    "HostCommandError",
    "LabError",
    "LinuxHost",
    "LinuxHostLab",
    "leftovers",
    "reap_stale_labs",
    "remove_cgroup",
    "run_inside",
]

NETWORK = ipaddress.IPv4Network("10.200.0.0/16")
SLOTS = NETWORK.num_addresses // 4  # one /30 per host
VETH_PREFIX = "blv"
REGISTRY = Path("/run/baluarte-lab")
SSH_PORT = 22
_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LC_ALL": "C",
    "DEBIAN_FRONTEND": "noninteractive",
}
_SSHD = "/usr/sbin/sshd -E /var/log/baluarte-sshd.log"
# PID 1 of the host's PID namespace, run chrooted. It stays up while sshd is stopped, so a host
# keeps its processes and run() keeps working. Only net.* sysctls (private to the netns) stay
# writable: the rest of /proc/sys is the machine's own kernel.
_INIT_PATH = "run/baluarte-init"
_INIT = f"""set -e
hostname "$1"
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,rw /proc/sys/net
mount -t sysfs -o ro sysfs /sys
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx
{_SSHD}
while :; do sleep infinity & wait; done
"""


class HostCommandError(LabError):
    """A command run inside a lab host exited non-zero."""

    def __init__(self, host: str, cmd: str, done: subprocess.CompletedProcess[str]) -> None:
        self.returncode = done.returncode
        self.stdout = done.stdout
        self.stderr = done.stderr
        super().__init__(f"{host}: `{cmd}` exited {done.returncode}: {done.stderr.strip()[-2000:]}")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    # C locale: the "File exists" of a taken slot is matched by text.
    done = subprocess.run(["ip", *args], capture_output=True, text=True, env=_ENV, check=False)
    if check and done.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


def _port_open(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise LabError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


def run_inside(
    name: str,
    pid: int,
    namespaces: tuple[str, ...],
    cmd: str,
    check: bool,
    input: str | None,
    timeout: float,
) -> subprocess.CompletedProcess[str]:
    """``sh -c cmd`` in the namespaces (nsenter flags) and root of process ``pid``."""
    done = subprocess.run(
        ["nsenter", "-t", str(pid), *namespaces, "/bin/sh", "-c", cmd],
        input=input,
        capture_output=True,
        text=True,
        env=_ENV,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise HostCommandError(name, cmd, done)
    return done


class LinuxHost:
    """One running lab host. Create with ``LinuxHostLab.up``, never directly."""

    def __init__(self, lab: LinuxHostLab, name: str, netns: str, hostdir: Path) -> None:
        self.name = name
        self.netns = netns
        # Set once a subnet slot is claimed; until then there is no veth of ours to delete.
        self.index = -1
        self.veth = ""
        self.gateway = ""
        self.address = ""
        self.port = SSH_PORT
        self.dir = hostdir
        self.root = hostdir / "root"
        self._lab = lab
        self._launcher: subprocess.Popen[bytes] | None = None
        self._init_pid = 0

    def _assign(self, index: int) -> None:
        base = int(NETWORK.network_address) + 4 * index
        self.index = index
        self.veth = f"{VETH_PREFIX}{index}"
        self.gateway = str(ipaddress.IPv4Address(base + 1))
        self.address = str(ipaddress.IPv4Address(base + 2))

    def __repr__(self) -> str:
        return f"LinuxHost({self.name!r}, {self.address})"

    def run(
        self, cmd: str, check: bool = True, *, input: str | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run ``sh -c cmd`` inside the host: its namespaces, its root filesystem, as root.

        A command that leaves a daemon behind must redirect the daemon's output, or this
        waits for it (the pipes stay open).
        """
        if not self._init_pid:
            raise LabError(f"{self.name} is not running")
        namespaces = ("-m", "-u", "-n", "-p", "-r", "-w")
        return run_inside(self.name, self._init_pid, namespaces, cmd, check, input, timeout)

    def stop_sshd(self) -> None:
        """Stop the listening sshd; connections are then refused (open sessions survive)."""
        self.run('[ -s /run/sshd.pid ] && kill "$(cat /run/sshd.pid)"; rm -f /run/sshd.pid')
        _wait_for(lambda: not _port_open(self.address, self.port), "sshd to stop", 10)

    def start_sshd(self) -> None:
        """Start sshd again and wait until it accepts connections."""
        self.run(_SSHD)
        _wait_for(lambda: _port_open(self.address, self.port), f"{self.name} sshd", 10)

    # -- lifecycle, called by the lab -------------------------------------------------------

    def _start(self, authorized_key: str) -> None:
        self._prepare(authorized_key)
        self._launch()

    def _prepare(self, authorized_key: str) -> None:
        # Overlay, identity files and network: shared with systemd_hosts.SystemdHost.
        for sub in ("upper", "work", "root"):
            (self.dir / sub).mkdir(parents=True)
        lower = self._lab.image
        opts = f"lowerdir={lower},upperdir={self.dir / 'upper'},workdir={self.dir / 'work'}"
        subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o", opts, str(self.root)],
            check=True,
            capture_output=True,
        )
        (self.root / "etc/hostname").write_text(f"{self.name}\n")
        ssh_dir = self.root / "root/.ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        keys = ssh_dir / "authorized_keys"
        keys.write_text(authorized_key)
        keys.chmod(0o600)
        self._claim_network()
        hosts = f"127.0.0.1\tlocalhost\n{self.address}\t{self.name}\n"
        (self.root / "etc/hosts").write_text(hosts)

    def _launch(self) -> None:
        (self.root / _INIT_PATH).write_text(_INIT)
        log = open(self.dir / "init.log", "wb")  # noqa: SIM115 - handed to the child
        with log:
            self._launcher = subprocess.Popen(
                [
                    "nsenter",
                    f"--net=/run/netns/{self.netns}",
                    "unshare",
                    "--kill-child",
                    "--uts",
                    "--pid",
                    "--fork",
                    "--mount",
                    "--propagation",
                    "private",
                    f"--mount-proc={self.root}/proc",
                    "chroot",
                    str(self.root),
                    "/bin/sh",
                    f"/{_INIT_PATH}",
                    self.name,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_ENV,
                start_new_session=True,  # a Ctrl-C in the test terminal is not for the hosts
            )
        self._init_pid = self._wait_init_pid()

        def ready() -> bool:
            return _port_open(self.address, self.port) or self._launcher_died()

        _wait_for(ready, f"{self.name} sshd on {self.address}:{self.port}", 15)
        if self._launcher_died():
            text = (self.dir / "init.log").read_text(errors="replace").strip()
            raise LabError(f"{self.name} did not start: {text[-2000:]}")

    def _launcher_died(self) -> bool:
        return self._launcher is not None and self._launcher.poll() is not None

    def _wait_init_pid(self) -> int:
        assert self._launcher is not None
        pid = self._launcher.pid  # nsenter execs unshare in place: this is unshare
        children = Path(f"/proc/{pid}/task/{pid}/children")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                found = children.read_text().split()
                if found:
                    return int(found[0])
            if self._launcher_died():
                text = (self.dir / "init.log").read_text(errors="replace").strip()
                raise LabError(f"{self.name} did not start: {text[-2000:]}")
            time.sleep(0.005)
        raise LabError(f"{self.name}: unshare did not fork its init")

    def _claim_network(self) -> None:
        _ip("netns", "add", self.netns)
        index = self._lab._next_index
        while True:
            if index >= SLOTS:
                raise LabError(f"no free /30 left in {NETWORK}")
            veth = f"{VETH_PREFIX}{index}"
            done = _ip(
                "link", "add", veth, "type", "veth", "peer", "name", "eth0",
                "netns", self.netns, check=False,
            )  # fmt: skip
            if done.returncode == 0:
                break
            if "File exists" not in done.stderr:
                raise LabError(f"cannot create veth {veth}: {done.stderr.strip()}")
            index += 1  # another lab (or host) owns this slot
        self._lab._next_index = index + 1
        self._assign(index)
        prefix = 30
        _ip("link", "set", self.veth, "alias", f"baluarte-lab:{self._lab.prefix}")
        _ip("addr", "add", f"{self.gateway}/{prefix}", "dev", self.veth)
        _ip("link", "set", self.veth, "up")
        batch = f"addr add {self.address}/{prefix} dev eth0\nlink set eth0 up\nlink set lo up\n"
        done = subprocess.run(
            ["ip", "-n", self.netns, "-batch", "-"],
            input=batch,
            capture_output=True,
            text=True,
            env=_ENV,
            check=False,
        )
        if done.returncode != 0:
            raise LabError(f"{self.name}: configuring eth0 failed: {done.stderr.strip()}")

    def _stop(self) -> None:
        if self._init_pid:
            # The namespace's init ignores SIGTERM; SIGKILL makes the kernel kill the rest.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._init_pid, signal.SIGKILL)
        if self._launcher is not None:
            try:
                self._launcher.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._launcher.kill()
                self._launcher.wait(timeout=10)
        self._init_pid = 0
        self._launcher = None
        _kill_netns_processes(self.netns)
        _ip("netns", "del", self.netns, check=False)
        if self.veth:
            _ip("link", "del", self.veth, check=False)  # normally gone with the namespace
        unmount_under(self.root)
        shutil.rmtree(self.dir, ignore_errors=True)


def _kill_netns_processes(netns: str) -> None:
    done = _ip("netns", "pids", netns, check=False)
    pids = [int(p) for p in done.stdout.split() if p.isdigit()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _wait_gone(pids)


def _wait_gone(pids: list[int], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if Path(f"/proc/{p}").exists() and not _is_zombie(p)]
        time.sleep(0.01)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def _process_start(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return ""


class LinuxHostLab:
    """A set of lab hosts that share an image, an SSH key and a known_hosts file."""

    def __init__(self, workdir: Path | None = None, image: Path | None = None) -> None:
        if os.geteuid() != 0:
            raise LabError("lab hosts need root (namespaces, overlay mounts, veth pairs)")
        reap_stale_labs()
        self.image = image if image is not None else ensure_image()
        self.prefix = "blab" + secrets.token_hex(3)
        base = workdir if workdir is not None else Path(tempfile.gettempdir())
        self.dir = base / f"baluarte-lab-{self.prefix}"
        self.dir.mkdir(parents=True, mode=0o700)
        self._register()
        self.hosts: dict[str, LinuxHost] = {}
        self._serial = 0
        self._next_index = 0
        self._closed = False
        self.key_path = self.dir / "id_ed25519"
        self.known_hosts_path = self.dir / "known_hosts"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"baluarte-{self.prefix}",
             "-f", str(self.key_path)],
            check=True, capture_output=True,
        )  # fmt: skip
        self._public_key = self.key_path.with_suffix(".pub").read_text()
        self._host_keys = [
            " ".join(p.read_text().split()[:2])
            for p in sorted((self.image / "etc/ssh").glob("ssh_host_*_key.pub"))
        ]
        self._write_known_hosts()
        atexit.register(self.close)

    def __enter__(self) -> LinuxHostLab:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def up(self, name: str) -> LinuxHost:
        """Start a host named ``name`` (also its hostname); returns once sshd accepts TCP."""
        if self._closed:
            raise LabError("this lab is closed")
        if name in self.hosts:
            raise LabError(f"a host named {name!r} is already up in this lab")
        if not name or len(name) > 63 or not all(c.isalnum() or c == "-" for c in name):
            raise LabError(f"{name!r} is not a valid host name (letters, digits, '-')")
        self._serial += 1
        netns = f"{self.prefix}-{self._serial}"
        host = self._new_host(name, netns, self.dir / "hosts" / name)
        self.hosts[name] = host
        try:
            host._start(self._public_key)
        except BaseException:
            self.down(host)
            raise
        self._write_known_hosts()
        return host

    def _new_host(self, name: str, netns: str, hostdir: Path) -> LinuxHost:
        # Hook for labs of other host kinds (systemd_hosts.SystemdHostLab).
        return LinuxHost(self, name, netns, hostdir)

    def down(self, host: LinuxHost) -> None:
        """Stop a host and remove everything it had: processes, namespace, veth, overlay."""
        host._stop()
        if self.hosts.get(host.name) is host:
            del self.hosts[host.name]
        self._write_known_hosts()

    def close(self) -> None:
        """Tear down every host and the lab's directory. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for host in list(self.hosts.values()):
            with contextlib.suppress(Exception):
                host._stop()
        self.hosts.clear()
        _purge(self.prefix, self.dir)
        atexit.unregister(self.close)

    def _write_known_hosts(self) -> None:
        if self._closed:
            return
        lines = [
            f"{h.address} {key}\n"
            for h in self.hosts.values()
            if h.address
            for key in self._host_keys
        ]
        tmp = self.known_hosts_path.with_suffix(".tmp")
        tmp.write_text("".join(lines))
        tmp.replace(self.known_hosts_path)

    def _register(self) -> None:
        REGISTRY.mkdir(parents=True, exist_ok=True)
        pid = os.getpid()
        record = {"owner_pid": pid, "owner_start": _process_start(pid), "dir": str(self.dir)}
        (REGISTRY / f"{self.prefix}.json").write_text(json.dumps(record))


def _lab_processes(prefix: str) -> list[tuple[int, str]]:
    """Processes of a lab: launched with its netns, rooted in its directory or cgroup."""
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            root = os.readlink(entry / "root")
            # A systemd-nspawn container's processes: their own mount namespace hides the
            # root path, but they sit in the host's control group named after the lab.
            cgroup = (entry / "cgroup").read_text()
        except OSError:
            continue
        if prefix in cmdline or prefix in root or prefix in cgroup:
            found.append((int(entry.name), cmdline.strip() or root))
    return found


def _lab_mounts(prefix: str) -> list[str]:
    with open("/proc/self/mountinfo") as fh:
        return [line.split()[4] for line in fh if prefix in line.split()[4]]


def _lab_netns(prefix: str) -> list[str]:
    names = (line.split()[0] for line in _ip("netns", "list", check=False).stdout.splitlines())
    return [n for n in names if n.startswith(prefix + "-")]


def _lab_links(prefix: str) -> list[str]:
    lines = _ip("-o", "link", "show", check=False).stdout.splitlines()
    return [line.split(":")[1].strip().split("@")[0] for line in lines if prefix in line]


def _cgroup_mounts() -> list[Path]:
    with open("/proc/self/mountinfo") as fh:
        fields = [line.split(" - ")[1].split()[0:1] + line.split()[4:5] for line in fh]
    return [Path(point) for fstype, point in fields if fstype in ("cgroup", "cgroup2")]


def _lab_cgroups(prefix: str) -> list[Path]:
    """Control groups named after the lab (systemd-nspawn hosts get one each)."""
    found: list[Path] = []
    for mount in _cgroup_mounts():
        level = [mount]
        for _ in range(4):  # lab cgroups sit just below the creator's own (shallow) cgroup
            below = []
            for parent in level:
                with contextlib.suppress(OSError):
                    below += [d for d in parent.iterdir() if d.is_dir() and not d.is_symlink()]
            found += [d for d in below if d.name.startswith(prefix)]
            level = [d for d in below if not d.name.startswith(prefix)]
    return found


def remove_cgroup(path: Path) -> None:
    """Remove an emptied control group and its children, deepest first."""
    for below, _dirs, _files in sorted(os.walk(path), key=lambda w: -len(w[0])):
        with contextlib.suppress(OSError):
            os.rmdir(below)  # a cgroup directory goes with rmdir despite its control files


# systemd-nspawn keeps one directory per running machine here; lab machines carry the prefix.
NSPAWN_PROPAGATE = Path("/run/systemd/nspawn/propagate")


def _lab_nspawn_dirs(prefix: str) -> list[Path]:
    if not NSPAWN_PROPAGATE.is_dir():
        return []
    return sorted(p for p in NSPAWN_PROPAGATE.iterdir() if p.name.startswith(prefix))


def leftovers(lab_prefix: str) -> list[str]:
    """Everything of the lab ``lab_prefix`` still present on the machine (empty when clean)."""
    found = [f"process {pid}: {what}" for pid, what in _lab_processes(lab_prefix)]
    found += [f"mount {m}" for m in _lab_mounts(lab_prefix)]
    found += [f"netns {n}" for n in _lab_netns(lab_prefix)]
    found += [f"link {n}" for n in _lab_links(lab_prefix)]
    found += [f"cgroup {c}" for c in _lab_cgroups(lab_prefix)]
    found += [f"nspawn {d}" for d in _lab_nspawn_dirs(lab_prefix)]
    record = REGISTRY / f"{lab_prefix}.json"
    if record.exists():
        found.append(f"registry {record}")
    return found


def _purge(prefix: str, labdir: Path) -> None:
    """Remove whatever is left of a lab, hosts or not (also used for crashed labs)."""
    pids = [pid for pid, _ in _lab_processes(prefix)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _wait_gone(pids)
    for netns in _lab_netns(prefix):
        _kill_netns_processes(netns)
        _ip("netns", "del", netns, check=False)
    for link in _lab_links(prefix):
        _ip("link", "del", link, check=False)
    unmount_under(labdir)
    for point in sorted(_lab_mounts(prefix), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    for cgroup in _lab_cgroups(prefix):
        remove_cgroup(cgroup)
    for propagate in _lab_nspawn_dirs(prefix):
        shutil.rmtree(propagate, ignore_errors=True)
    shutil.rmtree(labdir, ignore_errors=True)
    (REGISTRY / f"{prefix}.json").unlink(missing_ok=True)


def reap_stale_labs() -> list[str]:
    """Purge labs whose owning process is gone (a killed test session); returns their prefixes."""
    reaped = []
    for record in sorted(REGISTRY.glob("blab*.json")) if REGISTRY.is_dir() else []:
        try:
            data = json.loads(record.read_text())
            pid, start, labdir = int(data["owner_pid"]), str(data["owner_start"]), data["dir"]
        except (OSError, ValueError, KeyError):
            continue
        if _process_start(pid) == start:
            continue  # its owner is alive: another test run
        _purge(record.stem, Path(labdir))
        reaped.append(record.stem)
    return reaped
