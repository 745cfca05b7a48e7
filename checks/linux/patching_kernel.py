"""The running kernel and the installed kernel packages, as versions (pure; apt and dnf share it).

Kernel packages are found by what they ship (``/boot/vmlinuz-*``; rpm: ``/lib/modules/*/vmlinuz``),
never by name: that covers linux-image-*, proxmox-kernel-*, pve-kernel-*, kernel-core and
custom-built kernels alike, and skips metapackages (linux-image-amd64, proxmox-default-kernel),
which ship no kernel. The running kernel's version comes from ``uname -v`` where the
distribution writes it there (Debian, Proxmox, Ubuntu), because the package may have been
upgraded in place under the same ABI name since boot (linux-checks.md §1.5).
"""

from __future__ import annotations

import re
from typing import Any

from checks.facts.patching import KernelPackage
from checks.versions import Scheme, compare

__all__ = [
    "deb_flavour",
    "kernel_fields",
    "kernel_reboot_reason",
    "parse_dpkg_owners",
    "rpm_release_version",
    "uname_version",
]

# "#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)"; Proxmox: "… PMX 6.8.12-4 (…)"
_STAMPED = re.compile(r"\b(?:Debian|PMX) (\S+)")
# Ubuntu: "#101-Ubuntu SMP …" (HWE: "#101~20.04.1-Ubuntu"); the package is 5.15.0-91.101
_UBUNTU_V = re.compile(r"^#(\S+?)-Ubuntu\b")
_UBUNTU_R = re.compile(r"^(\d+\.\d+\.\d+)-(\d+)-")
# rpm kernels are named VERSION-RELEASE.ARCH (+variant): "5.14.0-427.13.1.el9_4.x86_64"
_RPM_R = re.compile(
    r"^(?P<vr>[^-\s]+-[^-\s]+?)\.(?:x86_64|aarch64|ppc64le|s390x|i686|noarch)(?:\+\S+)?$"
)
# "linux-image-6.1.0-27-amd64: /boot/vmlinuz-6.1.0-27-amd64"; several owners: "a, b: /boot/…"
_OWNER = re.compile(r"^(?P<packages>.+?): /boot/vmlinuz-(?P<release>\S+)$")


def deb_flavour(release: str) -> str:
    """A Debian-style kernel's flavour: 6.1.0-27-cloud-amd64 → cloud-amd64, 6.8.12-4-pve → pve."""
    return re.sub(r"^[0-9.]+(?:-[0-9]+)?[-+]?", "", release)


def uname_version(release: str, uname_v: str) -> str | None:
    """The package version the running kernel was built from, where ``uname -v`` carries it."""
    m = _STAMPED.search(uname_v)
    if m:
        return m[1]
    ubuntu, base = _UBUNTU_V.match(uname_v.strip()), _UBUNTU_R.match(release)
    if ubuntu and base:
        return f"{base[1]}-{base[2]}.{ubuntu[1]}"
    return None


def rpm_release_version(release: str) -> str | None:
    """``version-release`` of an rpm kernel from its ``uname -r`` name; None if not one."""
    m = _RPM_R.match(release)
    return m["vr"] if m else None


def parse_dpkg_owners(text: str, packages: dict[str, str]) -> list[KernelPackage]:
    """``dpkg-query -S '/boot/vmlinuz-*'`` → the installed kernel packages ("ii" ones only)."""
    found: list[KernelPackage] = []
    for line in text.splitlines():
        m = _OWNER.match(line.strip())
        if not m:
            continue  # "diversion by …", "no path found matching pattern"
        for owner in m["packages"].split(", "):
            name = owner.partition(":")[0]  # multi-arch "linux-image-…:amd64"
            if name in packages:
                release = m["release"]
                found.append(KernelPackage(
                    package=name, version=packages[name], release=release,
                    family=deb_flavour(release),
                ))  # fmt: skip
    return found


def kernel_fields(
    kernels: list[KernelPackage] | None,
    running: str | None,
    uname_v: str,
    scheme: Scheme,
    family_fallback: str | None,
) -> dict[str, Any]:
    """PatchFacts' kernel fields: the running kernel, what ships it, the newest of its family.

    ``family_fallback`` is the running kernel's family when no installed package ships it
    (Debian: its flavour; rpm: the distribution's kernel package name).
    """
    provider = next((k for k in kernels or [] if k.release == running), None)
    family = provider.family if provider else family_fallback
    version: str | None = None
    source = ""
    if running:
        if scheme == "deb":
            version, source = uname_version(running, uname_v), "uname -v"
        else:
            version, source = rpm_release_version(running), "uname -r"
        if version is None and provider is not None:
            version, source = provider.version, f"package {provider.package}"
    newest: KernelPackage | None = None
    for k in kernels or []:
        if k.family == family and (
            newest is None or compare(k.version, newest.version, scheme) > 0
        ):
            newest = k
    return {
        "kernel_running": running,
        "kernel_running_version": version,
        "kernel_running_version_source": source if version else "",
        "kernel_family": family,
        "kernel_provider": provider,
        "kernels": tuple(kernels) if kernels is not None else None,
        "kernel_newest": newest.release if newest else None,
        "kernel_newest_version": newest.version if newest else None,
    }


def kernel_reboot_reason(kernel: dict[str, Any], scheme: Scheme) -> tuple[bool, str | None, str]:
    """The kernel comparison as a reboot signal: (known, reason a reboot is needed, why unknown).

    Known when the running kernel's version and the newest installed kernel of its family are
    both known; a reboot is needed only when an installed one is newer.
    """
    running, version = kernel["kernel_running"], kernel["kernel_running_version"]
    newest, newest_version = kernel["kernel_newest"], kernel["kernel_newest_version"]
    if not running:
        return False, None, "the running kernel could not be read"
    if newest_version is None or version is None:
        shipped = "" if kernel["kernel_provider"] else "no installed package ships it and "
        what = (
            f"no installed kernel package of its family ({kernel['kernel_family'] or '?'})"
            if newest_version is None
            else "its version is unknown (uname -v carries none)"
        )
        return False, None, f"the running kernel {running} cannot be compared: {shipped}{what}"
    if compare(version, newest_version, scheme) >= 0:
        return True, None, ""
    return True, f"kernel {running} ({version}) running, {newest} ({newest_version}) installed", ""
