"""The package sources behind the patching verdicts: freshness, a security source, a supported
release (pure judgements of PackageLists and OsRelease against the run's date).

``checks/evaluators/patching.py`` declares the controls and calls these; they are split out only
to keep each module small. A source's age is measured from its archive's publish time
(``Date:``), which bounds how old the device's view of it is. Only sources an archive
republishes continuously (a -security pocket, a Release with Valid-Until, dnf repositories with
advisories) date the last refresh: a release pocket (Debian stable between point releases,
Ubuntu's release pocket, most third-party repositories) keeps its old date however often it is
fetched, so it is judged only by its own Valid-Until.
"""

from __future__ import annotations

from datetime import datetime

from baluarte.findings import Outcome
from checks.facts.patching import OsRelease, PackageLists, PackageSource
from checks.policy.patching import PackageSources
from checks.releases import DATA_VERSION, Release, find_release

__all__ = ["judge_sources", "lists_problem"]

_NO_SECURITY = (
    "no security source is configured (apt: Debian-Security or a -security suite; dnf: a "
    "repository publishing security advisories)"
)

_COUNTED = {
    "none": ("regular",),
    "lts": ("regular", "lts"),
    "paid": ("regular", "lts", "paid"),
}


def _age(now: datetime, when: datetime) -> float:
    return (now - when).total_seconds() / 86400


def _dated(s: PackageSource, now: datetime) -> str:
    if s.published_at is None:
        return "publish date unknown"
    return (
        f"published {s.published_at:%Y-%m-%d %H:%M} UTC ({_age(now, s.published_at):.1f} days ago)"
    )


def _stale(s: PackageSource, now: datetime, max_days: int) -> str | None:
    """Why this fetched source's metadata is too old to trust; None when it is not."""
    if s.valid_until is not None and s.valid_until < now:
        return f"{s.name}: its metadata expired on {s.valid_until:%Y-%m-%d} (Valid-Until)"
    if not s.continuous:
        return None
    if s.published_at is None:
        return f"{s.name}: its metadata carries no publish date"
    if _age(now, s.published_at) > max_days:
        return f"{s.name}: {_dated(s, now)}"
    return None


def lists_problem(
    lists: PackageLists | None, now: datetime, max_days: int, security_only: bool
) -> str | None:
    """Why a pending count computed from ``lists`` cannot be trusted; None when it can.

    ``security_only``: only the security sources matter (the security count); otherwise every
    configured source does. None lists: updates are not computed from local lists (Windows).
    """
    if lists is None:
        return None
    if lists.problem:
        return f"the package sources could not be read: {lists.problem}"
    unknown = "the pending set is unknown"
    sources = [s for s in lists.sources if s.security or not security_only]
    if not lists.sources:
        return f"no package source is configured: {unknown}"
    if not sources:
        return f"{_NO_SECURITY}: 0 pending security updates would prove nothing"
    unfetched = [s.name for s in sources if not s.fetched]
    if unfetched:
        return f"configured but never fetched: {', '.join(unfetched)}: {unknown}"
    stale = [why for s in sources if (why := _stale(s, now, max_days))]
    if stale:
        return (
            f"computed from package lists older than the policy allows (limit {max_days} "
            f"days): {'; '.join(stale)}: {unknown}"
        )
    if not any(s.continuous for s in sources):
        newest = max((s.published_at for s in sources if s.published_at), default=None)
        if newest is None or _age(now, newest) > max_days:
            when = (
                "no publish date"
                if newest is None
                else f"newest published {_age(now, newest):.1f} days ago"
            )
            return (
                "no source is republished continuously (a -security pocket, or one "
                f"with Valid-Until), so the last refresh cannot be dated ({when}, limit "
                f"{max_days} days): {unknown}"
            )
    return None


def _distro(release: OsRelease) -> tuple[str, str, str, str]:
    """(distro, version, codename, how) to look up: derivatives by the base they name."""
    if release.id in ("debian", "ubuntu"):
        return release.id, release.version_id, release.codename, ""
    if "ubuntu" in release.id_like and (release.ubuntu_codename or release.codename):
        codename = release.ubuntu_codename or release.codename
        return "ubuntu", "", codename, f" (as Ubuntu {codename}, its base)"
    if "debian" in release.id_like and release.codename:
        return "debian", "", release.codename, f" (as Debian {release.codename}, its base)"
    return release.id, release.version_id, release.codename, ""


def _release(
    os_release: OsRelease | None, sources: tuple[PackageSource, ...], counted: str, now: datetime
) -> tuple[str | None, str | None, str | None]:
    """(what passes, what fails, what cannot be told) about the release's support."""
    if os_release is None:
        return None, None, "the release could not be read (/etc/os-release)"
    distro, version, codename, how = _distro(os_release)
    found: Release | None = find_release(distro, version, codename)
    shown = os_release.pretty_name or f"{os_release.id} {os_release.version_id}".strip()
    if found is None:
        return (
            None,
            None,
            (
                f"unknown release: {shown} is not in the release table ({DATA_VERSION}), so "
                "whether it still receives security fixes cannot be told"
            ),
        )
    day = now.date()
    if found.released is None or found.released > day or not found.phases:
        return (
            None,
            f"{found.name}{how} is not a released stable version: no security support",
            None,
        )
    phase = found.phase_on(day)
    if phase is None:
        last = found.phases[-1]
        return (
            None,
            f"{found.name}{how} reached its end of life on {last.until} ({last.name})",
            None,
        )
    seen = f"{found.name}{how}: {phase.name} until {phase.until}"
    if phase.kind not in _COUNTED[counted]:
        return None, f"{seen}, which the policy does not count (extended_support: {counted})", None
    if phase.sites and not any(s.site in phase.sites for s in sources):
        return None, f"{seen}, but no source on {', '.join(phase.sites)} is configured", None
    return seen, None, None


def _evidence(lists: PackageLists, now: datetime) -> str:
    lines = []
    for s in lists.sources:
        kind = ", ".join(
            k for k, on in (("security", s.security), ("continuous", s.continuous)) if on
        )
        what = _dated(s, now) if s.fetched else "never fetched"
        label = f"{s.label or s.origin}/{s.suite}" if s.fetched else s.suite
        lines.append(f"{s.name} [{label}{'; ' + kind if kind else ''}] {what} ({s.entry})")
    return "\n".join(lines)


def judge_sources(
    lists: PackageLists | None, os_release: OsRelease | None, params: PackageSources, now: datetime
) -> Outcome:
    """``patching.package_sources``: fresh lists, a security source, a supported release."""
    if lists is None:
        return Outcome.unreadable("the package sources were not collected from this device")
    if lists.problem:
        return Outcome.unreadable(f"the package sources could not be read: {lists.problem}")
    limit = params.max_age_days
    expected = [f"package lists published within {limit} days"]
    failures: list[str] = []
    errors: list[str] = []
    seen: list[str] = []
    fetched = [s for s in lists.sources if s.fetched]
    if not lists.sources:
        failures.append("no package source is configured")
    failures += [
        f"{s.name} ({s.entry}) has never been fetched" for s in lists.sources if not s.fetched
    ]
    failures += [why for s in fetched if (why := _stale(s, now, limit))]
    if fetched and not any(s.continuous for s in fetched):
        problem = lists_problem(lists, now, limit, security_only=False)
        if problem:
            errors.append(problem)
    newest = max((s.published_at for s in fetched if s.published_at), default=None)
    if newest is not None:
        seen.append(
            f"{len(lists.sources)} sources, newest published {_age(now, newest):.1f} days ago"
        )
    if params.security_source:
        expected.append("a security source configured and fetched")
        security = [s for s in lists.sources if s.security]
        if lists.sources and not security:
            failures.append(_NO_SECURITY)
        elif any(s.fetched for s in security):
            seen.append("security source " + ", ".join(s.name for s in security if s.fetched))
    evidence = _evidence(lists, now)
    if params.supported_release:
        expected.append(f"a supported release (extended_support: {params.extended_support})")
        ok, failed, unknown = _release(os_release, lists.sources, params.extended_support, now)
        seen += [ok] if ok else []
        failures += [failed] if failed else []
        errors += [unknown] if unknown else []
        evidence += f"\nrelease table: {DATA_VERSION}"
    if failures:
        return Outcome.failed("; ".join(expected), "; ".join(failures), evidence=evidence)
    if errors:
        return Outcome.error("; ".join(errors), "; ".join(expected), evidence)
    return Outcome.passed("; ".join(expected), "; ".join(seen), evidence)
