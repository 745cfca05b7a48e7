"""parse() of the patching fragment's raw output, from outputs recorded on Debian 12."""

from datetime import UTC, datetime, timedelta, timezone

from checks.linux.patching import parse, parse_history, parse_simulate

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
        "dpkg_log": field("2026-11-19 10:00:00 upgrade libc6:amd64 2.36-9 2.36-9+deb12u1"),
        "stamps": field(""),
        "lists": field("1795800000"),
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
    newer = parse(raw(dpkg_log=field("2026-11-28 09:00:00 upgrade x:amd64 1 2")), HOST)
    assert newer.last_update_source == "dpkg log"


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
    assert facts.kernel_newest == "6.1.0-28-amd64"
    assert facts.reboot is not None and facts.reboot.required


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


def test_needrestart_saying_current_kernel_is_trusted():
    current = "NEEDRESTART-VER: 3.6\nNEEDRESTART-KCUR: 6.1.0-28-amd64\nNEEDRESTART-KSTA: 1\n"
    facts = parse(raw(needrestart=field(current)), HOST)
    assert facts.reboot is not None and not facts.reboot.required
    pending = (
        "NEEDRESTART-KCUR: 6.1.0-27-amd64\nNEEDRESTART-KSTA: 3\nNEEDRESTART-KEXP: 6.1.0-28-amd64\n"
    )
    facts = parse(raw(needrestart=field(pending)), HOST)
    assert facts.reboot is not None and facts.reboot.required
    assert facts.reboot.reasons == ("kernel 6.1.0-27-amd64 running, 6.1.0-28-amd64 installed",)
