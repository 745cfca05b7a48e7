"""The patching evaluators: facts + parameters -> verdict, no I/O."""

from datetime import UTC, datetime, timedelta

import pytest

from baluarte.controls import EvalContext
from baluarte.findings import Status
from checks.evaluators import patching as ev
from checks.facts.patching import (
    AutoUpdates,
    KernelPackage,
    OsRelease,
    PackageLists,
    PackageSource,
    PatchFacts,
    PendingUpdate,
    RebootState,
)
from checks.policy.base import Required
from checks.policy.patching import GraceDays, MaxCount, MaxDays, MinimumVersions, SecurityUpdates

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CTX = EvalContext(now=NOW)
SEC = PendingUpdate(
    name="lc-sec",
    installed="1.0",
    candidate="1.0+deb12u1",
    origins=("Debian-Security:lc-security",),
    security=True,
)
NORMAL = PendingUpdate(
    name="lc-demo", installed="1.0", candidate="1.1", origins=("Debian:lc-updates",)
)


K27 = KernelPackage(
    package="linux-image-6.1.0-27-amd64", version="6.1.115-1", release="6.1.0-27-amd64",
    family="amd64",
)  # fmt: skip
K28 = KernelPackage(
    package="linux-image-6.1.0-28-amd64", version="6.1.119-1", release="6.1.0-28-amd64",
    family="amd64",
)  # fmt: skip
SECURITY_SOURCE = PackageSource(
    name="http://security.debian.org/debian-security bookworm-security",
    fetched=True,
    published_at=NOW - timedelta(hours=5),
    label="Debian-Security",
    suite="oldstable-security",
    security=True,
    continuous=True,
)
FRESH = PackageLists(sources=(SECURITY_SOURCE,))


def facts(**kw) -> PatchFacts:
    base = dict(
        package_manager="apt",
        pending=(),
        last_update=NOW - timedelta(days=2),
        last_update_source="apt history",
        automatic_updates=AutoUpdates(
            tool="unattended-upgrades", installed=True, enabled=True, security_origin=True
        ),
        reboot=RebootState(required=False, source="needrestart"),
        kernel_running="6.1.0-28-amd64",
        kernel_running_version="6.1.119-1",
        kernel_running_version_source="uname -v",
        kernel_family="amd64",
        kernel_provider=K28,
        kernels=(K27, K28),
        kernel_newest="6.1.0-28-amd64",
        kernel_newest_version="6.1.119-1",
        packages={"openssl": "3.0.15-1~deb12u1"},
        package_sources=FRESH,
        os_release=OsRelease(id="debian", version_id="12", codename="bookworm"),
    )
    base.update(kw)
    return PatchFacts(**base)


def test_security_updates_pending_counts_only_security():
    out = ev.security_updates_pending(facts(pending=(SEC, NORMAL)), SecurityUpdates(max=0), CTX)
    assert out.status is Status.FAIL
    assert out.observed.startswith("1 pending security updates: lc-sec (1.0 → 1.0+deb12u1)")
    assert "Debian-Security:lc-security" in out.evidence


def test_security_updates_within_max_passes():
    out = ev.security_updates_pending(facts(pending=(SEC, NORMAL)), SecurityUpdates(max=1), CTX)
    assert out.status is Status.PASS


def test_security_origins_from_policy_override_classification():
    params = SecurityUpdates(max=0, origins=["Debian:lc-updates"])
    out = ev.security_updates_pending(facts(pending=(SEC, NORMAL)), params, CTX)
    assert out.status is Status.FAIL and "lc-demo" in out.observed and "lc-sec" not in out.observed


def test_unknown_pending_set_is_error_with_reason():
    f = facts(pending=None, problems=("apt-get -s dist-upgrade failed (exit 100): E: lock",))
    for fn, params in (
        (ev.security_updates_pending, SecurityUpdates()),
        (ev.updates_pending, MaxCount()),
    ):
        out = fn(f, params, CTX)
        assert out.status is Status.ERROR and "exit 100" in out.reason


def test_updates_pending_counts_all():
    assert (
        ev.updates_pending(facts(pending=(SEC, NORMAL)), MaxCount(max=1), CTX).status is Status.FAIL
    )
    assert (
        ev.updates_pending(facts(pending=(SEC, NORMAL)), MaxCount(max=2), CTX).status is Status.PASS
    )


@pytest.mark.parametrize(("days", "status"), [(13.9, Status.PASS), (14.1, Status.FAIL)])
def test_days_since_last_update(days, status):
    f = facts(last_update=NOW - timedelta(days=days))
    assert ev.days_since_last_update(f, MaxDays(max=14), CTX).status is status


def test_no_update_on_record_fails_and_unreadable_history_errors():
    assert ev.days_since_last_update(facts(last_update=None), MaxDays(), CTX).status is Status.FAIL
    out = ev.days_since_last_update(facts(last_update=None, history_read=False), MaxDays(), CTX)
    assert out.status is Status.ERROR


def test_an_unreadable_history_errors_unless_what_was_read_is_recent_enough():
    # the unread log could only hold a newer update: an old one read elsewhere proves nothing
    old = facts(last_update=NOW - timedelta(days=30), last_update_source="unattended-upgrades "
                "stamp", history_read=False, problems=("the apt history could not be read: "
                "/var/log/apt/history.log",))  # fmt: skip
    out = ev.days_since_last_update(old, MaxDays(max=14), CTX)
    assert out.status is Status.ERROR and "/var/log/apt/history.log" in out.reason
    recent = old.model_copy(update={"last_update": NOW - timedelta(days=1)})
    out = ev.days_since_last_update(recent, MaxDays(max=14), CTX)
    assert out.status is Status.PASS and "the update history could not be read" in out.observed


@pytest.mark.parametrize(("ahead", "status"), [(1.5, Status.PASS), (2.5, Status.ERROR)])
def test_an_update_dated_in_the_future_is_an_error_not_a_negative_age(ahead, status):
    # apt's history written while the clock was ahead: its age is negative, which passed
    f = facts(last_update=NOW + timedelta(hours=ahead), last_update_source="apt history")
    out = ev.days_since_last_update(f, MaxDays(max=14), CTX)
    assert out.status is status
    if status is Status.ERROR:
        assert out.reason.startswith("the last update (apt history) is dated 2026-11-28 14:30")
        assert "ahead of this run's clock: the clock that stamped it was wrong" in out.reason


def test_a_reboot_pending_since_a_future_date_is_an_error():
    later = RebootState(required=True, since=NOW + timedelta(days=30), reasons=("package libc6",),
                        source="reboot-required file")  # fmt: skip
    out = ev.reboot_required(facts(reboot=later), GraceDays(grace_days=7), CTX)
    assert out.status is Status.ERROR and "720.0 hours ahead of this run's clock" in out.reason


HELD_SEC = SEC.model_copy(update={"name": "lc-held", "kept": "held"})


def test_held_security_updates_count_and_say_so():
    out = ev.security_updates_pending(facts(pending=(HELD_SEC, NORMAL)), SecurityUpdates(), CTX)
    assert out.status is Status.FAIL
    assert out.observed == "1 pending security updates: lc-held (1.0 → 1.0+deb12u1, held)"
    assert out.evidence.endswith("[Debian-Security:lc-security] held")


def test_left_out_upgrades_of_unknown_origin_make_the_security_count_unknown():
    f = facts(pending=(NORMAL,), unclassified=("bl-x (kept back)",),
              problems=("pending upgrades of unknown origin: simulating failed (exit 100)",))  # fmt: skip
    out = ev.security_updates_pending(f, SecurityUpdates(max=5), CTX)
    assert out.status is Status.ERROR and "unknown origin" in out.reason
    custom = ev.security_updates_pending(f, SecurityUpdates(max=5, origins=["Debian:x"]), CTX)
    assert custom.status is Status.ERROR
    # they are pending all the same: counted by updates_pending
    out = ev.updates_pending(f, MaxCount(max=1), CTX)
    assert out.status is Status.FAIL
    assert out.observed == "2 pending updates: lc-demo (1.0 → 1.1), bl-x (kept back)"
    assert ev.updates_pending(f, MaxCount(max=2), CTX).status is Status.PASS


def test_controls_not_required_are_not_applicable_never_a_pass_on_nothing():
    ctx = EvalContext(now=NOW, policy="linux-baseline")
    off = Required(required=False)
    auto = ev.automatic_updates(facts(automatic_updates=None), off, ctx)
    assert auto.status is Status.NOT_APPLICABLE
    assert auto.reason == (
        "automatic security updates not required by policy linux-baseline (required: false)"
    )
    kernel = ev.kernel_current(facts(kernels=None), off, ctx)
    assert kernel.status is Status.NOT_APPLICABLE and "policy linux-baseline" in kernel.reason


def test_automatic_updates_must_target_security():
    auto = AutoUpdates(
        tool="unattended-upgrades", installed=True, enabled=True, security_origin=False
    )
    assert (
        ev.automatic_updates(facts(automatic_updates=auto), Required(), CTX).status is Status.FAIL
    )
    assert ev.automatic_updates(facts(), Required(), CTX).status is Status.PASS
    assert (
        ev.automatic_updates(facts(automatic_updates=None), Required(), CTX).status is Status.ERROR
    )


def test_automatic_updates_need_a_security_source_to_install_from():
    security = PackageSource(
        name="http://deb.debian.org/debian-security bookworm-security", fetched=True, security=True
    )
    main = PackageSource(name="http://deb.debian.org/debian bookworm", fetched=True)
    with_security = facts(package_sources=PackageLists(sources=(main, security)))
    out = ev.automatic_updates(with_security, Required(), CTX)
    assert (
        out.status is Status.PASS
        and "security source http://deb.debian.org/debian-security" in out.observed
    )
    # unattended-upgrades aimed at the security origin, but nothing serves it: nothing installs
    none = ev.automatic_updates(
        facts(package_sources=PackageLists(sources=(main,))), Required(), CTX
    )
    assert none.status is Status.FAIL and "no security source is configured" in none.observed
    unread = facts(package_sources=PackageLists(problem="apt-get indextargets failed (exit 100)"))
    out = ev.automatic_updates(unread, Required(), CTX)
    assert out.status is Status.ERROR and "exit 100" in out.reason


def test_reboot_within_grace_passes_and_after_fails():
    recent = RebootState(required=True, since=NOW - timedelta(days=3), reasons=("package libc6",))
    old = RebootState(required=True, since=NOW - timedelta(days=9), reasons=("package libc6",))
    unknown = RebootState(required=True, reasons=("kernel",))
    assert (
        ev.reboot_required(facts(reboot=recent), GraceDays(grace_days=7), CTX).status is Status.PASS
    )
    out = ev.reboot_required(facts(reboot=old), GraceDays(grace_days=7), CTX)
    assert out.status is Status.FAIL and "9.0 days" in out.observed
    assert ev.reboot_required(facts(reboot=unknown), GraceDays(), CTX).status is Status.FAIL


def test_kernel_current_passes_on_the_newest_of_its_family():
    out = ev.kernel_current(facts(), Required(), CTX)
    assert out.status is Status.PASS
    assert out.observed == "running 6.1.0-28-amd64 (6.1.119-1, from uname -v)"


def test_kernel_behind_the_newest_installed_fails_by_version():
    behind = facts(
        kernel_running="6.1.0-27-amd64", kernel_running_version="6.1.115-1", kernel_provider=K27
    )
    out = ev.kernel_current(behind, Required(), CTX)
    assert out.status is Status.FAIL
    assert out.observed == (
        "running 6.1.0-27-amd64 (6.1.115-1, from uname -v); 6.1.0-28-amd64 6.1.119-1 is installed"
    )
    # same ABI name, package upgraded in place since boot: only the versions differ
    in_place = facts(kernel_running_version="6.1.119-0")
    assert ev.kernel_current(in_place, Required(), CTX).status is Status.FAIL


def test_a_running_kernel_newer_than_every_installed_one_is_not_current():
    removed = facts(
        kernel_running="6.1.0-29-amd64", kernel_running_version="6.1.123-1", kernel_provider=None
    )
    out = ev.kernel_current(removed, Required(), CTX)
    assert out.status is Status.FAIL
    assert "shipped by no installed package, newer than any installed kernel" in out.observed
    assert "the next boot starts 6.1.0-28-amd64 6.1.119-1" in out.observed


def test_a_kernel_nothing_ships_and_nothing_dates_is_an_error_never_a_pass():
    custom = facts(
        kernel_running="6.18.44-fc-v1300", kernel_running_version=None, kernel_provider=None,
        kernel_family="fc-v1300", kernel_newest=None, kernel_newest_version=None,
    )  # fmt: skip
    out = ev.kernel_current(custom, Required(), CTX)
    assert out.status is Status.ERROR
    assert "6.18.44-fc-v1300 is shipped by no installed package" in out.reason
    bare = facts(
        kernel_running="6.18.44-fc-v1300", kernel_running_version=None, kernel_provider=None,
        kernels=(), kernel_newest=None, kernel_newest_version=None,
    )  # fmt: skip
    out = ev.kernel_current(bare, Required(), CTX)
    assert out.status is Status.ERROR and "installed kernels: none" in out.reason
    same_family = facts(kernel_running="6.1.0-26-amd64", kernel_running_version=None,
                        kernel_provider=None)  # fmt: skip
    out = ev.kernel_current(same_family, Required(), CTX)
    assert out.status is Status.ERROR and "cannot be compared" in out.reason
    assert ev.kernel_current(facts(kernel_running=None), Required(), CTX).status is Status.ERROR
    assert ev.kernel_current(facts(kernels=None), Required(), CTX).status is Status.ERROR


def test_kernel_current_does_not_apply_only_in_a_proven_container():
    docker = facts(container="/.dockerenv present", kernels=(), kernel_provider=None)
    out = ev.kernel_current(docker, Required(), CTX)
    assert out.status is Status.NOT_APPLICABLE and "/.dockerenv" in out.reason


def test_no_reboot_signal_is_an_error_or_not_applicable_in_a_container():
    silent = RebootState(required=False, unknown="needrestart not installed; …")
    out = ev.reboot_required(facts(reboot=silent), GraceDays(), CTX)
    assert out.status is Status.ERROR
    assert out.reason == "no reboot signal: needrestart not installed; …"
    boxed = facts(reboot=silent, container="PID 1 environment: container=lxc")
    out = ev.reboot_required(boxed, GraceDays(), CTX)
    assert out.status is Status.NOT_APPLICABLE and "container=lxc" in out.reason
    # a reboot-required file in a container still counts
    flagged = RebootState(required=True, since=NOW - timedelta(days=9), reasons=("package libc6",),
                          source="reboot-required file")  # fmt: skip
    boxed = facts(reboot=flagged, container="/.dockerenv present")
    assert ev.reboot_required(boxed, GraceDays(grace_days=7), CTX).status is Status.FAIL


def test_minimum_versions_use_debian_ordering():
    f = facts(packages={"openssl": "3.0.15-1~deb12u1", "lc-demo": "1.10"})
    ok = MinimumVersions(packages={"lc-demo": "1.9", "openssl": "3.0.15-1~deb12u1"})
    assert ev.minimum_versions(f, ok, CTX).status is Status.PASS  # "1.10" > "1.9" (not as strings)
    tilde = MinimumVersions(packages={"openssl": "3.0.15-1"})  # ~ sorts before the release
    out = ev.minimum_versions(f, tilde, CTX)
    assert out.status is Status.FAIL and "openssl 3.0.15-1~deb12u1 < 3.0.15-1" in out.observed
    missing = ev.minimum_versions(f, MinimumVersions(packages={"absent": "1"}), CTX)
    assert missing.status is Status.FAIL and "absent not installed" in missing.observed


# -- FortiGate: the firmware stands for the packages ------------------------------------------


def fortigate(version="v7.4.5", build=2702, **kw) -> PatchFacts:
    from checks.facts.patching import Firmware

    match = version.lstrip("v") if version.lstrip("v")[:1].isdigit() else None
    firmware = Firmware(product="FortiOS", reported=version, version=match, build=build,
                        source="the REST API response envelope")  # fmt: skip
    base = dict(
        package_manager=None, pending=None, last_update=None, history_read=False,
        automatic_updates=AutoUpdates(tool="fortiguard", installed=True, enabled=True,
                                      security_origin=True, detail="status enable"),
        reboot=None, kernel_running=None, kernel_newest=None, packages=None, firmware=firmware,
    )  # fmt: skip
    return PatchFacts(**(base | kw))


@pytest.mark.parametrize(
    ("minimum", "version", "build", "status"),
    [
        ("7.4.5", "v7.4.5", 2702, Status.PASS),
        ("v7.4.5", "v7.4.10", 2800, Status.PASS),  # 10 > 5: numbers, not text
        ("7.4.5", "v7.2.8", 1639, Status.FAIL),
        ("7.4.5 build 2702", "v7.4.5", 2701, Status.FAIL),
        ("v7.4.5,build2702", "v7.4.5", 2702, Status.PASS),
        ("7.4.5", "v7.4.5", None, Status.PASS),  # no build asked for, none needed
        ("7.4.5 build 2702", "v7.4.5", None, Status.ERROR),
    ],
)
def test_firmware_minimum_compares_version_then_build_when_asked(minimum, version, build, status):
    out = ev.minimum_versions(fortigate(version, build), MinimumVersions(firmware=minimum), CTX)
    assert out.status is status, out
    if status is Status.FAIL:
        assert out.observed.startswith(f"FortiOS {version}") and minimum in out.observed


def test_firmware_minimum_not_set_is_not_applicable_even_with_package_minimums():
    params = MinimumVersions(packages={"openssl": "3.0"})
    out = ev.minimum_versions(fortigate(), params, CTX)
    assert out.status is Status.NOT_APPLICABLE and "minimum_versions.firmware" in out.reason


def test_unreadable_firmware_version_is_an_error_never_a_pass():
    out = ev.minimum_versions(fortigate("7.4-beta"), MinimumVersions(firmware="7.4.5"), CTX)
    assert out.status is Status.ERROR and "'7.4-beta'" in out.reason


def test_firmware_minimum_must_be_a_version_in_the_policy():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="is not a FortiOS version"):
        MinimumVersions(firmware="latest")


def test_fortiguard_schedule_is_judged_with_its_own_words():
    off = fortigate(automatic_updates=AutoUpdates(
        tool="fortiguard", installed=True, enabled=False, security_origin=True,
        detail="FortiGuard scheduled updates (system.autoupdate/schedule): status disable"))  # fmt: skip
    out = ev.automatic_updates(off, Required(), CTX)
    assert out.status is Status.FAIL
    assert out.expected == "FortiGuard automatic updates (antivirus and IPS definitions) enabled"
    assert ev.automatic_updates(fortigate(), Required(), CTX).status is Status.PASS
