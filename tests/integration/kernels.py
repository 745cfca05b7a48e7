"""Kernel packages for lab hosts: .debs that ship ``/boot/vmlinuz-<release>`` as real ones do.

The lab hosts run the machine's kernel, which no package of theirs ships. These packages are
the positive evidence a test plants: the collector finds kernels by file ownership, so a
package counts as a kernel only if it ships an image (a metapackage, ``image=None``, does not).
The image is a stand-in: needrestart cannot read a version from it and stays at KSTA 0.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from baluarte.lab.linux_hosts import LinuxHost

__all__ = ["install_kernel_debs"]


def _deb(workdir: Path, package: str, version: str, image: str | None) -> Path:
    tree = workdir / f"{package}_{version}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN/control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: Baluarte lab <lab@example.invalid>\nSection: kernel\nPriority: optional\n"
        f"Description: Baluarte lab kernel stand-in {package}\n"
    )
    if image:
        (tree / "boot").mkdir()
        (tree / f"boot/vmlinuz-{image}").write_text(f"lab kernel image stand-in {image}\n")
    deb = workdir / f"{package}_{version}_all.deb"
    subprocess.run(
        ["dpkg-deb", "-Zgzip", "--root-owner-group", "--build", str(tree), str(deb)],
        check=True,
        capture_output=True,
    )
    return deb


def install_kernel_debs(host: LinuxHost, kernels: list[tuple[str, str, str | None]]) -> None:
    """Install (package, version, kernel release it ships or None) into ``host`` with dpkg."""
    inbox = host.root / "tmp/baluarte-kernels"
    inbox.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="baluarte-kernels-") as tmp:
        for package, version, image in kernels:
            deb = _deb(Path(tmp), package, version, image)
            (inbox / deb.name).write_bytes(deb.read_bytes())
    host.run("dpkg -i /tmp/baluarte-kernels/*.deb >/dev/null && rm -rf /tmp/baluarte-kernels")
