"""A lab image variant for the RHEL-family path: the Debian image plus dnf, rpm and createrepo_c.

No RHEL, Rocky or Alma mirror is reachable here, but Debian 12 ships dnf 4.14 (the RHEL 9
version), dnf-plugins-core 4.3 (``needs-restarting``), rpm 4.18 (with ``rpmbuild``) and
createrepo-c. A host started from this image, with a Rocky ``/etc/os-release`` and apt hidden,
is collected through the dnf path exactly as a Rocky 9 host would be::

    lab = LinuxHostLab(image=ensure_rhel_like_image())
    host = lab.up("rocky1")
    make_rocky_like(host)      # os-release, apt hidden, dnf configured for local repositories
    publish_rpm_updates(host, normal=[("bl-demo", "1.0-1", "1.1-1")],
                        security=[("bl-sec", "1.0-1", "1.0-2")])
    host.run("dnf -q -C updateinfo list --security").stdout
    # BLSA-2026:0001 Important/Sec. bl-sec-1.0-2.noarch

Packages are dummies built with ``rpmbuild`` inside the host (noarch, one file each); old
versions are installed with dnf from local files, new ones are published in the host's
``/srv/baluarte-rpm`` by ``createrepo_c``, with an ``updateinfo.xml`` (``modifyrepo_c``)
declaring one security advisory per security update, as RHEL, Rocky and Alma publish them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from baluarte.lab.images import IMAGE_PACKAGES, LabError, ensure_image
from baluarte.lab.linux_hosts import LinuxHost

__all__ = [
    "RHEL_PACKAGES",
    "ROCKY_OS_RELEASE",
    "RPM_REPO_DIR",
    "build_rpm",
    "build_rpms",
    "ensure_rhel_like_image",
    "install_rpms",
    "make_rocky_like",
    "publish_rpm_updates",
]

RPM_REPO_DIR = "srv/baluarte-rpm"  # relative to the host's root
_BUILD_DIR = "root/baluarte-rpmbuild"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+._-]*$")
# [epoch:]version-release, rpm's own alphabet (~ and ^ included)
_EVR = re.compile(
    r"^(?:(?P<epoch>[0-9]+):)?(?P<version>[A-Za-z0-9._+~^]+)-(?P<release>[A-Za-z0-9._+~^]+)$"
)

RpmUpdate = tuple[str, str, str]  # (package, installed [epoch:]version-release, newer one)

# All four are in Debian 12 main; `rpm` brings rpmbuild (librpmbuild9), which the tests use
# to build the packages of their RPM repositories inside the host.
RHEL_PACKAGES: tuple[str, ...] = ("dnf", "dnf-plugins-core", "rpm", "createrepo-c")

ROCKY_OS_RELEASE = """\
NAME="Rocky Linux"
VERSION="9.4 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
"""

# dnf's own configuration for a host fed only by local repositories: Debian's dnf-plugins-core
# enables the `local` plugin, whose _dnf_local repository breaks installs with a GPG prompt.
_DNF_CONF = """\
[main]
gpgcheck=0
installonly_limit=3
clean_requirements_on_remove=True
best=False
skip_if_unavailable=False
reposdir=/etc/yum.repos.d
"""
_LOCAL_PLUGIN = "[main]\nenabled=0\n"


def ensure_rhel_like_image() -> Path:
    """The lab image with the RPM tool chain added (built once, cached like the base image)."""
    return ensure_image(packages=IMAGE_PACKAGES + RHEL_PACKAGES)


def make_rocky_like(host: LinuxHost) -> None:
    """Make ``host`` look like Rocky 9 to a collector: os-release, no apt, dnf ready.

    apt-get and dpkg-query are moved aside (not deleted: the host is an overlay, and tests may
    still want them); the collector then finds only dnf, as on a real Rocky host.
    """
    (host.root / "etc/os-release").unlink(missing_ok=True)  # a symlink into /usr/lib on Debian
    (host.root / "etc/os-release").write_text(ROCKY_OS_RELEASE)
    (host.root / "etc/dnf").mkdir(parents=True, exist_ok=True)
    (host.root / "etc/dnf/dnf.conf").write_text(_DNF_CONF)
    plugins = host.root / "etc/dnf/plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    (plugins / "local.conf").write_text(_LOCAL_PLUGIN)
    (host.root / "etc/yum.repos.d").mkdir(parents=True, exist_ok=True)
    (host.root / "etc/dnf/vars").mkdir(parents=True, exist_ok=True)
    # Debian's dnf cannot guess a RHEL release from the rpm database: give it one, as EL9.
    (host.root / "etc/dnf/vars/releasever").write_text("9\n")
    host.run(
        "for t in /usr/bin/apt-get /usr/bin/dpkg-query; do "
        '[ -e "$t" ] && mv "$t" "$t.hidden-for-rhel"; done; true'
    )


_SPEC = """\
Name: {name}
{epoch}Version: {version}
Release: {release}
Summary: Baluarte lab dummy package {name}
License: MIT
BuildArch: noarch
# no dependencies guessed from the files: a stand-in script's interpreter is not an rpm here
AutoReqProv: no

%description
Baluarte lab dummy package {name}.

%install
mkdir -p %{{buildroot}}/usr/share/doc/{name}
echo '{name} {evr}' > %{{buildroot}}/usr/share/doc/{name}/VERSION
{extra_install}
%files
/usr/share/doc/{name}/VERSION
{extra_files}
"""


def _spec(name: str, evr: str, files: Mapping[str, str]) -> tuple[str, str]:
    """(file name, text) of the spec of a noarch dummy package."""
    m = _EVR.match(evr)
    if not _NAME.match(name) or m is None:
        raise LabError(f"{name!r} {evr!r} is not a valid rpm name and [epoch:]version-release")
    extra_install = ""
    extra_files = ""
    for path, content in files.items():
        q = shlex.quote(f"%{{buildroot}}{path}")
        body = shlex.quote(content).replace("%", "%%")  # rpm expands % in the spec
        extra_install += f"mkdir -p $(dirname {q})\nprintf '%%s' {body} > {q}\n"
        extra_install += f"chmod 755 {q}\n" if content.startswith("#!") else ""
        extra_files += f"{path}\n"
    text = _SPEC.format(
        name=name,
        epoch=f"Epoch: {m['epoch']}\n" if m["epoch"] else "",
        version=m["version"],
        release=m["release"],
        evr=evr,
        extra_install=extra_install,
        extra_files=extra_files,
    )
    return f"{name}-{m['version']}-{m['release']}", text


def build_rpms(
    host: LinuxHost,
    packages: Sequence[tuple[str, str]],
    files: Mapping[str, Mapping[str, str]] | None = None,
) -> list[str]:
    """Build noarch dummy RPMs inside ``host`` with one rpmbuild run; returns their paths there.

    ``files`` adds files to a package: {name: {absolute path: content}}, e.g. a stand-in binary.
    """
    top = f"/{_BUILD_DIR}"
    (host.root / _BUILD_DIR).mkdir(parents=True, exist_ok=True)
    specs: list[str] = []
    paths: list[str] = []
    for name, evr in packages:
        stem, text = _spec(name, evr, (files or {}).get(name, {}))
        (host.root / _BUILD_DIR / f"{stem}.spec").write_text(text)
        specs.append(shlex.quote(f"{top}/{stem}.spec"))
        paths.append(f"{top}/out/noarch/{stem}.noarch.rpm")
    if specs:
        defines = f"--define '_topdir {top}' --define '_rpmdir {top}/out'"
        # quiet when it works; rpm's "file: not found" warnings are harmless (no file(1) here)
        host.run(
            f"rpmbuild -bb --quiet {defines} {' '.join(specs)} >/dev/null 2>&1 "
            f"|| rpmbuild -bb {defines} {' '.join(specs)}"
        )
    return paths


def build_rpm(host: LinuxHost, name: str, evr: str, files: Mapping[str, str] | None = None) -> str:
    """Build one noarch dummy RPM inside ``host``; returns its path there."""
    return build_rpms(host, [(name, evr)], {name: files or {}})[0]


def install_rpms(
    host: LinuxHost,
    packages: Sequence[tuple[str, str]],
    files: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Install dummy RPMs at the given versions into ``host``: one dnf transaction, no repo."""
    paths = build_rpms(host, packages, files)
    if paths:
        host.run(f"dnf -q -y --disablerepo='*' install {' '.join(map(shlex.quote, paths))}")


def _updateinfo(security: list[RpmUpdate], issued: str) -> str:
    updates = []
    for number, (name, _, new) in enumerate(security, start=1):
        m = _EVR.match(new)
        assert m is not None  # checked by build_rpm before
        epoch = m["epoch"] or "0"
        filename = f"{name}-{m['version']}-{m['release']}.noarch.rpm"
        updates.append(
            f"""  <update from="lab@example.invalid" status="final" type="security" version="2.0">
    <id>BLSA-2026:{number:04d}</id>
    <title>Important: {escape(name)} security update</title>
    <severity>Important</severity>
    <issued date="{issued}"/>
    <description>Baluarte lab advisory for {escape(name)}.</description>
    <pkglist>
      <collection short="baluarte">
        <name>Baluarte lab</name>
        <package name="{escape(name)}" version="{m["version"]}" release="{m["release"]}" \
epoch="{epoch}" arch="noarch">
          <filename>{filename}</filename>
        </package>
      </collection>
    </pkglist>
  </update>
"""
        )
    return '<?xml version="1.0" encoding="UTF-8"?>\n<updates>\n' + "".join(updates) + "</updates>\n"


def publish_rpm_updates(
    host: LinuxHost,
    normal: list[RpmUpdate],
    security: list[RpmUpdate] | None = None,
    *,
    issued: str = "2026-11-01 00:00:00",
) -> None:
    """Install the old versions in ``host`` and offer the new ones from its RPM repository.

    Each security update gets its own ``BLSA-2026:NNNN`` advisory (severity Important) in the
    repository's updateinfo; normal updates get none. Ends with ``dnf makecache`` in the host,
    so the collector's cache-only queries (``dnf -C``) see the repository.
    """
    security = security or []
    updates = [*normal, *security]
    built = build_rpms(
        host, [(n, old) for n, old, _ in updates] + [(n, new) for n, _, new in updates]
    )
    olds, news = built[: len(updates)], built[len(updates) :]
    if olds:
        host.run(f"dnf -q -y --disablerepo='*' install {' '.join(map(shlex.quote, olds))}")
    repo = f"/{RPM_REPO_DIR}"
    host.run(f"mkdir -p {repo} && cp {' '.join(map(shlex.quote, news))} {repo}/")
    host.run(f"createrepo_c -q {repo}")
    if security:
        (host.root / _BUILD_DIR / "updateinfo.xml").write_text(_updateinfo(security, issued))
        xml = f"/{_BUILD_DIR}/updateinfo.xml"
        host.run(f"modifyrepo_c --mdtype=updateinfo {xml} {repo}/repodata >/dev/null")
    (host.root / "etc/yum.repos.d/baluarte.repo").write_text(
        f"[baluarte]\nname=Baluarte lab updates\nbaseurl=file://{repo}\ngpgcheck=0\nenabled=1\n"
    )
    host.run("dnf -q makecache >/dev/null")
