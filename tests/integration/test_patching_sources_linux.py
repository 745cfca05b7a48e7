"""End to end on real Debian lab hosts: package sources behind the patching verdicts, and the
reboot/kernel verdicts from versions (issue "Verdicts you can stake your name on", classes 1
and 4).

Each host is made to do the thing: its lists really are fetched from an archive published 94
days ago and apt-get update really fails since; its security source really was never fetched;
its kernels really are packages that ship an image (dpkg owns /boot/vmlinuz-<release>).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from baluarte.lab.aptrepo import NORMAL_SUITE, REPO_DIR, SECURITY_SUITE, publish_updates
from baluarte.lab.linux_hosts import LinuxHost
from checks.linux.patching_kernel import deb_flavour
from tests.integration import cli
from tests.integration.cli import baluarte, findings
from tests.integration.kernels import install_kernel_debs

SOURCES_POLICY = """\
id: sources
version: "1"
title: Package sources (test)
applies_to: {platform: linux}
patching:
  security_updates_pending: {max: 0}
  updates_pending: {max: 0}
  package_sources: {max_age_days: 7}
"""

KERNEL_POLICY = """\
id: kernels
version: "1"
title: Reboot and kernel (test)
applies_to: {platform: linux}
patching:
  reboot_required: {grace_days: 7}
  kernel_current: {required: true}
"""


def fresh_lists(host: LinuxHost) -> None:
    """Nothing pending, lists just fetched from the lab archive (both suites)."""
    publish_updates(host, normal=[])


def lists_fetched_then_mirror_gone(host: LinuxHost, days: int) -> None:
    """The lists of an archive published ``days`` ago, and apt-get update failing ever since."""
    fresh_lists(host)
    published = (datetime.now(UTC) - timedelta(days=days)).strftime("%a, %d %b %Y %H:%M:%S UTC")
    for suite in (NORMAL_SUITE, SECURITY_SUITE):
        release = host.root / REPO_DIR / "dists" / suite / "Release"
        lines = release.read_text().splitlines()
        release.write_text(
            "\n".join(f"Date: {published}" if ln.startswith("Date:") else ln for ln in lines) + "\n"
        )
    host.run("rm -f /var/lib/apt/lists/*_Release /var/lib/apt/lists/*_Packages")
    host.run("apt-get update -q >/dev/null")  # the archive as it was then
    host.run(f"mv /{REPO_DIR} /{REPO_DIR}.gone")  # the mirror is gone: every update fails
    failed = host.run("apt-get update -q", check=False)
    assert failed.returncode == 100, failed.stdout + failed.stderr


def set_release(host: LinuxHost, version: str, codename: str) -> None:
    os_release = host.root / "etc/os-release"
    os_release.unlink()  # a symlink into /usr/lib on Debian
    os_release.write_text(
        f'PRETTY_NAME="Debian GNU/Linux {version} ({codename})"\nNAME="Debian GNU/Linux"\n'
        f'VERSION_ID="{version}"\nVERSION_CODENAME={codename}\nID=debian\n'
    )


def test_stale_unsecured_or_unfetched_lists_never_pass_the_pending_counts(
    tmp_path, lab, make_host: Callable[[str], LinuxHost]
):
    fresh, stale, nosec, unfetched = (
        make_host(n) for n in ("fresh", "stale", "nosec", "unfetched")
    )
    fresh_lists(fresh)
    lists_fetched_then_mirror_gone(stale, days=94)
    # only the normal suite configured
    fresh_lists(nosec)
    nosec.run(
        f"sed -i '/{SECURITY_SUITE}/d' /etc/apt/sources.list.d/baluarte-repo.list"
        " && rm -f /var/lib/apt/lists/* 2>/dev/null; apt-get update -q >/dev/null"
    )
    # a security source whose every fetch fails (its mirror was never there)
    fresh_lists(unfetched)
    unfetched.run(
        "echo 'deb [trusted=yes] file:/srv/mirror-down bookworm-security main'"
        " > /etc/apt/sources.list.d/security.list"
    )
    assert unfetched.run("apt-get update -q", check=False).returncode == 100
    cli.write_inputs(tmp_path, lab, [fresh, stale, nosec, unfetched], policy=SOURCES_POLICY)
    got = findings(baluarte(tmp_path, "check", "--format", "json"))

    def of(device: str) -> dict[str, dict]:
        return {c.removeprefix("patching."): f for (d, c), f in got.items() if d == device}

    ok = of("fresh")
    assert {c: f["status"] for c, f in ok.items()} == {
        "security_updates_pending": "pass",
        "updates_pending": "pass",
        "package_sources": "pass",
    }, ok
    # bookworm left regular support on 2026-07-11; Debian LTS counts by default
    assert "Debian 12 (bookworm): Debian LTS until 2028-06-30" in ok["package_sources"]["observed"]

    # 0 pending, from lists of an archive 94 days old: the pending set is unknown
    old = of("stale")
    for control in ("security_updates_pending", "updates_pending"):
        assert old[control]["status"] == "error", old[control]
        reason = old[control]["reason"]
        assert reason.startswith("computed from package lists older than the policy allows")
        assert "(94.0 days ago)" in reason and reason.endswith("the pending set is unknown")
    assert old["package_sources"]["status"] == "fail"
    assert (
        f"file:/srv/baluarte-repo {SECURITY_SUITE}: published"
        in (old["package_sources"]["observed"])
    )

    plain = of("nosec")
    assert plain["security_updates_pending"]["status"] == "error"
    assert (
        "0 pending security updates would prove nothing"
        in (plain["security_updates_pending"]["reason"])
    )
    assert plain["updates_pending"]["status"] == "pass"
    assert plain["package_sources"]["status"] == "fail"
    assert "no security source is configured" in plain["package_sources"]["observed"]

    never = of("unfetched")
    for control in ("security_updates_pending", "updates_pending"):
        assert never[control]["status"] == "error"
        assert (
            "configured but never fetched: file:/srv/mirror-down bookworm-security"
            in (never[control]["reason"])
        )
    assert never["package_sources"]["status"] == "fail"
    assert "security.list:1) has never been fetched" in never["package_sources"]["observed"]


def test_a_release_past_its_support_fails_and_an_unknown_one_is_an_error(
    tmp_path, lab, make_host: Callable[[str], LinuxHost]
):
    buster, unknown = make_host("buster"), make_host("zebra")
    for host in (buster, unknown):
        fresh_lists(host)
    set_release(buster, "10", "buster")
    set_release(unknown, "99", "zebra")
    cli.write_inputs(tmp_path, lab, [buster, unknown], policy=SOURCES_POLICY)
    got = findings(baluarte(tmp_path, "check", "--format", "json"))
    eol = got[("buster", "patching.package_sources")]
    assert eol["status"] == "fail"
    assert eol["observed"] == (
        "Debian 10 (buster): Debian ELTS (Freexian, paid) until 2029-06-30, which the policy "
        "does not count (extended_support: lts)"
    )
    # the pending counts themselves are still trusted: the lists are fresh
    assert got[("buster", "patching.security_updates_pending")]["status"] == "pass"
    zebra = got[("zebra", "patching.package_sources")]
    assert zebra["status"] == "error"
    assert zebra["reason"].startswith("unknown release: Debian GNU/Linux 99 (zebra) is not in")


def test_reboot_and_kernel_verdicts_come_from_versions_never_from_names(
    tmp_path, lab, make_host: Callable[[str], LinuxHost]
):
    bare, named, proxmox, current = (
        make_host(n) for n in ("kbare", "knamed", "kproxmox", "kcurrent")
    )
    running = bare.run("uname -r").stdout.strip()
    flavour = deb_flavour(running)
    newer = f"99.0.0-1-{flavour}" if flavour else "99.0.0-1"
    # a kernel package newer by name, of another flavour, not shipping the running kernel
    install_kernel_debs(named, [("linux-image-99.1.0-1-amd64", "99.1", "99.1.0-1-amd64")])
    # Proxmox's names, and its metapackage (no image) at a higher version
    install_kernel_debs(
        proxmox,
        [
            (f"proxmox-kernel-{running}-signed", "1.0-1", running),
            (f"proxmox-kernel-{newer}-signed", "2.0-1", newer),
            ("proxmox-default-kernel", "9.9", None),
        ],
    )
    install_kernel_debs(
        current, [(f"linux-image-{running}", "1.0-1", running), ("linux-image-amd64", "9.9", None)]
    )
    cli.write_inputs(tmp_path, lab, [bare, named, proxmox, current], policy=KERNEL_POLICY)
    got = findings(baluarte(tmp_path, "check", "--format", "json"))

    # no needrestart answer (KSTA 0), no reboot-required file, no kernel package: no signal
    reboot = got[("kbare", "patching.reboot_required")]
    assert reboot["status"] == "error"
    assert "needrestart could not tell the kernel state (NEEDRESTART-KSTA 0)" in reboot["reason"]
    kernel = got[("kbare", "patching.kernel_current")]
    assert kernel["status"] == "error"
    assert f"the running kernel {running} is shipped by no installed package" in kernel["reason"]
    assert "installed kernels: none" in kernel["reason"]

    # a "newer" name proves nothing about a kernel no package ships
    kernel = got[("knamed", "patching.kernel_current")]
    assert kernel["status"] == "error"
    assert "installed kernels: linux-image-99.1.0-1-amd64 99.1" in kernel["reason"]
    assert got[("knamed", "patching.reboot_required")]["status"] == "error"

    behind = got[("kproxmox", "patching.kernel_current")]
    assert behind["status"] == "fail"
    assert behind["observed"] == (
        f"running {running} (1.0-1, from package proxmox-kernel-{running}-signed); "
        f"{newer} 2.0-1 is installed"
    )
    reboot = got[("kproxmox", "patching.reboot_required")]
    assert reboot["status"] == "fail"
    assert f"kernel {running} (1.0-1) running, {newer} (2.0-1) installed" in reboot["observed"]

    ok = got[("kcurrent", "patching.kernel_current")]
    assert ok["status"] == "pass", ok
    assert ok["observed"] == f"running {running} (1.0-1, from package linux-image-{running})"
    reboot = got[("kcurrent", "patching.reboot_required")]
    assert reboot["status"] == "pass"
    assert reboot["observed"] == "no reboot pending (checked: kernel comparison)"


def test_a_proven_container_is_not_applicable_for_kernel_and_reboot(
    tmp_path, systemd_lab, systemd_host
):
    # systemd-nspawn: systemd writes /run/systemd/container, PID 1 has container= set
    cli.write_inputs(tmp_path, systemd_lab, [systemd_host], policy=KERNEL_POLICY)
    got = findings(baluarte(tmp_path, "check", "--format", "json"))
    for control in ("patching.reboot_required", "patching.kernel_current"):
        finding = got[("sdhost", control)]
        assert finding["status"] == "not_applicable", finding
        assert "container" in finding["reason"] and "systemd-nspawn" in finding["reason"]
