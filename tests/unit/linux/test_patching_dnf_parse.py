"""The RHEL-family (dnf) half of patching: parsers on recorded dnf 4.14 output, and verdicts."""

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from baluarte.controls import EvalContext
from baluarte.findings import Status
from checks.evaluators import patching as ev
from checks.linux.patching import parse
from checks.linux.patching_dnf import (
    CheckUpdateError,
    parse_automatic,
    parse_check_update,
    parse_dnf_history,
    parse_needs_restarting,
    parse_rpm_log,
    parse_updateinfo,
    split_nevra,
)
from checks.policy.base import Required
from checks.policy.patching import (
    GraceDays,
    MaxCount,
    MaxDays,
    MinimumVersions,
    SecurityUpdates,
)

SAMPLES = Path(__file__).parents[2] / "samples/linux/patching/dnf"
RECORDED = json.loads((SAMPLES / "rocky-like-pending.json").read_text())
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CTX = EvalContext(now=NOW)


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def field(out: str, rc: int = 0) -> dict:
    return {"out": out, "rc": rc}


def recorded(**overrides) -> dict:
    return {**RECORDED["patching"], **overrides}


def test_check_update_reads_widened_columns_and_exit_100():
    found = parse_check_update(sample("check-update.txt"), 100)
    assert found == [
        ("lc-a-very-long-package-name-that-forces-dnf-to-wrap-columns", "noarch", "2.0-1.el9_4",
         "lc-new"),
        ("lc-demo", "noarch", "1.1-1", "lc-new"),
        ("lc-sec", "noarch", "1.0-2", "lc-new"),
    ]  # fmt: skip


def test_check_update_stops_at_obsoletes_and_keeps_epochs():
    text = (
        "\nbind-utils.x86_64   32:9.16.23-18.el9_4.6   baseos\n"
        "Obsoleting Packages\n"
        "grub2-tools.x86_64   1:2.06-80.el9   baseos\n"
        "    grub2-tools.x86_64   1:2.06-77.el9   @baseos\n"
    )
    assert parse_check_update(text, 100) == [
        ("bind-utils", "x86_64", "32:9.16.23-18.el9_4.6", "baseos")
    ]


def test_check_update_with_nothing_pending_is_empty():
    assert parse_check_update("", 0) == []


@pytest.mark.parametrize(
    ("text", "rc", "why"),
    [
        ('Error: There are no enabled repositories in "/etc/yum.repos.d".', 1, "exit 1"),
        ("Error: Cache-only enabled but no cache for 'baseos'", 1, "no cache for 'baseos'"),
        ("something dnf never prints\n", 100, "listed none"),  # updates claimed, none readable
    ],
)
def test_check_update_failures_and_garbage_raise(text, rc, why):
    with pytest.raises(CheckUpdateError, match=why):
        parse_check_update(text, rc)


def test_updateinfo_rows_give_advisory_severity_and_package():
    (row,) = parse_updateinfo(sample("updateinfo-security.txt"))
    assert (row.id, row.severity, row.name, row.evr, row.arch) == (
        "LCSA-2026:0001", "Important", "lc-sec", "1.0-2", "noarch",
    )  # fmt: skip
    rows = parse_updateinfo(
        "RLSA-2024:3339 Important/Sec. glibc-2.34-100.el9_4.2.x86_64\n"
        "RLSA-2024:2551 Moderate/Sec.  bind-libs-32:9.16.23-15.el9.x86_64\n"
        "not an advisory line\n"
    )
    assert [(r.name, r.evr, r.severity) for r in rows] == [
        ("glibc", "2.34-100.el9_4.2", "Important"),
        ("bind-libs", "32:9.16.23-15.el9", "Moderate"),
    ]


def test_split_nevra():
    assert split_nevra("kernel-core-5.14.0-427.13.1.el9_4.x86_64") == (
        "kernel-core", "5.14.0-427.13.1.el9_4", "x86_64",
    )  # fmt: skip
    assert split_nevra("nonsense") is None


def test_needs_restarting_both_branches_and_a_missing_plugin():
    assert parse_needs_restarting(sample("needs-restarting-required.txt"), 1) == ("glibc",)
    assert parse_needs_restarting(sample("needs-restarting-not-required.txt"), 0) == ()
    # exit 1 is also what a missing plugin gives: that is "cannot tell", not "reboot"
    assert parse_needs_restarting("No such command: needs-restarting.", 1) is None
    assert parse_needs_restarting("", 0) is None


def test_rpm_log_newest_upgrade_with_its_offset():
    text = (
        "2026-11-20T08:26:35+0000 SUBDEBUG Upgrade: bl-demo-1.1-1.noarch\n"
        "2026-11-28T09:00:00+0100 SUBDEBUG Upgraded: bl-demo-1.0-1.noarch\n"
        "garbage line\n"
    )
    assert parse_rpm_log(text) == datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    assert parse_rpm_log("") is None


@pytest.mark.parametrize(
    ("text", "enabled", "security"),
    [
        # the plain timer only installs when apply_updates says so
        ("bin /usr/bin/dnf-automatic\ntimer dnf-automatic.timer\n[commands]\n"
         "upgrade_type = security\napply_updates = yes\n", True, True),
        ("bin /usr/bin/dnf-automatic\ntimer dnf-automatic.timer\n[commands]\n"
         "upgrade_type = security\napply_updates = no\n", False, True),
        # -install.timer installs whatever apply_updates says
        ("bin /usr/bin/dnf-automatic\ntimer dnf-automatic-install.timer\n[commands]\n"
         "apply_updates = no\n", True, True),
        # download-only and notify-only timers never install
        ("bin /usr/bin/dnf-automatic\ntimer dnf-automatic-download.timer\n[commands]\n"
         "apply_updates = yes\n", False, True),
        # the config is right but nothing runs it
        ("bin /usr/bin/dnf-automatic\n[commands]\napply_updates = yes\n", False, True),
        # apply_updates in another section does not count
        ("bin /usr/bin/dnf-automatic\ntimer dnf-automatic.timer\n[commands]\n[base]\n"
         "apply_updates = yes\n", False, True),
        # not installed: a leftover timer link and config are not automatic updates
        ("timer dnf-automatic-install.timer\n[commands]\napply_updates = yes\n", False, True),
        ("bin /usr/bin/dnf-automatic\ntimer dnf-automatic.timer\n[commands]\n"
         "upgrade_type = bogus\napply_updates = True\n", True, False),
    ],
)  # fmt: skip
def test_dnf_automatic(text, enabled, security):
    auto = parse_automatic(text, installed=False)
    assert auto.tool == "dnf-automatic"
    assert (auto.enabled, auto.security_origin) == (enabled, security)


def test_recorded_rocky_like_host_gives_rpm_facts():
    facts = parse(RECORDED["patching"], RECORDED["host"])
    assert facts.package_manager == "dnf"
    assert facts.version_scheme == "rpm"
    (sec,) = facts.pending
    assert (sec.name, sec.installed, sec.candidate, sec.security) == (
        "bl-sec", "1.0-1", "1.0-2", True,
    )  # fmt: skip
    assert sec.origins == ("baluarte", "BLSA-2026:0001 Important")
    assert facts.last_update == datetime(2026, 11, 28, 8, 26, 35, tzinfo=UTC)
    assert facts.last_update_source == "dnf rpm log"
    assert facts.packages["bl-min"] == "2.0~rc1-1"
    assert facts.reboot.required is False and facts.reboot.source == "needs-restarting"
    assert facts.automatic_updates.enabled is False  # dnf-automatic not installed there
    assert facts.kernel_newest is None and facts.kernel_running == "6.18.44-fc-v595"
    assert facts.kernels == () and facts.container is None
    (repo,) = facts.package_sources.sources
    assert (repo.name, repo.fetched, repo.security, repo.continuous) == (
        "baluarte", True, True, True,
    )  # fmt: skip
    assert repo.published_at == datetime.fromtimestamp(1795854388, UTC)
    assert facts.os_release.id == "rocky" and facts.os_release.version_id == "9.4"
    assert facts.problems == ()


def test_recorded_host_verdicts():
    facts = parse(RECORDED["patching"], RECORDED["host"])
    sec = ev.security_updates_pending(facts, SecurityUpdates(max=0), CTX)
    assert sec.status is Status.FAIL
    assert sec.observed == "1 pending security updates: bl-sec (1.0-1 → 1.0-2)"
    assert "BLSA-2026:0001 Important" in sec.evidence
    assert ev.updates_pending(facts, MaxCount(max=1), CTX).status is Status.PASS
    assert ev.automatic_updates(facts, Required(), CTX).status is Status.FAIL


def test_minimum_versions_follow_rpm_ordering():
    facts = parse(
        recorded(rpms=field("bl-min\t2.0^20261101git1-1\tnoarch\t1795854393\n"
                            "bl-epoch\t1:0.9-1\tnoarch\t1795854393\n"
                            "bl-rc\t2.0~rc1-1\tnoarch\t1795854393\n")),
        RECORDED["host"],
    )  # fmt: skip
    # a caret snapshot is after 2.0, an epoch outweighs the version: rules deb does not share
    ok = ev.minimum_versions(facts, MinimumVersions(packages={"bl-min": "2.0", "bl-epoch": "2.0"}),
                             CTX)  # fmt: skip
    assert ok.status is Status.PASS, ok.observed
    low = ev.minimum_versions(facts, MinimumVersions(packages={"bl-rc": "2.0"}), CTX)
    assert low.status is Status.FAIL
    assert low.observed == "bl-rc 2.0~rc1-1 < 2.0"


def test_several_installed_versions_keep_the_newest_and_kernels_compare_by_rpm_rules():
    rpms = (
        "kernel-core\t5.14.0-70.13.1.el9_0\tx86_64\t1700000000\n"
        "kernel-core\t5.14.0-427.13.1.el9_4\tx86_64\t1790000000\n"
        "kernel-core\t5.14.0-362.8.1.el9_3\tx86_64\t1780000000\n"
        "kernel\t5.14.0-427.13.1.el9_4\tx86_64\t1790000000\n"  # the metapackage: no image
        "gpg-pubkey\t350d275d-6279464b\t(none)\t1700000000\n"
    )
    # kernel-core ships /lib/modules/<release>/vmlinuz (and the %ghost /boot/vmlinuz-<release>)
    kernels = "".join(
        f"kernel-core\t{vr}\t{path}\n"
        for vr in ("5.14.0-70.13.1.el9_0", "5.14.0-427.13.1.el9_4", "5.14.0-362.8.1.el9_3")
        for path in (f"/lib/modules/{vr}.x86_64/vmlinuz", f"/boot/vmlinuz-{vr}.x86_64")
    )
    running = "5.14.0-362.8.1.el9_3.x86_64\n#1 SMP PREEMPT_DYNAMIC"
    facts = parse(
        recorded(rpms=field(rpms), running=field(running), kernels=field(kernels)),
        RECORDED["host"],
    )
    assert facts.packages["kernel-core"] == "5.14.0-427.13.1.el9_4"
    assert len(facts.kernels) == 3 and facts.kernel_family == "kernel-core"
    assert facts.kernel_newest == "5.14.0-427.13.1.el9_4.x86_64"
    assert facts.kernel_running_version == "5.14.0-362.8.1.el9_3"
    assert facts.kernel_provider.version == "5.14.0-362.8.1.el9_3"
    out = ev.kernel_current(facts, Required(), CTX)
    assert out.status is Status.FAIL
    assert out.observed == (
        "running 5.14.0-362.8.1.el9_3.x86_64 (5.14.0-362.8.1.el9_3, from uname -r); "
        "5.14.0-427.13.1.el9_4.x86_64 5.14.0-427.13.1.el9_4 is installed"
    )
    # needs-restarting said nothing is needed; the kernel comparison still says reboot, dated
    # from the newest kernel's install
    assert facts.reboot.required and facts.reboot.source == "needs-restarting, kernel comparison"
    assert facts.reboot.since == datetime.fromtimestamp(1790000000, UTC)


def test_reboot_since_is_the_install_time_of_the_package_named():
    facts = parse(
        recorded(
            needs_restarting=field(sample("needs-restarting-required.txt"), 1),
            rpms=field("glibc\t2.34-100.el9_4.2\tx86_64\t1795000000\n"),
        ),
        RECORDED["host"],
    )
    assert facts.reboot.required and facts.reboot.reasons == ("package glibc",)
    assert facts.reboot.since == datetime.fromtimestamp(1795000000, UTC)
    out = ev.reboot_required(facts, GraceDays(grace_days=7), CTX)
    assert out.status is Status.FAIL and "package glibc" in out.observed


def test_security_advisory_without_check_update_line_still_counts():
    facts = parse(
        recorded(check_update=field("", 0), updateinfo=field(sample("updateinfo-security.txt"))),
        RECORDED["host"],
    )
    (only,) = facts.pending
    assert only.name == "lc-sec" and only.security and only.candidate == "1.0-2"


@pytest.mark.parametrize(
    ("overrides", "controls"),
    [
        ({"check_update": field("Error: Cache-only enabled but no cache for 'baseos'", 1)},
         ("security_updates_pending", "updates_pending")),
        ({"check_update": field("\x00\x01 binary junk", 100)},
         ("security_updates_pending", "updates_pending")),
        ({"updateinfo": field("Error: Unknown argument", 2)},
         ("security_updates_pending", "updates_pending")),
        ({"rpms": field("error: rpmdb open failed", 1)}, ("minimum_versions",)),
        ({"needs_restarting": field("No such command: needs-restarting.", 1)},
         ("reboot_required",)),
        ({"rpm_log": field("cat: permission denied", 1)}, ("days_since_last_update",)),
        ({"automatic": None}, ("automatic_updates",)),
    ],
)  # fmt: skip
def test_unreadable_output_is_an_error_never_a_pass(overrides, controls):
    doc = recorded(**overrides)
    doc = {k: v for k, v in doc.items() if v is not None}
    facts = parse(doc, RECORDED["host"])
    params = {
        "security_updates_pending": SecurityUpdates(max=5),
        "updates_pending": MaxCount(max=5),
        "minimum_versions": MinimumVersions(packages={"bl-sec": "0.1"}),
        "reboot_required": GraceDays(grace_days=7),
        "days_since_last_update": MaxDays(max=999),
        "automatic_updates": Required(),
    }
    for name in controls:
        out = getattr(ev, name)(facts, params[name], CTX)
        assert out.status is Status.ERROR, (name, out)
        assert out.reason


def test_a_yum_host_is_read_the_same_way_and_no_manager_is_explained():
    facts = parse(recorded(manager=field("yum")), RECORDED["host"])
    assert facts.package_manager == "yum" and facts.version_scheme == "rpm"
    none = parse({"manager": field("")}, RECORDED["host"])
    assert none.package_manager is None
    assert "neither apt-get with dpkg-query, nor dnf or yum" in none.problems[0]


def test_dnf_history_newest_upgrade_in_local_time_skipping_failed_transactions():
    plus_one = timezone(timedelta(hours=1))
    assert parse_dnf_history(sample("dnf-history-list.txt"), UTC) == datetime(
        2026, 11, 28, 8, 35, tzinfo=UTC
    )
    text = (
        "    12 | update                   | 2026-11-27 10:00 | I, U           |   40 EE\n"
        "    11 | upgrade openssl          | 2026-11-20 09:15 | I, U           |    3   \n"
        "    10 | install vim              | 2026-11-26 09:15 | Install        |    3   \n"
    )
    assert parse_dnf_history(text, plus_one) == datetime(2026, 11, 20, 9, 15, tzinfo=plus_one)
    assert parse_dnf_history("No transactions", UTC) is None


def test_empty_rpm_log_falls_back_to_dnf_history_and_its_failure_is_an_error():
    facts = parse(
        recorded(rpm_log=field(""), dnf_history=field(sample("dnf-history-list.txt"))),
        RECORDED["host"],
    )
    assert facts.last_update_source == "dnf history"
    assert facts.last_update == datetime(2026, 11, 28, 8, 35, tzinfo=UTC)
    broken = parse(
        recorded(rpm_log=field(""), dnf_history=field("Error: history database locked", 1)),
        RECORDED["host"],
    )
    out = ev.days_since_last_update(broken, MaxDays(max=14), CTX)
    assert out.status is Status.ERROR and "dnf history list failed (exit 1)" in out.reason


def test_recorded_drifted_host_every_control_fails():
    doc = json.loads((SAMPLES / "rocky-like-drifted.json").read_text())
    facts = parse(doc["patching"], doc["host"])
    assert facts.problems == ()
    assert [(u.name, u.security) for u in facts.pending] == [("bl-demo", False), ("bl-sec", True)]
    assert facts.last_update is None and facts.history_read  # dnf history: installs only
    assert facts.reboot.reasons == ("package glibc",)
    assert facts.reboot.since == datetime.fromtimestamp(1795855078, UTC)
    assert facts.kernel_newest == "5.14.0-427.13.1.el9_4.x86_64"
    params = {
        "security_updates_pending": SecurityUpdates(max=0),
        "updates_pending": MaxCount(max=0),
        "days_since_last_update": MaxDays(max=14),
        "automatic_updates": Required(),
        "reboot_required": GraceDays(grace_days=0),
        "minimum_versions": MinimumVersions(packages={"bl-min": "2.0"}),
    }
    for name, p in params.items():
        assert getattr(ev, name)(facts, p, CTX).status is Status.FAIL, name
    # the running lab kernel is shipped by no package and has no rpm name: never "behind"
    kernel = ev.kernel_current(facts, Required(), CTX)
    assert kernel.status is Status.ERROR
    assert "6.18.44-fc-v595 is shipped by no installed package" in kernel.reason
    auto = ev.automatic_updates(facts, Required(), CTX)
    assert auto.observed == (
        "dnf-automatic installed; enabled timers: dnf-automatic.timer; "
        "upgrade_type=security; apply_updates=no"
    )


def test_repositories_fetched_or_not_and_only_those_with_advisories_are_security():
    repos = (
        "repo id        repo name\n"
        "baseos         Rocky Linux 9 - BaseOS\n"
        "stream-extra   CentOS Stream extras\n"
        "never          Never fetched\n"
    )
    cache = "/var/cache/dnf/{}-0123456789abcdef/repodata/repomd.xml"
    repomd = (
        f"{cache.format('baseos')}:  <revision>1795850000</revision>\n"
        f'{cache.format("baseos")}:  <data type="updateinfo">\n'
        f"{cache.format('baseos')}:    <timestamp>1795851000</timestamp>\n"
        f"{cache.format('stream-extra')}:  <revision>1790000000</revision>\n"
    )
    facts = parse(recorded(repos=field(repos), repomd=field(repomd)), RECORDED["host"])
    baseos, extra, never = facts.package_sources.sources
    assert baseos.security and baseos.continuous
    assert baseos.published_at == datetime.fromtimestamp(1795851000, UTC)
    assert extra.fetched and not extra.security and not extra.continuous
    assert not never.fetched and never.published_at is None
    # never fetched: dnf -C cannot see it, so the pending set is unknown
    out = ev.updates_pending(facts, MaxCount(max=9), CTX)
    assert out.status is Status.ERROR and "configured but never fetched: never" in out.reason


def test_yum_repolist_and_cache_layout_of_rhel_7():
    from checks.linux.patching_sources import dnf_sources

    repos = (
        "repo id                       repo name                            status\n"
        "base/7/x86_64                 CentOS-7 - Base                      10,072\n"
        "!updates/7/x86_64             CentOS-7 - Updates                    4,691\n"
        "repolist: 14,763\n"
    )
    repomd = "/var/cache/yum/x86_64/7/base/repomd.xml:  <revision>1604101701</revision>\n"
    base, updates = dnf_sources((repos, 0), (repomd, 0), True).sources
    assert (base.name, base.fetched, updates.name, updates.fetched) == (
        "base", True, "updates", False,
    )  # fmt: skip
    assert base.published_at == datetime.fromtimestamp(1604101701, UTC)


def test_stale_dnf_metadata_is_an_error_and_no_advisories_means_no_security_count():
    # the pending sample's repository metadata, judged two weeks after it was published
    facts = parse(RECORDED["patching"], RECORDED["host"])
    later = EvalContext(now=NOW + timedelta(days=14))
    out = ev.security_updates_pending(facts, SecurityUpdates(max=5), later)
    assert out.status is Status.ERROR and "baluarte: published 2026-11-28 " in out.reason
    # CentOS Stream publishes no advisories: "0 security updates" would prove nothing there
    plain = "/var/cache/dnf/baluarte-5e8989efb26930ee/repodata/repomd.xml:  <revision>1795854388</revision>"
    facts = parse(recorded(repomd=field(plain), check_update=field("", 0)), RECORDED["host"])
    out = ev.security_updates_pending(facts, SecurityUpdates(max=0), CTX)
    assert out.status is Status.ERROR and "no security source" in out.reason
    assert ev.updates_pending(facts, MaxCount(max=5), CTX).status is Status.PASS


def test_nothing_pending_needs_no_advisory_lookup_but_pending_updates_do():
    doc = {k: v for k, v in RECORDED["patching"].items() if k != "updateinfo"}
    clean = parse({**doc, "check_update": field("", 0)}, RECORDED["host"])
    assert clean.pending == ()
    assert ev.security_updates_pending(clean, SecurityUpdates(max=0), CTX).status is Status.PASS
    unknown = parse(doc, RECORDED["host"])  # exit 100 and no advisories: cannot classify
    out = ev.security_updates_pending(unknown, SecurityUpdates(max=0), CTX)
    assert out.status is Status.ERROR
    assert out.reason == "dnf updateinfo list --security was not collected"
