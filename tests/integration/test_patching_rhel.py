"""End to end through the CLI: the patching controls on Rocky-like hosts, with real dnf.

The hosts are lab hosts started from the RHEL-like image variant (Debian 12 + dnf 4.14, the
RHEL 9 version, dnf-plugins-core, rpm, createrepo_c), with a Rocky 9 os-release and apt
hidden, so the collector takes the dnf path as on a real Rocky host. Their updates come from
an RPM repository built in the test (rpmbuild, createrepo_c, modifyrepo_c updateinfo.xml).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab, leftovers
from baluarte.lab.rhel_like import (
    build_rpm,
    ensure_rhel_like_image,
    install_rpms,
    make_rocky_like,
    publish_rpm_updates,
)
from tests.integration import cli
from tests.integration.cli import baluarte, findings

POLICY = """\
id: patch-rhel
version: "1"
title: Patch level on the RHEL family (test)
applies_to: {platform: linux}
patching:
  security_updates_pending: {max: 0}
  updates_pending: {max: 0}
  days_since_last_update: {max: 14}
  automatic_updates: {required: true}
  reboot_required: {grace_days: 0}
  kernel_current: {required: true}
  minimum_versions: {packages: {bl-min: "2.0"}}
  # no release table for the RHEL family (an honest error): judged on its sources only here
  package_sources: {supported_release: false}
"""

# What dnf-automatic ships that the collector looks at: the command and its timers. Debian's
# dnf has the dnf.automatic module but no dnf-automatic command, so the package is built here.
_AUTOMATIC_FILES = {
    "/usr/bin/dnf-automatic": "#!/usr/bin/python3\nimport sys\n"
    "from dnf.automatic.main import main\nsys.exit(main(sys.argv[1:]))\n",
    "/usr/lib/systemd/system/dnf-automatic.timer": "[Timer]\nOnCalendar=*-*-* 6:00\n",
    "/usr/lib/systemd/system/dnf-automatic-install.timer": "[Timer]\nOnCalendar=*-*-* 6:00\n",
}


@pytest.fixture(scope="module")
def rhel_lab(lab: LinuxHostLab) -> Iterator[LinuxHostLab]:
    # `lab` is asked for only for its skip conditions (root, tools) and the `hosts` marker.
    with LinuxHostLab(image=ensure_rhel_like_image()) as the_lab:
        yield the_lab
    assert leftovers(the_lab.prefix) == []


@pytest.fixture
def rocky(rhel_lab: LinuxHostLab) -> Iterator[Callable[[str], LinuxHost]]:
    made: list[LinuxHost] = []

    def make(name: str) -> LinuxHost:
        host = rhel_lab.up(name)
        made.append(host)
        # needs-restarting takes the boot time from /proc/1's mtime, which in a fresh proc
        # mount is when the inode is first looked up (linux-checks.md §1.6). A process whose
        # working directory is /proc/1 pins it now, so what is installed later is "after boot".
        host.run("cd /proc/1 && exec sleep 3600 >/dev/null 2>&1 </dev/null &")
        host.run("sleep 1.1")
        make_rocky_like(host)
        return host

    yield make
    for host in made:
        rhel_lab.down(host)


def configure_dnf_automatic(host: LinuxHost, apply_updates: str, timer: str) -> None:
    host.run(
        "sed -i -e 's/^upgrade_type.*/upgrade_type = security/' "
        f"-e 's/^apply_updates.*/apply_updates = {apply_updates}/' /etc/dnf/automatic.conf; "
        "mkdir -p /etc/systemd/system/timers.target.wants; "
        f"ln -sf /usr/lib/systemd/system/{timer} /etc/systemd/system/timers.target.wants/{timer}"
    )


def install_kernels(host: LinuxHost, kernels: list[tuple[str, str]]) -> None:
    """kernel-core packages (evr, release) shipping /lib/modules/<release>/vmlinuz, as RHEL 8+
    packages them, installed side by side with ``rpm -i`` as installonly kernels are."""
    paths = [
        build_rpm(host, "kernel-core", evr, {f"/lib/modules/{release}/vmlinuz": f"{release}\n"})
        for evr, release in kernels
    ]
    # --replacefiles: every dummy ships /usr/share/doc/<name>/VERSION, kernels do not
    host.run(f"rpm -i --replacefiles {' '.join(paths)} 2>/dev/null")


def make_compliant(host: LinuxHost) -> None:
    """Patched today with dnf (its advisories too), dnf-automatic installing security updates,
    bl-min a snapshot, the running kernel shipped by the newest kernel-core."""
    publish_rpm_updates(
        host, normal=[("bl-done", "1.0-1", "1.1-1")], security=[("bl-fixed", "1.0-1", "1.0-2")]
    )
    host.run("dnf -q -y -C upgrade >/dev/null")  # an Upgrade in dnf's rpm log, now
    install_kernels(host, [("6.18.0-1.el9", host.run("uname -r").stdout.strip())])
    install_rpms(
        host,
        [
            # 2.0^…: a post-2.0 snapshot in rpm's rules (Debian's would not even parse it)
            ("bl-min", "2.0^20261101git1-1"),
            ("dnf-automatic", "4.14.0-9.el9"),
        ],
        files={"dnf-automatic": _AUTOMATIC_FILES},
    )
    configure_dnf_automatic(host, "yes", "dnf-automatic.timer")


def make_drifted(host: LinuxHost) -> None:
    """One security and one normal update pending, never upgraded, glibc newer than boot…"""
    publish_rpm_updates(
        host, normal=[("bl-demo", "1.0-1", "1.1-1")], security=[("bl-sec", "1.0-1", "1.0-2")]
    )
    install_rpms(
        host,
        [
            ("bl-min", "2.0~rc1-1"),  # a release candidate sorts before 2.0
            ("glibc", "2.34-100.el9_4.2"),  # a core library installed after boot
            ("dnf-automatic", "4.14.0-9.el9"),
        ],
        files={"dnf-automatic": _AUTOMATIC_FILES},
    )
    # the running kernel's kernel-core, and a newer one installed, not running
    running = host.run("uname -r").stdout.strip()
    install_kernels(host, [("6.18.0-1.el9", running), ("6.19.0-1.el9", "6.19.0-1.el9.x86_64")])
    configure_dnf_automatic(host, "no", "dnf-automatic.timer")  # downloads, never installs


def test_rocky_hosts_pass_and_fail_each_patching_control(tmp_path, rhel_lab, rocky):
    good, bad, broken = rocky("rocky-good"), rocky("rocky-bad"), rocky("rocky-norepo")
    make_compliant(good)
    make_drifted(bad)
    # rocky-norepo has no repository at all: dnf check-update cannot say what is pending;
    # its last upgrade, in dnf's log, is 30 days old
    old = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    (broken.root / "var/log/dnf.rpm.log").write_text(
        f"{old} SUBDEBUG Upgrade: openssl-libs-1:3.0.7-27.el9.x86_64\n"
    )
    cli.write_inputs(tmp_path, rhel_lab, [good, bad, broken], policy=POLICY)
    result = baluarte(tmp_path, "check", "--format", "json")
    got = findings(result)

    def status(device: str) -> dict[str, str]:
        return {c: f["status"] for (d, c), f in got.items() if d == device}

    assert status("rocky-good") == {
        "patching.security_updates_pending": "pass",
        "patching.updates_pending": "pass",
        "patching.days_since_last_update": "pass",
        "patching.automatic_updates": "pass",
        "patching.reboot_required": "pass",
        "patching.kernel_current": "pass",
        "patching.minimum_versions": "pass",
        "patching.package_sources": "pass",
    }, got
    ok = {c: f for (d, c), f in got.items() if d == "rocky-good"}
    assert ok["patching.minimum_versions"]["observed"] == "bl-min 2.0^20261101git1-1"
    assert (
        "upgrade_type=security; apply_updates=yes" in ok["patching.automatic_updates"]["observed"]
    )
    assert "from the dnf rpm log" in ok["patching.days_since_last_update"]["observed"]
    assert (
        ok["patching.reboot_required"]["observed"]
        == "no reboot pending (checked: needs-restarting, kernel comparison)"
    )

    bad_f = {c: f for (d, c), f in got.items() if d == "rocky-bad"}
    assert {c: f["status"] for c, f in bad_f.items()} == {
        "patching.security_updates_pending": "fail",
        "patching.updates_pending": "fail",
        "patching.days_since_last_update": "fail",
        "patching.automatic_updates": "fail",
        "patching.reboot_required": "fail",
        "patching.kernel_current": "fail",
        "patching.minimum_versions": "fail",
        "patching.package_sources": "pass",  # fresh, with advisories: the pending set is known
    }, bad_f
    sec = bad_f["patching.security_updates_pending"]
    assert sec["observed"] == "1 pending security updates: bl-sec (1.0-1 → 1.0-2)"
    assert "BLSA-2026:0001 Important" in sec["evidence"]
    assert bad_f["patching.updates_pending"]["observed"] == (
        "2 pending updates: bl-demo (1.0-1 → 1.1-1), bl-sec (1.0-1 → 1.0-2)"
    )
    assert bad_f["patching.days_since_last_update"]["observed"] == (
        "no successful update installation on record"
    )
    auto = bad_f["patching.automatic_updates"]["observed"]
    assert "enabled timers: dnf-automatic.timer" in auto and "apply_updates=no" in auto
    assert "package glibc" in bad_f["patching.reboot_required"]["observed"]
    kernel = bad_f["patching.kernel_current"]
    assert kernel["expected"] == (
        "running kernel is the newest installed of its family (6.19.0-1.el9.x86_64 6.19.0-1.el9)"
    )
    assert "(6.18.0-1.el9, from package kernel-core)" in kernel["observed"]
    assert bad_f["patching.minimum_versions"]["observed"] == "bl-min 2.0~rc1-1 < 2.0"

    norepo = {c: f for (d, c), f in got.items() if d == "rocky-norepo"}
    for control in ("patching.security_updates_pending", "patching.updates_pending"):
        assert norepo[control]["status"] == "error"
        assert "dnf check-update failed (exit 1)" in norepo[control]["reason"]
        assert "no enabled repositories" in norepo[control]["reason"]
    sources = norepo["patching.package_sources"]
    assert sources["status"] == "fail" and sources["observed"] == "no package source is configured"
    days = norepo["patching.days_since_last_update"]
    assert days["status"] == "fail"
    assert days["observed"].endswith("(30.0 days ago, from the dnf rpm log)")
    # drift found, and a device whose facts could not all be read: the error exit wins
    assert result.returncode == 3, result.stderr
