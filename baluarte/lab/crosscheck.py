"""Lab images and SCAP content for the cross-check against OpenSCAP and Lynis (tests/crosscheck).

``ensure_crosscheck_image()``: the lab image plus systemd (the OpenSCAP rules compared ask
systemd whether a service is enabled and running) plus ``openscap-scanner`` 1.3.7 and ``lynis``
3.0.8 from Debian 12.

``ensure_legacy_debs()``: the .debs of real cleartext admin daemons (inetd serving telnetd,
vsftpd) and whatever the image lacks for them, downloaded once with the machine's own apt into
``/var/cache/baluarte/crosscheck/``, for the host states that run them (``dpkg -i`` inside the
host). They are not in the image: debootstrap resolves ``inetutils-telnetd``'s
``inetutils-syslogd | system-log-daemon`` to the first choice, which conflicts with rsyslog.

Debian 12's own ``ssg-debian`` (0.1.65) has no Debian 12 data stream. Debian 13's 0.1.76-1,
built by Debian from ComplianceAsCode's source, ships ``ssg-debian12-ds.xml``:
``ensure_scap_content()`` fetches that package from the Debian pool once, checks its pinned
SHA-256 and keeps the data stream under ``/var/cache/baluarte/scap/`` (never in the
repository). ``ensure_crosscheck()`` does all three; ``python -m baluarte.lab.prepare`` calls it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from baluarte.lab.images import IMAGE_PACKAGES, LabError, ensure_image
from baluarte.lab.systemd_hosts import SYSTEMD_PACKAGES

__all__ = [
    "CROSSCHECK_PACKAGES",
    "LEGACY_DAEMON_PACKAGES",
    "SCAP_CACHE",
    "SSG_DEB_SHA256",
    "SSG_DEB_URLS",
    "ensure_crosscheck",
    "ensure_crosscheck_image",
    "ensure_legacy_debs",
    "ensure_scap_content",
]

CROSSCHECK_PACKAGES: tuple[str, ...] = (
    *IMAGE_PACKAGES,
    *SYSTEMD_PACKAGES,
    "openscap-scanner",
    "lynis",
    # A real server has a kernel package, hence linux-base; the SSG content gates whole rule
    # groups (ssh, logging, ntp, firewall, inetd) on it ("system_with_kernel") and calls them
    # notapplicable without it, as in a container.
    "linux-base",
    # pam_pwquality's dictionary check needs cracklib's dictionary (a Recommends, which
    # debootstrap skips): without it every new password is refused, whatever its length.
    "cracklib-runtime",
)
# Cleartext admin daemons a "weak" host really runs: inetd serving telnetd on 23, vsftpd on 21.
LEGACY_DAEMON_PACKAGES: tuple[str, ...] = ("openbsd-inetd", "telnetd", "vsftpd")
CROSSCHECK_CACHE = Path("/var/cache/baluarte/crosscheck")

SSG_VERSION = "0.1.76-1"
SSG_DEB = f"ssg-debian_{SSG_VERSION}_all.deb"
# Debian 13 (trixie) stable: the pool keeps it for trixie's lifetime.
SSG_DEB_URLS: tuple[str, ...] = (
    f"http://deb.debian.org/debian/pool/main/s/scap-security-guide/{SSG_DEB}",
    f"https://snapshot.debian.org/archive/debian/20250310T000000Z/pool/main/s/scap-security-guide/{SSG_DEB}",
)
SSG_DEB_SHA256 = "f6880719015c16e8e221bc2503c0e5a9f83d6a09fc6f9292d3522e46bf4fc9d7"
_DATA_STREAM = "usr/share/xml/scap/ssg/content/ssg-debian12-ds.xml"
SCAP_CACHE = Path("/var/cache/baluarte/scap")


def ensure_crosscheck_image() -> Path:
    """The cross-check image: lab packages, systemd, openscap-scanner and lynis."""
    return ensure_image(packages=CROSSCHECK_PACKAGES)


def ensure_legacy_debs(
    image: Path | None = None, cache: Path = CROSSCHECK_CACHE, *, fetch: bool = True
) -> Path:
    """A directory of the .debs that install LEGACY_DAEMON_PACKAGES on the cross-check image.

    apt resolves them against the image's own dpkg status (read, never written), so the set is
    exactly what a host from that image lacks; it is fetched once per image. With
    ``fetch=False`` a missing set raises LabError instead (tests never download).
    """
    image = image if image is not None else ensure_crosscheck_image()
    final = cache / f"legacy-debs-{image.parent.name}"
    if (final / "READY").exists():
        return final
    if not fetch:
        raise LabError(f"{final} is missing: run `python -m baluarte.lab.prepare` first")
    if os.geteuid() != 0:
        raise LabError("fetching the legacy daemons' packages into /var/cache/baluarte needs root")
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".legacy-debs-", dir=cache))
    try:
        (staging / "partial").mkdir()
        argv = [
            "apt-get", "install", "-q", "-y", "--download-only", "--no-install-recommends",
            "-o", f"Dir::State::status={image / 'var/lib/dpkg/status'}",
            "-o", f"Dir::Cache::archives={staging}",
            "-o", "Debug::NoLocking=1",
            *LEGACY_DAEMON_PACKAGES,
        ]  # fmt: skip
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0 or not list(staging.glob("*.deb")):
            raise LabError(
                f"apt-get could not download {' '.join(LEGACY_DAEMON_PACKAGES)}: "
                f"{(done.stderr or done.stdout).strip()[-2000:]}"
            )
        shutil.rmtree(staging / "partial", ignore_errors=True)
        (staging / "READY").write_text("\n".join(sorted(p.name for p in staging.glob("*.deb"))))
        staging.chmod(0o755)
        try:
            os.rename(staging, final)
        except OSError:  # another run finished first: keep its copy
            if not (final / "READY").exists():
                raise
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _download(dest: Path) -> None:
    failures: list[str] = []
    for url in SSG_DEB_URLS:
        try:
            with urllib.request.urlopen(url, timeout=60) as answer:
                data = answer.read()
        except (urllib.error.URLError, OSError) as exc:
            failures.append(f"{url}: {exc}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != SSG_DEB_SHA256:
            failures.append(f"{url}: SHA-256 {digest}, pinned {SSG_DEB_SHA256}")
            continue
        dest.write_bytes(data)
        return
    raise LabError(
        f"cannot fetch {SSG_DEB} (the Debian 12 SCAP data stream the cross-check runs): "
        + "; ".join(failures)
        + ". Bump SSG_VERSION and SSG_DEB_SHA256 in baluarte/lab/crosscheck.py to a version "
        "still in the Debian pool, or place the pinned file in "
        f"{SCAP_CACHE}/{SSG_DEB} by hand."
    )


def ensure_scap_content(cache: Path = SCAP_CACHE, *, fetch: bool = True) -> Path:
    """The pinned ``ssg-debian12-ds.xml``, fetched and unpacked once into ``cache``.

    With ``fetch=False`` a missing data stream raises LabError instead (tests never download).
    """
    final = cache / SSG_VERSION / "ssg-debian12-ds.xml"
    if final.is_file():
        return final
    if not fetch:
        raise LabError(f"{final} is missing: run `python -m baluarte.lab.prepare` first")
    if os.geteuid() != 0:
        raise LabError("fetching the SCAP content into /var/cache/baluarte needs root")
    cache.mkdir(parents=True, exist_ok=True)
    deb = cache / SSG_DEB
    if not deb.is_file() or hashlib.sha256(deb.read_bytes()).hexdigest() != SSG_DEB_SHA256:
        partial = cache / f".{SSG_DEB}.part"
        _download(partial)
        partial.replace(deb)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        done = subprocess.run(
            ["dpkg-deb", "-x", str(deb), tmp], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise LabError(f"dpkg-deb -x {deb}: {done.stderr.strip()}")
        final.parent.mkdir(parents=True, exist_ok=True)
        # Atomic: a concurrent reader sees the whole data stream or none.
        (Path(tmp) / _DATA_STREAM).replace(final)
    return final


def ensure_crosscheck() -> Path:
    """Everything the cross-check needs prepared: image, legacy daemons' .debs, SCAP content."""
    ensure_scap_content()
    image = ensure_crosscheck_image()
    ensure_legacy_debs(image)
    return image
