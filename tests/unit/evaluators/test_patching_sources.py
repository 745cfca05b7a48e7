"""patching.package_sources, and the pending-update controls on stale package lists (pure)."""

from datetime import UTC, datetime, timedelta

import pytest

from baluarte.controls import EvalContext
from baluarte.findings import Status
from checks.evaluators import patching as ev
from checks.facts.patching import OsRelease, PackageLists, PackageSource, PatchFacts
from checks.policy.patching import MaxCount, PackageSources, SecurityUpdates
from checks.releases import find_release

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
CTX = EvalContext(now=NOW)
BOOKWORM = OsRelease(id="debian", version_id="12", codename="bookworm",
                     pretty_name="Debian GNU/Linux 12 (bookworm)")  # fmt: skip


def source(suite: str, days: float | None = 0.2, **kw) -> PackageSource:
    security = suite.endswith("-security")
    base = dict(
        name=f"http://deb.debian.org/debian {suite}",
        entry="/etc/apt/sources.list:1",
        site="deb.debian.org",
        fetched=days is not None,
        published_at=NOW - timedelta(days=days) if days is not None else None,
        suite=suite,
        label="Debian-Security" if security else "Debian",
        security=security,
        continuous=security or "valid_until" in kw,
    )
    return PackageSource(**(base | kw))


def lists(*sources: PackageSource) -> PackageLists:
    return PackageLists(sources=sources)


# a refreshed Debian 12: the release pocket keeps its point-release date, the others move
REFRESHED = lists(source("bookworm", 60), source("bookworm-updates"), source("bookworm-security"))


def facts(sources: PackageLists | None = REFRESHED, release=BOOKWORM, **kw) -> PatchFacts:
    base = dict(
        package_manager="apt", pending=(), last_update=None, automatic_updates=None,
        reboot=None, kernel_running=None, kernel_newest=None, packages={},
        package_sources=sources, os_release=release,
    )  # fmt: skip
    return PatchFacts(**(base | kw))


def judge(f: PatchFacts, **params) -> object:
    return ev.package_sources(f, PackageSources(**params), CTX)


def test_refreshed_lists_with_security_on_a_supported_release_pass():
    out = judge(facts())
    assert out.status is Status.PASS, out
    # bookworm's regular support ended on 2026-07-11; Debian LTS counts by default
    assert "Debian 12 (bookworm): Debian LTS until 2028-06-30" in out.observed
    assert "bookworm [Debian/bookworm] published" in out.evidence
    assert "release table: distro-info-data" in out.evidence


def test_a_release_pocket_old_date_alone_is_not_staleness():
    out = judge(facts(), max_age_days=7)
    assert out.status is Status.PASS  # bookworm itself was published 60 days ago


def test_lists_not_refreshed_for_months_fail_with_the_age():
    stale = lists(source("bookworm", 150), source("bookworm-updates", 93),
                  source("bookworm-security", 93))  # fmt: skip
    out = judge(facts(stale))
    assert out.status is Status.FAIL
    assert "bookworm-security: published 2026-09-04 12:00 UTC (93.0 days ago)" in out.observed


def test_only_security_pockets_and_valid_until_date_the_refresh():
    # Debian's -updates has no Valid-Until: a quiet week there is not a stale host
    quiet = lists(source("bookworm-updates", 12), source("bookworm-security"))
    assert judge(facts(quiet)).status is Status.PASS
    # a third-party archive with Valid-Until promises to republish: its date counts
    vendor = source("stable", 12, valid_until=NOW + timedelta(days=3))
    out = judge(facts(lists(vendor, source("bookworm-security"))))
    assert out.status is Status.FAIL and "stable: published" in out.observed


def test_configured_but_never_fetched_and_expired_sources_fail():
    never = lists(source("bookworm-updates"), source("bookworm-security", None))
    out = judge(facts(never))
    assert out.status is Status.FAIL
    assert "bookworm-security (/etc/apt/sources.list:1) has never been fetched" in out.observed
    expired = lists(source("bookworm-security", 2, valid_until=NOW - timedelta(hours=1)))
    out = judge(facts(expired))
    assert out.status is Status.FAIL and "expired on 2026-12-06 (Valid-Until)" in out.observed


def test_no_security_source_fails_unless_the_policy_waives_it():
    plain = lists(source("bookworm", 60), source("bookworm-updates"))
    out = judge(facts(plain))
    assert out.status is Status.FAIL and "no security source is configured" in out.observed
    assert judge(facts(plain), security_source=False).status is Status.PASS


def test_only_release_pockets_cannot_date_the_refresh():
    frozen = lists(source("bookworm", 60, security=False))
    out = judge(facts(frozen), security_source=False)
    assert out.status is Status.ERROR
    assert "the last refresh cannot be dated (newest published 60.0 days ago" in out.reason
    recent = lists(source("bookworm", 1))  # published yesterday: the refresh was after it
    assert judge(facts(recent), security_source=False).status is Status.PASS


def test_nothing_configured_fails_and_unreadable_sources_are_errors():
    assert judge(facts(lists())).status is Status.FAIL
    out = judge(facts(PackageLists(problem="apt-get indextargets failed (exit 100): E: …")))
    assert out.status is Status.ERROR and "exit 100" in out.reason
    assert judge(facts(None)).status is Status.ERROR


@pytest.mark.parametrize(
    ("release", "extended", "status", "says"),
    [
        (BOOKWORM, "none", Status.FAIL, "Debian LTS until 2028-06-30, which the policy does not"),
        (OsRelease(id="debian", version_id="13", codename="trixie"), "none", Status.PASS,
         "Debian 13 (trixie): regular security support until 2028-08-09"),
        (OsRelease(id="debian", version_id="10", codename="buster"), "lts", Status.FAIL,
         "Debian ELTS (Freexian, paid) until 2029-06-30, which the policy does not count"),
        (OsRelease(id="debian", version_id="10", codename="buster"), "paid", Status.FAIL,
         "but no source on deb.freexian.com is configured"),
        (OsRelease(id="debian", version_id="8", codename="jessie"), "paid", Status.FAIL,
         "Debian 8 (jessie) reached its end of life on 2025-06-30"),
        (OsRelease(id="debian", codename="forky"), "lts", Status.FAIL,
         "Debian 14 (forky) is not a released stable version"),
        (OsRelease(id="ubuntu", version_id="20.04", codename="focal"), "lts", Status.FAIL,
         "Ubuntu Pro ESM until 2030-04-23, which the policy does not count"),
        (OsRelease(id="linuxmint", version_id="21.3", codename="virginia", id_like=("ubuntu",),
                   ubuntu_codename="jammy"), "none", Status.PASS, "(as Ubuntu jammy, its base)"),
        (OsRelease(id="debian", version_id="99", codename="zebra"), "lts", Status.ERROR,
         "unknown release"),
        (OsRelease(id="rocky", version_id="9.4", pretty_name="Rocky Linux 9.4"), "lts",
         Status.ERROR, "Rocky Linux 9.4 is not in the release table"),
        (None, "lts", Status.ERROR, "the release could not be read"),
    ],
)  # fmt: skip
def test_release_support_phases(release, extended, status, says):
    out = judge(facts(release=release), extended_support=extended)
    assert out.status is status, out
    assert says in (out.observed if status is not Status.ERROR else out.reason)


def test_paid_support_counts_with_its_source_configured():
    focal = OsRelease(id="ubuntu", version_id="20.04", codename="focal")
    esm = source("focal-infra-security", site="esm.ubuntu.com",
                 name="https://esm.ubuntu.com/infra/ubuntu focal-infra-security")  # fmt: skip
    out = judge(facts(lists(esm), release=focal), extended_support="paid")
    assert out.status is Status.PASS and "Ubuntu Pro ESM until 2030-04-23" in out.observed


def test_release_support_can_be_left_out():
    unknown = OsRelease(id="rocky", version_id="9.4")
    assert judge(facts(release=unknown), supported_release=False).status is Status.PASS


def test_the_table_gives_bookworms_dates():
    bookworm = find_release("debian", "12", "bookworm")
    assert bookworm is not None and bookworm.released is not None
    assert [(p.kind, str(p.until)) for p in bookworm.phases] == [
        ("regular", "2026-07-11"), ("lts", "2028-06-30"), ("paid", "2033-06-30"),
    ]  # fmt: skip


# -- the pending-update controls never count from stale or missing lists ----------------------


def test_pending_counts_from_lists_months_old_are_errors_with_the_age():
    stale = lists(source("bookworm-updates", 93), source("bookworm-security", 93))
    for fn, params in ((ev.security_updates_pending, SecurityUpdates()),
                       (ev.updates_pending, MaxCount())):  # fmt: skip
        out = fn(facts(stale), params, CTX)
        assert out.status is Status.ERROR
        assert out.reason.startswith(
            "computed from package lists older than the policy allows (limit 7 days)"
        )
        assert "(93.0 days ago)" in out.reason and out.reason.endswith("the pending set is unknown")
    fresh = ev.security_updates_pending(facts(), SecurityUpdates(), CTX)
    assert fresh.status is Status.PASS
    relaxed = ev.updates_pending(facts(stale), MaxCount(max_lists_age_days=100), CTX)
    assert relaxed.status is Status.PASS


def test_no_security_source_means_no_security_count():
    plain = lists(source("bookworm", 60), source("bookworm-updates"))
    out = ev.security_updates_pending(facts(plain), SecurityUpdates(), CTX)
    assert out.status is Status.ERROR
    assert "0 pending security updates would prove nothing" in out.reason
    # the count of all updates does not need one
    assert ev.updates_pending(facts(plain), MaxCount(), CTX).status is Status.PASS


def test_a_never_fetched_source_makes_the_pending_set_unknown():
    never = lists(source("bookworm-updates"), source("bookworm-security", None))
    out = ev.security_updates_pending(facts(never), SecurityUpdates(), CTX)
    assert out.status is Status.ERROR and "configured but never fetched" in out.reason
    assert ev.updates_pending(facts(never), MaxCount(), CTX).status is Status.ERROR


def test_no_lists_at_all_is_an_error_and_windows_is_not_judged_on_lists():
    out = ev.updates_pending(facts(lists()), MaxCount(), CTX)
    assert out.status is Status.ERROR and "no package source is configured" in out.reason
    # Windows Update searches online: no package lists on the device to date
    windows = facts(None, package_manager="windows-update")
    assert ev.updates_pending(windows, MaxCount(), CTX).status is Status.PASS
