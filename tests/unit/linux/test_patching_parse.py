"""parse() of the patching fragment's raw output, from outputs recorded on Debian 12."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from checks.linux.patching import parse, parse_history, parse_left_out, parse_simulate
from checks.linux.patching_kernel import deb_flavour, uname_version
from checks.linux.patching_sources import parse_os_release

SIMULATE = """NOTE: This is only a simulation!
6 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.
Inst perl-base [5.36.0-7+deb12u3] (5.36.0-7+deb12u4 Debian-Security:12/oldstable-security [amd64])
Conf perl-base (5.36.0-7+deb12u4 Debian-Security:12/oldstable-security [amd64])
Inst lc-demo [1.0] (1.1 Debian:lc-updates [all])
Inst libssl3 [3.0.1] (3.0.2-0ubuntu1.18 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
Inst newpkg (2.0 Debian:12.15/oldstable [amd64])
Inst local-thing [1] (2 localhost [all])
"""

HISTORY = """
Start-Date: 2026-11-20  05:49:28
Commandline: apt-get -y dist-upgrade
Upgrade: yes
End-Date: 2026-11-20  05:49:31

Start-Date: 2026-11-25  06:00:00
Commandline: /usr/bin/unattended-upgrade --dry-run -v
Upgrade: yes
End-Date: 2026-11-25  06:00:02

Start-Date: 2026-11-26  07:00:00
Commandline: apt-get install foo
End-Date: 2026-11-26  07:00:03

Start-Date: 2026-11-27  08:00:00
Commandline: apt-get upgrade
Upgrade: yes
Error: Sub-process /usr/bin/dpkg returned an error code (1)
End-Date: 2026-11-27  08:00:05
"""


# apt-get indextargets --no-release-info 'Created-By: Packages' --format … (recorded in a lab
# host: the lab repository fetched, deb.debian.org configured but never fetched), plus the
# security.debian.org line as Debian 12 writes it
_LISTS = "/var/lib/apt/lists/"
TARGETS = f"""\
/etc/apt/sources.list.d/baluarte-repo.list:1|file:/srv/baluarte-repo|baluarte-updates|main/binary-amd64/Packages|{_LISTS}_srv_baluarte-repo_dists_baluarte-updates_main_binary-amd64_Packages
/etc/apt/sources.list.d/baluarte-repo.list:1|file:/srv/baluarte-repo|baluarte-updates|main/binary-all/Packages|{_LISTS}_srv_baluarte-repo_dists_baluarte-updates_main_binary-all_Packages
/etc/apt/sources.list.d/x.list:1|http://deb.debian.org/debian|bookworm|main/binary-amd64/Packages|{_LISTS}deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages
/etc/apt/sources.list.d/x.list:2|http://user:s3cret@security.debian.org/debian-security|bookworm-security|main/binary-amd64/Packages|{_LISTS}security.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages
"""
# grep -H over the lists' Release files; the security InRelease as Debian's archive writes it
RELEASES = f"""\
{_LISTS}_srv_baluarte-repo_dists_baluarte-updates_Release:Codename: baluarte-updates
{_LISTS}_srv_baluarte-repo_dists_baluarte-updates_Release:Date: Sun, 06 Dec 2026 19:15:37 +0000
{_LISTS}_srv_baluarte-repo_dists_baluarte-updates_Release:Label: Debian
{_LISTS}_srv_baluarte-repo_dists_baluarte-updates_Release:Origin: Debian
{_LISTS}_srv_baluarte-repo_dists_baluarte-updates_Release:Suite: baluarte-updates
{_LISTS}security.debian.org_debian-security_dists_bookworm-security_InRelease:Origin: Debian
{_LISTS}security.debian.org_debian-security_dists_bookworm-security_InRelease:Label: Debian-Security
{_LISTS}security.debian.org_debian-security_dists_bookworm-security_InRelease:Suite: oldstable-security
{_LISTS}security.debian.org_debian-security_dists_bookworm-security_InRelease:Version: 12
{_LISTS}security.debian.org_debian-security_dists_bookworm-security_InRelease:Codename: bookworm-security
{_LISTS}security.debian.org_debian-security_dists_bookworm-security_InRelease:Date: Sat, 05 Dec 2026 18:12:41 UTC
{_LISTS}security.debian.org_debian-security_dists_bookworm-security_InRelease:Valid-Until: Sat, 12 Dec 2026 18:12:41 UTC
"""
# dpkg-query -S '/boot/vmlinuz-*': the metapackage linux-image-amd64 ships no image
KERNELS = """\
linux-image-6.1.0-27-amd64: /boot/vmlinuz-6.1.0-27-amd64
linux-image-6.1.0-28-amd64: /boot/vmlinuz-6.1.0-28-amd64
"""


def field(out: str, rc: int = 0) -> dict:
    return {"rc": rc, "out": out}


def raw(**overrides) -> dict:
    doc = {
        "manager": field("apt"),
        "simulate": field(SIMULATE),
        "apt_config": field(
            'APT::Periodic::Update-Package-Lists "1";\n'
            'APT::Periodic::Unattended-Upgrade "1";\n'
            'Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=bookworm-security,'
            'label=Debian-Security";'
        ),
        "history": field(HISTORY),
        "stamps": field(""),
        "targets": field(TARGETS),
        "releases": field(RELEASES),
        "kernels": field(KERNELS),
        "container": field(""),
        "reboot_file": field("absent"),
        "needrestart": field("not installed", 127),
        "running": field("6.1.0-27-amd64\n#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)"),
        "packages": field(
            "openssl\t3.0.15-1~deb12u1\tii \nrc-only\t1.0\trc \n"
            "unattended-upgrades\t2.9.1+nmu3\tii \n"
            "linux-image-6.1.0-27-amd64\t6.1.115-1\tii \n"
            "linux-image-6.1.0-28-amd64\t6.1.119-1\tii \n"
            "linux-image-amd64\t6.1.119-1\tii \n"
        ),
    }
    doc.update(overrides)
    return doc


HOST = {"clock": field("1795851489\n+0100")}


def test_simulate_lines_give_pending_updates_with_security_from_any_origin():
    pending = parse_simulate(SIMULATE)
    assert [u.name for u in pending] == ["perl-base", "lc-demo", "libssl3", "newpkg", "local-thing"]
    assert [u.security for u in pending] == [True, False, True, False, False]
    assert pending[2].origins == ("Ubuntu:22.04/jammy-updates", "Ubuntu:22.04/jammy-security")
    assert pending[3].installed is None and pending[3].candidate == "2.0"


def test_history_skips_dry_runs_errors_and_installs_only():
    tz = timezone(timedelta(hours=1))
    assert parse_history(HISTORY, tz) == datetime(2026, 11, 20, 5, 49, 31, tzinfo=tz)


def test_parse_takes_host_timezone_and_newest_source():
    facts = parse(raw(), HOST)
    assert facts.last_update == datetime(2026, 11, 20, 4, 49, 31, tzinfo=UTC)
    assert facts.last_update_source == "apt history"
    stamp = parse(raw(stamps=field("/var/lib/apt/periodic/upgrade-stamp 1795800000")), HOST)
    assert stamp.last_update_source == "unattended-upgrades stamp"
    assert stamp.last_update == datetime.fromtimestamp(1795800000, UTC)


def test_a_dpkg_log_upgrade_line_is_not_a_successful_update():
    # one package unpacked by a failed apt run, or a manual dpkg -i: an older collection
    # script's dpkg_log field must not make the failing apt runs look like updates
    facts = parse(raw(dpkg_log=field("2026-11-28 09:00:00 upgrade x:amd64 1 2")), HOST)
    assert facts.last_update_source == "apt history"
    assert facts.last_update == datetime(2026, 11, 20, 4, 49, 31, tzinfo=UTC)


def test_an_unreadable_history_log_is_not_read_as_empty():
    # pt_history's pipe ends in awk, whose exit status is always 0: the marker says it
    text = "@@unreadable /var/log/apt/history.log\n@@unreadable /var/log/apt/history.log.1.gz\n"
    facts = parse(raw(history=field(text)), HOST)
    assert not facts.history_read and facts.last_update is None
    assert (
        "the apt history could not be read: /var/log/apt/history.log, "
        "/var/log/apt/history.log.1.gz" in facts.problems
    )
    # one rotated file unreadable: the rest is read, and still not "read"
    partial = parse(
        raw(history=field(HISTORY + "\n@@unreadable /var/log/apt/history.log.2.gz")), HOST
    )
    assert not partial.history_read
    assert partial.last_update == datetime(2026, 11, 20, 4, 49, 31, tzinfo=UTC)
    assert parse(raw(), HOST).history_read


def test_unattended_upgrades_enabled_for_security():
    auto = parse(raw(), HOST).automatic_updates
    assert auto is not None and auto.installed and auto.enabled and auto.security_origin


def test_unattended_upgrades_missing_or_disabled():
    missing = parse(raw(packages=field("openssl\t3.0.15-1~deb12u1\tii \n")), HOST)
    assert missing.automatic_updates is not None and not missing.automatic_updates.enabled
    off = parse(raw(apt_config=field('APT::Periodic::Unattended-Upgrade "0";')), HOST)
    assert off.automatic_updates is not None and not off.automatic_updates.enabled


def test_newer_kernel_installed_means_reboot_and_not_current():
    facts = parse(raw(), HOST)
    assert facts.kernel_running == "6.1.0-27-amd64"
    assert facts.kernel_running_version == "6.1.115-1"
    assert facts.kernel_running_version_source == "uname -v"
    assert facts.kernel_provider is not None
    assert facts.kernel_provider.package == "linux-image-6.1.0-27-amd64"
    assert facts.kernel_newest == "6.1.0-28-amd64"
    assert facts.kernel_newest_version == "6.1.119-1"
    assert [k.package for k in facts.kernels] == [
        "linux-image-6.1.0-27-amd64",
        "linux-image-6.1.0-28-amd64",
    ]  # the metapackage linux-image-amd64 ships no kernel
    assert facts.reboot is not None and facts.reboot.required
    assert facts.reboot.reasons == (
        "kernel 6.1.0-27-amd64 (6.1.115-1) running, 6.1.0-28-amd64 (6.1.119-1) installed",
    )


def test_same_abi_package_upgraded_in_place_is_a_newer_kernel():
    # Debian kept the ABI name 6.1.0-27 for 6.1.115-2: the name says nothing, uname -v does
    facts = parse(
        raw(
            packages=field("linux-image-6.1.0-27-amd64\t6.1.115-2\tii \n"),
            kernels=field("linux-image-6.1.0-27-amd64: /boot/vmlinuz-6.1.0-27-amd64\n"),
        ),
        HOST,
    )
    assert facts.kernel_running_version == "6.1.115-1"
    assert (facts.kernel_newest, facts.kernel_newest_version) == ("6.1.0-27-amd64", "6.1.115-2")
    assert facts.reboot is not None and facts.reboot.required


def test_proxmox_kernels_are_one_family_across_their_renaming():
    packages = (
        "pve-kernel-6.2.16-20-pve\t6.2.16-20\tii \n"
        "proxmox-kernel-6.8.12-4-pve-signed\t6.8.12-4\tii \n"
        "proxmox-default-kernel\t1.1.0\tii \n"
    )
    kernels = (
        "pve-kernel-6.2.16-20-pve: /boot/vmlinuz-6.2.16-20-pve\n"
        "proxmox-kernel-6.8.12-4-pve-signed: /boot/vmlinuz-6.8.12-4-pve\n"
    )
    running = "6.2.16-20-pve\n#1 SMP PREEMPT_DYNAMIC PMX 6.2.16-20 (2023-12-01T13:17Z)"
    facts = parse(
        raw(packages=field(packages), kernels=field(kernels), running=field(running)), HOST
    )
    assert facts.kernel_family == "pve"
    assert (facts.kernel_newest, facts.kernel_newest_version) == ("6.8.12-4-pve", "6.8.12-4")
    assert facts.reboot is not None and facts.reboot.required


def test_a_newer_kernel_of_another_flavour_is_not_newer():
    packages = (
        "linux-image-6.1.0-27-amd64\t6.1.115-1\tii \n"
        "linux-image-6.1.0-28-cloud-amd64\t6.1.119-1\tii \n"
    )
    kernels = (
        "linux-image-6.1.0-27-amd64: /boot/vmlinuz-6.1.0-27-amd64\n"
        "linux-image-6.1.0-28-cloud-amd64: /boot/vmlinuz-6.1.0-28-cloud-amd64\n"
    )
    facts = parse(raw(packages=field(packages), kernels=field(kernels)), HOST)
    assert facts.kernel_newest == "6.1.0-27-amd64"
    assert facts.reboot is not None and not facts.reboot.required
    assert facts.reboot.source == "kernel comparison"


def test_a_running_kernel_no_package_ships_is_not_called_older():
    # the old reading: a kernel package newer by name, so "a newer kernel is installed"
    facts = parse(
        raw(running=field("6.18.44-fc-v1300\n#1 SMP PREEMPT_DYNAMIC @0"), kernels=field(
            "linux-image-99.1.0-1-fc-v1300: /boot/vmlinuz-99.1.0-1-fc-v1300\n"
        ), packages=field("linux-image-99.1.0-1-fc-v1300\t99.1\tii \n")),
        HOST,
    )  # fmt: skip
    assert facts.kernel_provider is None and facts.kernel_running_version is None
    assert facts.reboot is not None
    assert not facts.reboot.required and facts.reboot.source == ""
    assert "cannot be compared: no installed package ships it" in facts.reboot.unknown


def test_no_reboot_signal_at_all_is_said_so():
    facts = parse(
        raw(
            running=field("6.18.44-fc-v1300\n#1 SMP PREEMPT_DYNAMIC @0"),
            kernels=field("dpkg-query: no path found matching pattern /boot/vmlinuz-*", 1),
            needrestart=field(
                "NEEDRESTART-VER: 3.6\nNEEDRESTART-KCUR: 6.18.44-fc-v1300\nNEEDRESTART-KSTA: 0\n"
            ),
        ),
        HOST,
    )
    assert facts.kernels == () and facts.problems == ()
    reboot = facts.reboot
    assert reboot is not None and not reboot.required and reboot.source == ""
    assert "needrestart could not tell the kernel state (NEEDRESTART-KSTA 0)" in reboot.unknown
    assert "/var/run/reboot-required absent" in reboot.unknown


def test_container_evidence_is_read_never_assumed():
    assert parse(raw(), HOST).container is None
    docker = parse(raw(container=field("/.dockerenv present\n")), HOST)
    assert docker.container == "/.dockerenv present"


def test_uname_versions_of_debian_ubuntu_and_proxmox():
    assert (
        uname_version("6.1.0-27-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)")
        == "6.1.115-1"
    )
    assert (
        uname_version("5.15.0-91-generic", "#101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023")
        == "5.15.0-91.101"
    )
    assert (
        uname_version("5.15.0-91-generic", "#101~20.04.1-Ubuntu SMP Thu Nov 16 14:22:28 UTC 2023")
        == "5.15.0-91.101~20.04.1"
    )
    assert (
        uname_version("6.8.12-4-pve", "#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 (2024-11-06T15:04Z)")
        == "6.8.12-4"
    )
    assert uname_version("6.18.44-fc-v1300", "#1 SMP PREEMPT_DYNAMIC @0") is None
    assert [deb_flavour(r) for r in ("6.1.0-27-cloud-amd64", "6.12.9+bpo-amd64", "6.8.12-4-pve")] == [
        "cloud-amd64", "bpo-amd64", "pve",
    ]  # fmt: skip


def test_sources_fetched_or_not_with_their_publish_dates():
    lists = parse(raw(), HOST).package_sources
    assert lists is not None and lists.problem == ""
    by_name = {s.name: s for s in lists.sources}
    assert list(by_name) == [
        "file:/srv/baluarte-repo baluarte-updates",
        "http://deb.debian.org/debian bookworm",
        "http://security.debian.org/debian-security bookworm-security",  # no credentials
    ]
    updates = by_name["file:/srv/baluarte-repo baluarte-updates"]
    # no Valid-Until, not a security pocket: its date need not move after a refresh
    assert updates.fetched and not updates.continuous and not updates.security
    assert updates.published_at == datetime(2026, 12, 6, 19, 15, 37, tzinfo=UTC)
    main = by_name["http://deb.debian.org/debian bookworm"]
    assert not main.fetched and not main.continuous and main.entry.endswith("x.list:1")
    sec = by_name["http://security.debian.org/debian-security bookworm-security"]
    assert sec.security and sec.continuous and sec.site == "security.debian.org"
    assert (sec.label, sec.suite) == ("Debian-Security", "oldstable-security")
    assert sec.valid_until == datetime(2026, 12, 12, 18, 12, 41, tzinfo=UTC)


def test_unreadable_sources_are_a_problem_not_an_empty_list():
    failed = parse(raw(targets=field("E: Invalid operation indextargets", 100)), HOST)
    assert failed.package_sources is not None
    assert "apt-get indextargets failed (exit 100)" in failed.package_sources.problem
    old_script = {k: v for k, v in raw().items() if k != "targets"}
    assert parse(old_script, HOST).package_sources.problem
    none = parse(raw(targets=field(""), releases=field("")), HOST).package_sources
    assert none is not None and none.sources == () and none.problem == ""


def test_os_release_of_debian_and_a_derivative():
    debian = parse(raw(), {**HOST, "os_release": field(
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\n'
        "VERSION_CODENAME=bookworm\nID=debian\n"
    )}).os_release  # fmt: skip
    assert debian is not None
    assert (debian.id, debian.version_id, debian.codename) == ("debian", "12", "bookworm")
    mint = parse_os_release(
        'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_ID="21.3"\n'
        "VERSION_CODENAME=virginia\nUBUNTU_CODENAME=jammy\n"
    )
    assert mint is not None and mint.id_like == ("ubuntu", "debian")
    assert mint.ubuntu_codename == "jammy"
    assert parse_os_release("") is None


def test_reboot_required_file_gives_since_and_packages():
    facts = parse(raw(reboot_file=field("1795000000\nlibc6\nlinux-image-6.1.0-28-amd64")), HOST)
    assert facts.reboot is not None and facts.reboot.required
    assert facts.reboot.since == datetime.fromtimestamp(1795000000, UTC)
    assert "package libc6" in facts.reboot.reasons


def test_only_installed_packages_are_listed():
    packages = parse(raw(), HOST).packages
    assert packages is not None and "rc-only" not in packages
    assert packages["openssl"] == "3.0.15-1~deb12u1"


def test_failed_simulation_is_unknown_not_zero():
    facts = parse(raw(simulate=field("E: Could not open lock file", 100)), HOST)
    assert facts.pending is None
    assert any("exit 100" in p for p in facts.problems)


def test_no_apt_means_nothing_known():
    facts = parse({"manager": field("")}, HOST)
    assert facts.pending is None and facts.packages is None and facts.problems


def test_needrestart_unknown_kernel_state_falls_back_to_kernel_comparison():
    unknown = "NEEDRESTART-VER: 3.6\nNEEDRESTART-KCUR: 6.1.0-27-amd64\nNEEDRESTART-KSTA: 0\n"
    facts = parse(raw(needrestart=field(unknown)), HOST)
    assert facts.reboot is not None and facts.reboot.required
    assert "kernel comparison" in facts.reboot.source


def test_needrestart_saying_current_kernel_is_evidence_of_no_reboot():
    current = "NEEDRESTART-VER: 3.6\nNEEDRESTART-KCUR: 6.1.0-28-amd64\nNEEDRESTART-KSTA: 1\n"
    no_kernels = field("dpkg-query: no path found matching pattern /boot/vmlinuz-*", 1)
    facts = parse(raw(needrestart=field(current), kernels=no_kernels), HOST)
    assert facts.reboot is not None and not facts.reboot.required
    assert facts.reboot.source == "needrestart"
    pending = (
        "NEEDRESTART-KCUR: 6.1.0-27-amd64\nNEEDRESTART-KSTA: 3\nNEEDRESTART-KEXP: 6.1.0-28-amd64\n"
    )
    facts = parse(raw(needrestart=field(pending), kernels=no_kernels), HOST)
    assert facts.reboot is not None and facts.reboot.required
    assert facts.reboot.reasons == ("kernel 6.1.0-27-amd64 running, 6.1.0-28-amd64 installed",)


def test_needrestart_and_the_kernel_comparison_both_count():
    # needrestart reads the images' version strings, the comparison the packages: either one
    # finding a newer kernel is enough
    current = "NEEDRESTART-VER: 3.6\nNEEDRESTART-KCUR: 6.1.0-27-amd64\nNEEDRESTART-KSTA: 1\n"
    facts = parse(raw(needrestart=field(current)), HOST)
    assert facts.reboot is not None and facts.reboot.required
    assert facts.reboot.source == "needrestart, kernel comparison"


# -- upgrades a dist-upgrade leaves out (recorded on a Debian 12 lab host, apt 2.6.1: bl-sec on
# apt-mark hold, bl-phsec a security update phased at 0% with a machine-id) -----------------
SIMULATE_KEPT = """\
Reading package lists...
Building dependency tree...
Calculating upgrade...
The following packages have been kept back:
  bl-phsec bl-sec
The following packages will be upgraded:
  bl-demo
1 upgraded, 0 newly installed, 0 to remove and 2 not upgraded.
Inst bl-demo [1.0] (1.1 Debian:baluarte-updates [all])
Conf bl-demo (1.1 Debian:baluarte-updates [all])"""
HELD = """\
Reading package lists...
Building dependency tree...
The following held packages will be changed:
  bl-sec
The following packages will be upgraded:
  bl-phsec bl-sec
2 upgraded, 0 newly installed, 0 to remove and 1 not upgraded.
Inst bl-phsec [1.0] (1.1 Debian-Security:baluarte-security [all])
Inst bl-sec [1.0] (1.0+deb12u1 Debian-Security:baluarte-security [all])
Conf bl-phsec (1.1 Debian-Security:baluarte-security [all])
Conf bl-sec (1.0+deb12u1 Debian-Security:baluarte-security [all])"""


def test_held_and_phased_upgrades_are_pending_with_their_origins():
    # the simulation alone has no Inst line for them: 0 security updates, the old reading
    facts = parse(raw(simulate=field(SIMULATE_KEPT), held=field(HELD)), HOST)
    assert facts.pending is not None and facts.unclassified == () and facts.problems == ()
    by_name = {u.name: u for u in facts.pending}
    assert list(by_name) == ["bl-demo", "bl-phsec", "bl-sec"]
    assert (by_name["bl-sec"].kept, by_name["bl-sec"].security) == ("held", True)
    assert by_name["bl-sec"].candidate == "1.0+deb12u1"
    assert by_name["bl-sec"].origins == ("Debian-Security:baluarte-security",)
    assert (by_name["bl-phsec"].kept, by_name["bl-phsec"].security) == ("kept back", True)
    assert by_name["bl-demo"].kept == "" and not by_name["bl-demo"].security


def test_ubuntu_phasing_has_its_own_header():
    simulate = (
        "The following upgrades have been deferred due to phasing:\n  fwupd\n"
        "0 upgraded, 0 newly installed, 0 to remove and 1 not upgraded.\n"
    )
    held = "Inst fwupd [1.9.16-1] (1.9.24-1~22.04.1 Ubuntu:22.04/jammy-updates [amd64])\n"
    kept, unknown, why = parse_left_out(simulate, (held, 0))
    assert [(u.name, u.kept, u.security) for u in kept] == [("fwupd", "deferred by phasing", False)]
    assert unknown == () and why == ""


@pytest.mark.parametrize(
    ("held", "why"),
    [
        (None, "the simulation of the upgrades left out was not run"),
        (("E: Unable to correct problems, you have held broken packages.", 100),
         "simulating the upgrades left out failed (exit 100): E: Unable to correct problems"),
        (("Inst bl-sec [1.0] (1.0+deb12u1 Debian-Security:baluarte-security [all])", 0),
         "apt would not say what it would install for bl-phsec (kept back)"),
    ],
)  # fmt: skip
def test_left_out_upgrades_of_unknown_origin_are_never_dropped(held, why):
    fields = {"simulate": field(SIMULATE_KEPT)}
    if held is not None:
        fields["held"] = field(*held)
    facts = parse(raw(**fields), HOST)
    assert "bl-phsec (kept back)" in facts.unclassified
    assert any(why in p for p in facts.problems), facts.problems


def test_upgrades_left_out_but_not_named_are_counted_as_unknown():
    # a header this parser does not know: the summary still says 2 were left out
    simulate = (
        "The following packages have been frobbed:\n  bl-phsec bl-sec\n"
        "0 upgraded, 0 newly installed, 0 to remove and 2 not upgraded.\n"
    )
    facts = parse(raw(simulate=field(simulate)), HOST)
    assert facts.unclassified == ("an upgrade apt did not name",) * 2
    assert "left 2 upgrades out but named 0" in facts.problems[0]
    no_summary = parse(raw(simulate=field("Inst x [1] (2 Debian:12/stable [all])\n")), HOST)
    assert no_summary.unclassified and 'no "N not upgraded" summary' in no_summary.problems[0]
