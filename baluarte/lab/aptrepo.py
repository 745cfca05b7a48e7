"""A local apt repository inside a lab host, so pending updates are exact and offline.

Dummy packages are built with ``dpkg-deb`` on the machine; old versions are installed into the
host with ``dpkg -i`` (inside the host); new versions are published in the host's own
``/srv/baluarte-repo`` as two suites made by ``apt-ftparchive``, whose Release files carry
Origin/Label like a real mirror::

    publish_updates(host, normal=[("bl-demo", "1.0", "1.1")],
                    security=[("bl-sec", "1.0", "1.0+deb12u1")])
    host.run("apt-get -s dist-upgrade").stdout
    # Inst bl-demo [1.0] (1.1 Debian:baluarte-updates [all])
    # Inst bl-sec [1.0] (1.0+deb12u1 Debian-Security:baluarte-security [all])

Calls accumulate: a second ``publish_updates`` adds to the same repository.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from baluarte.lab.images import LabError
from baluarte.lab.linux_hosts import LinuxHost

__all__ = [
    "NORMAL_SUITE",
    "REPO_DIR",
    "SECURITY_SUITE",
    "install_packages",
    "publish_updates",
]

REPO_DIR = "srv/baluarte-repo"  # relative to the host's root
NORMAL_SUITE = "baluarte-updates"
SECURITY_SUITE = "baluarte-security"
_SOURCES = "etc/apt/sources.list.d/baluarte-repo.list"
_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
_VERSION = re.compile(r"^(?:[0-9]+:)?[0-9][A-Za-z0-9.+~-]*$")

Update = tuple[str, str, str]  # (package, installed version, newer version)


def _build_deb(workdir: Path, name: str, version: str) -> Path:
    if not _NAME.match(name):
        raise LabError(f"{name!r} is not a valid Debian package name")
    if not _VERSION.match(version):
        raise LabError(f"{version!r} is not a valid Debian version")
    safe = version.replace(":", "%3a")
    tree = workdir / f"{name}_{safe}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "usr/share/doc" / name).mkdir(parents=True)
    (tree / "DEBIAN/control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: Baluarte lab <lab@example.invalid>\nSection: misc\nPriority: optional\n"
        f"Description: Baluarte lab dummy package {name}\n"
    )
    (tree / "usr/share/doc" / name / "VERSION").write_text(f"{name} {version}\n")
    deb = workdir / f"{name}_{safe}_all.deb"
    done = subprocess.run(
        ["dpkg-deb", "-Zgzip", "--root-owner-group", "--build", str(tree), str(deb)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise LabError(f"dpkg-deb {name} {version}: {done.stderr.strip()}")
    return deb


def _dpkg_install(host: LinuxHost, debs: Iterable[Path]) -> None:
    debs = list(debs)
    if not debs:
        return
    inbox = host.root / "tmp/baluarte-debs"
    inbox.mkdir(parents=True, exist_ok=True)
    for deb in debs:
        shutil.copy2(deb, inbox / deb.name)
    names = " ".join(f"/tmp/baluarte-debs/{deb.name}" for deb in debs)
    host.run(f"dpkg -i {names} >/dev/null && rm -rf /tmp/baluarte-debs")


def install_packages(host: LinuxHost, packages: list[tuple[str, str]]) -> None:
    """Install dummy packages at the given versions into ``host`` (no update is published)."""
    with tempfile.TemporaryDirectory(prefix="baluarte-debs-") as tmp:
        _dpkg_install(host, [_build_deb(Path(tmp), n, v) for n, v in packages])


def _ftparchive(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["apt-ftparchive", *args], cwd=repo, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise LabError(f"apt-ftparchive {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def _publish_suite(repo: Path, suite: str, label: str, debs: list[Path]) -> None:
    pool = repo / "pool" / suite
    binary = repo / "dists" / suite / "main" / "binary-all"
    pool.mkdir(parents=True, exist_ok=True)
    binary.mkdir(parents=True, exist_ok=True)
    for deb in debs:
        shutil.copy2(deb, pool / deb.name)
    (binary / "Packages").write_text(_ftparchive(repo, "packages", f"pool/{suite}"))
    release = _ftparchive(
        repo,
        "-o", "APT::FTPArchive::Release::Origin=Debian",
        "-o", f"APT::FTPArchive::Release::Label={label}",
        "-o", f"APT::FTPArchive::Release::Suite={suite}",
        "-o", f"APT::FTPArchive::Release::Codename={suite}",
        "-o", "APT::FTPArchive::Release::Architectures=all",
        "-o", "APT::FTPArchive::Release::Components=main",
        "release", f"dists/{suite}",
    )  # fmt: skip
    (repo / "dists" / suite / "Release").write_text(release)


def publish_updates(
    host: LinuxHost, normal: list[Update], security: list[Update] | None = None
) -> None:
    """Install the old versions in ``host`` and offer the new ones from its local repository.

    Normal updates appear with origin ``Debian:baluarte-updates``; security ones with
    ``Debian-Security:baluarte-security`` (label Debian-Security, archive ending in -security),
    as Debian's own pockets do. Ends with ``apt-get update`` inside the host.
    """
    security = security or []
    repo = host.root / REPO_DIR
    with tempfile.TemporaryDirectory(prefix="baluarte-debs-") as tmp:
        work = Path(tmp)
        old = [_build_deb(work, n, v) for n, v, _ in [*normal, *security]]
        new_normal = [_build_deb(work, n, v) for n, _, v in normal]
        new_security = [_build_deb(work, n, v) for n, _, v in security]
        _dpkg_install(host, old)
        _publish_suite(repo, NORMAL_SUITE, "Debian", new_normal)
        _publish_suite(repo, SECURITY_SUITE, "Debian-Security", new_security)
    sources = host.root / _SOURCES
    sources.write_text(
        "".join(
            f"deb [trusted=yes] file:/{REPO_DIR} {suite} main\n"
            for suite in (NORMAL_SUITE, SECURITY_SUITE)
        )
    )
    host.run("apt-get update -q >/dev/null")
