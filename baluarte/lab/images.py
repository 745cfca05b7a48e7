"""The cached Debian bookworm image that every lab Linux host is an overlay of.

``ensure_image()`` builds it once per package list and script version with
``debootstrap --variant=minbase`` from the mirror the machine's own apt configuration uses, into
``/var/cache/baluarte/images/<key>/rootfs`` (outside the repository). Concurrent test runs
serialise on a file lock; the image appears by an atomic rename, so a reader never sees half of
one. The image is immutable afterwards: hosts write only to their overlay's upper layer.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from baluarte.errors import LabError

__all__ = [
    "CACHE_ROOT",
    "IMAGE_PACKAGES",
    "SUITE",
    "LabError",
    "bookworm_mirror",
    "ensure_image",
    "image_key",
    "unmount_under",
]

SUITE = "bookworm"
CACHE_ROOT = Path("/var/cache/baluarte/images")
IMAGE_PACKAGES: tuple[str, ...] = (
    "openssh-server",
    "procps",
    "iproute2",
    "unattended-upgrades",
    "needrestart",
    "sudo",
    "nftables",
    "iptables",
    "ufw",
    "restic",
    "borgbackup",
    # endpoint protection, logging and access checks (issue: Linux domains)
    "clamav",
    "clamav-daemon",
    "rsyslog",
    "chrony",
    "libpam-pwquality",
    "netcat-openbsd",
    "dmsetup",
    # lockout verdicts are proven by driving PAM with wrong passwords (issue: false passes)
    "pamtester",
)
# Bump when the customisation below changes, so old caches are not reused.
SCRIPT_VERSION = "1"

_SSHD_DROP_IN = """\
# Baluarte lab host: root logs in with the lab's key only.
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
"""
# Debian's root .profile runs `mesg n`, which writes to stderr without a tty.
_ROOT_PROFILE = '[ -n "$BASH_VERSION" ] && [ -f ~/.bashrc ] && . ~/.bashrc\n'
_ROOT_BASHRC = "# Baluarte lab host: kept trivial so remote commands print only their own output.\n"


def image_key(packages: tuple[str, ...] = IMAGE_PACKAGES) -> str:
    """Cache key: the suite, the sorted package list and the script version."""
    text = "\n".join([SUITE, SCRIPT_VERSION, *sorted(packages)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _deb822_mirrors(text: str) -> Iterator[str]:
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        if "deb" not in fields.get("types", "").split():
            continue
        if (
            SUITE in fields.get("suites", "").split()
            and "main" in fields.get("components", "").split()
        ):
            yield from fields.get("uris", "").split()


def _one_line_mirrors(text: str) -> Iterator[str]:
    for line in text.splitlines():
        # deb [options] URI SUITE COMPONENT...
        m = re.match(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$", line)
        if m and m.group(2) == SUITE and "main" in m.group(3).split():
            yield m.group(1)


def bookworm_mirror(apt_etc: Path = Path("/etc/apt")) -> str:
    """The URI that serves ``bookworm main`` according to the machine's apt sources."""
    candidates: list[str] = []
    for path in sorted((apt_etc / "sources.list.d").glob("*.sources")):
        candidates.extend(_deb822_mirrors(path.read_text()))
    one_line = [apt_etc / "sources.list", *sorted((apt_etc / "sources.list.d").glob("*.list"))]
    for path in one_line:
        if path.is_file():
            candidates.extend(_one_line_mirrors(path.read_text()))
    for uri in candidates:
        if uri.startswith(("http://", "https://", "file:/")):
            return uri
    raise LabError(
        f"no apt source serving '{SUITE} main' found under {apt_etc}; "
        "the lab image is built from the machine's own Debian mirror"
    )


def unmount_under(root: Path) -> None:
    """Unmount everything mounted at or below ``root``, deepest first (lazily if busy)."""
    prefix = str(root.resolve())
    mounts: list[str] = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            point = line.split()[4].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                mounts.append(point)
    for point in sorted(set(mounts), key=len, reverse=True):
        done = subprocess.run(["umount", point], capture_output=True, check=False)
        if done.returncode != 0:
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def _remove_tree(path: Path) -> None:
    if path.exists():
        # Never recurse into a mounted /proc or /dev of a half-built chroot.
        unmount_under(path)
        shutil.rmtree(path, ignore_errors=True)


def _chroot(rootfs: Path, *argv: str) -> None:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "HOME": "/root"}
    done = subprocess.run(
        ["chroot", str(rootfs), *argv], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise LabError(f"in image chroot, {' '.join(argv)} failed: {done.stderr.strip()}")


def _customise(rootfs: Path) -> None:
    policy = rootfs / "usr/sbin/policy-rc.d"
    # Package scripts inside a lab host must never start daemons.
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    _chroot(rootfs, "ssh-keygen", "-A")
    (rootfs / "etc/ssh/sshd_config.d/00-baluarte-lab.conf").write_text(_SSHD_DROP_IN)
    (rootfs / "run/sshd").mkdir(parents=True, exist_ok=True)
    (rootfs / "dev/pts").mkdir(parents=True, exist_ok=True)
    ssh_dir = rootfs / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (rootfs / "root/.profile").write_text(_ROOT_PROFILE)
    (rootfs / "root/.bashrc").write_text(_ROOT_BASHRC)
    # Deterministic pending-update set: only a test's local repository may feed apt.
    lists = rootfs / "var/lib/apt/lists"
    for entry in lists.iterdir():
        if entry.is_file() and entry.name != "lock":
            entry.unlink()
    (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
    for entry in (rootfs / "etc/apt/sources.list.d").iterdir():
        entry.unlink()
    for deb in (rootfs / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()
    for cache in (rootfs / "var/cache/apt").glob("*.bin"):
        cache.unlink()


def _build(rootfs: Path, packages: tuple[str, ...], mirror: str) -> None:
    argv = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(packages)}",
        SUITE,
        str(rootfs),
        mirror,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        log = rootfs / "debootstrap/debootstrap.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else done.stderr[-2000:]
        raise LabError(f"debootstrap failed (exit {done.returncode}): {tail.strip()}")
    _customise(rootfs)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_image(packages: tuple[str, ...] = IMAGE_PACKAGES, cache_root: Path = CACHE_ROOT) -> Path:
    """Return the image's rootfs, building it first if no finished one is cached."""
    key = image_key(packages)
    final = cache_root / key
    rootfs = final / "rootfs"
    if (final / "READY").exists():
        return rootfs
    if os.geteuid() != 0:
        raise LabError("building the lab image needs root (debootstrap, chroot)")
    cache_root.mkdir(parents=True, exist_ok=True)
    with _locked(cache_root / f"{key}.lock"):
        if (final / "READY").exists():
            return rootfs  # another run built it while we waited for the lock
        # Left by a build that died: only the lock holder builds, so these are stale.
        for stale in cache_root.glob(f".build-{key}-*"):
            _remove_tree(stale)
        _remove_tree(final)
        staging = Path(tempfile.mkdtemp(prefix=f".build-{key}-", dir=cache_root))
        try:
            _build(staging / "rootfs", packages, bookworm_mirror())
            (staging / "READY").write_text(" ".join(sorted(packages)) + "\n")
            staging.chmod(0o755)
            os.rename(staging, final)
        except BaseException:
            _remove_tree(staging)
            raise
    return rootfs
