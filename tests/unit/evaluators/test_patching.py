"""The patching evaluators: facts + parameters -> verdict, no I/O."""

from datetime import UTC, datetime, timedelta

import pytest

from baluarte.controls import EvalContext
from baluarte.findings import Status
from checks.evaluators import patching as ev
from checks.facts.patching import AutoUpdates, PatchFacts, PendingUpdate, RebootState
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
        kernel_newest="6.1.0-28-amd64",
        packages={"openssl": "3.0.15-1~deb12u1"},
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


def test_kernel_current():
    assert ev.kernel_current(facts(), Required(), CTX).status is Status.PASS
    behind = facts(kernel_running="6.1.0-27-amd64")
    assert ev.kernel_current(behind, Required(), CTX).status is Status.FAIL
    container = facts(kernel_newest=None)
    assert ev.kernel_current(container, Required(), CTX).status is Status.NOT_APPLICABLE
    assert ev.kernel_current(facts(kernel_running=None), Required(), CTX).status is Status.ERROR


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
