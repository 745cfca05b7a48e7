"""Patching: the controls of the ``patching`` domain, each beside its pure evaluate function.

Every function takes (PatchFacts, its policy parameters, EvalContext) and returns an Outcome.
A fact the control needs that could not be read is ``error`` with the reason, never ``pass``.
"""

from __future__ import annotations

import re

from baluarte.controls import Domain, EvalContext
from baluarte.findings import Outcome, Severity
from checks.evaluators.common import ahead_of_run, not_required
from checks.evaluators.patching_sources import judge_sources, lists_problem
from checks.facts.patching import Firmware, PatchFacts, PendingUpdate
from checks.policy.base import Required
from checks.policy.patching import (
    GraceDays,
    MaxCount,
    MaxDays,
    MinimumVersions,
    PackageSources,
    SecurityUpdates,
    firmware_parts,
)
from checks.versions import compare

DOMAIN = Domain(
    "patching",
    gdpr=("32(1)(b)", "32(1)(d)", "5(1)(f)"),
    iso27001=("8.8", "8.19"),
    ens=("op.exp.4",),
    nis2=("(e)",),
    cis=("7.3", "7.4", "2.2"),
)

_SHOWN = 10  # updates named in an observed value; the evidence lists them all


def _unreadable(facts: PatchFacts, what: str) -> Outcome:
    why = "; ".join(facts.problems) or f"{what} could not be read from the device"
    return Outcome.unreadable(why)


def _shown(u: PendingUpdate) -> str:
    if u.kb:  # a Windows update: its title names it (and usually its KB)
        return f"{u.name} [{u.severity}]" if u.severity else u.name
    kept = f", {u.kept}" if u.kept else ""
    return f"{u.name} ({u.installed or 'new'} → {u.candidate}{kept})"


def _listing(updates: tuple[PendingUpdate, ...]) -> str:
    names = [_shown(u) for u in updates[:_SHOWN]]
    more = len(updates) - _SHOWN
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _evidence(updates: tuple[PendingUpdate, ...]) -> str:
    return "\n".join(
        f"{u.name} [{', '.join(u.origins)}; MSRC {u.severity or '-'}]"
        if u.kb
        else f"{u.name} {u.installed or '-'} -> {u.candidate} [{', '.join(u.origins)}]"
        + (f" {u.kept}" if u.kept else "")
        for u in updates
    )


@DOMAIN.control(
    title="No pending security updates",
    rationale="Published security fixes close known, often exploited vulnerabilities; "
    "leaving them uninstalled is the most common way small businesses are breached.",
    severity=Severity.HIGH,
    platforms=("linux", "windows"),
    benchmark="CIS Debian Linux 12 Benchmark 1.2.2.1 (ensure updates are installed)",
)
def security_updates_pending(
    facts: PatchFacts, params: SecurityUpdates, ctx: EvalContext
) -> Outcome:
    if facts.pending is None:
        return _unreadable(facts, "pending updates")
    # with the policy's own security origins, every source may carry them
    stale = lists_problem(
        facts.package_sources, ctx.now, params.max_lists_age_days, security_only=not params.origins
    )
    if stale:
        return Outcome.error(stale)
    if facts.unclassified:
        # a held or deferred upgrade of unknown origin may be a security one: 0 proves nothing
        return _unreadable(facts, "the origin of the upgrades left out")
    if params.origins:
        wanted = tuple(params.origins)
        pending = tuple(u for u in facts.pending if any(o in wanted for o in u.origins))
    else:
        pending = tuple(u for u in facts.pending if u.security)
    expected = f"at most {params.max} pending security updates"
    observed = f"{len(pending)} pending security updates"
    if pending:
        observed += ": " + _listing(pending)
    if len(pending) <= params.max:
        return Outcome.passed(expected, observed, _evidence(pending) or None)
    return Outcome.failed(expected, observed, evidence=_evidence(pending))


@DOMAIN.control(
    title="Pending updates within the allowed number",
    rationale="Non-security updates also fix bugs and data-loss issues and keep the system "
    "on a supported baseline, so security fixes can later be applied without surprises.",
    severity=Severity.MEDIUM,
    platforms=("linux", "windows"),
    benchmark="CIS Debian Linux 12 Benchmark 1.2.2.1 (ensure updates are installed)",
)
def updates_pending(facts: PatchFacts, params: MaxCount, ctx: EvalContext) -> Outcome:
    if facts.pending is None:
        return _unreadable(facts, "pending updates")
    stale = lists_problem(facts.package_sources, ctx.now, params.max_lists_age_days, False)
    if stale:
        return Outcome.error(stale)
    expected = f"at most {params.max} pending updates"
    count = len(facts.pending) + len(facts.unclassified)
    observed = f"{count} pending updates"
    if facts.pending:
        observed += ": " + _listing(facts.pending)
    if facts.unclassified:
        # pending, so counted, though what they would install could not be told
        observed += f"{', ' if facts.pending else ': '}" + ", ".join(facts.unclassified)
    if count <= params.max:
        return Outcome.passed(expected, observed, _evidence(facts.pending) or None)
    return Outcome.failed(expected, observed, evidence=_evidence(facts.pending))


@DOMAIN.control(
    title="Updates installed recently",
    rationale="A system whose updates have not been installed for weeks is not being "
    "maintained, whatever its configuration says.",
    severity=Severity.MEDIUM,
    platforms=("linux", "windows"),
)
def days_since_last_update(facts: PatchFacts, params: MaxDays, ctx: EvalContext) -> Outcome:
    expected = f"updates installed within the last {params.max} days"
    last = facts.last_update
    if last is None:
        if not facts.history_read:
            return _unreadable(facts, "the update history")
        return Outcome.failed(expected, "no successful update installation on record")
    if why := ahead_of_run(f"the last update ({facts.last_update_source})", last, ctx.now):
        return Outcome.error(why, expected)
    days = (ctx.now - last).total_seconds() / 86400
    observed = (
        f"last update installed {last:%Y-%m-%d %H:%M %Z} "
        f"({days:.1f} days ago, from the {facts.last_update_source})"
    )
    if days <= params.max:
        # records that could not be read could only hold a newer update: this one suffices
        if not facts.history_read:
            observed += "; the update history could not be read (not needed for this verdict)"
        return Outcome.passed(expected, observed)
    if not facts.history_read:
        return _unreadable(facts, "the update history")
    return Outcome.failed(expected, observed)


@DOMAIN.control(
    title="Automatic security updates configured",
    rationale="Automatic installation of security updates closes the window between a fix "
    "being published and a technician finding time to install it.",
    severity=Severity.MEDIUM,
    platforms=("linux", "windows", "fortigate"),
    benchmark="CIS Debian Linux 12 Benchmark 1.2.2 (software updates); CIS FortiGate 7.0.x "
    "Benchmark v1.3.0 4.2.1 (antivirus definition updates)",
)
def automatic_updates(facts: PatchFacts, params: Required, ctx: EvalContext) -> Outcome:
    """On a FortiGate: FortiGuard's scheduled updates of its antivirus and IPS definitions."""
    if not params.required:
        return not_required("automatic security updates", ctx)
    auto = facts.automatic_updates
    if auto is None:
        return _unreadable(facts, "the automatic update configuration")
    expected = "automatic installation of security updates enabled"
    if auto.tool == "fortiguard":
        expected = "FortiGuard automatic updates (antivirus and IPS definitions) enabled"
    if not (auto.installed and auto.enabled and auto.security_origin):
        return Outcome.failed(expected, auto.detail)
    lists = facts.package_sources
    if lists is not None:
        # The automatic run installs from the configured sources only: aimed at the security
        # origin with no security source configured, it never installs a security fix.
        if lists.problem:
            return Outcome.unreadable(
                f"{auto.detail}; but the package sources could not be read ({lists.problem}): "
                "whether the automatic run has a security source to install from is unknown",
                expected,
            )
        secure = [src.name for src in lists.sources if src.security]
        if not secure:
            return Outcome.failed(
                expected,
                f"{auto.detail}; but no security source is configured, so the automatic run "
                "never installs a security fix",
            )
        return Outcome.passed(expected, f"{auto.detail}; security source {', '.join(secure)}")
    return Outcome.passed(expected, auto.detail)


@DOMAIN.control(
    title="No reboot pending beyond the grace period",
    rationale="Kernel and library fixes only protect a system once it has restarted into them.",
    severity=Severity.MEDIUM,
    platforms=("linux", "windows"),
)
def reboot_required(facts: PatchFacts, params: GraceDays, ctx: EvalContext) -> Outcome:
    reboot = facts.reboot
    if reboot is None:
        return _unreadable(facts, "the pending reboot state")
    expected = f"no reboot pending for more than {params.grace_days} days"
    if not reboot.required and not reboot.source:
        # nothing could tell: "no reboot known" is not "no reboot pending"
        if facts.container:
            return Outcome.not_applicable(
                f"a container ({facts.container}): its kernel is the host's, and nothing "
                f"signals a restart ({reboot.unknown or 'no reboot signal'})"
            )
        return Outcome.error(
            f"no reboot signal: {reboot.unknown or 'nothing could tell'}", expected
        )
    if not reboot.required:
        return Outcome.passed(expected, f"no reboot pending (checked: {reboot.source})")
    reasons = "; ".join(reboot.reasons)
    if reboot.since is None:
        return Outcome.failed(expected, f"reboot pending since an unknown date: {reasons}")
    if why := ahead_of_run("the pending reboot", reboot.since, ctx.now):
        return Outcome.error(why, expected)
    days = (ctx.now - reboot.since).total_seconds() / 86400
    observed = f"reboot pending since {reboot.since:%Y-%m-%d} ({days:.1f} days): {reasons}"
    if days <= params.grace_days:
        return Outcome.passed(expected, observed)
    return Outcome.failed(expected, observed)


@DOMAIN.control(
    title="Running the newest installed kernel",
    rationale="An installed but not running kernel update leaves the fixed vulnerabilities "
    "exploitable until the next reboot.",
    severity=Severity.MEDIUM,
    platforms=("linux",),
)
def kernel_current(facts: PatchFacts, params: Required, ctx: EvalContext) -> Outcome:
    """The running kernel's version against the newest installed kernel package of its family.

    Versions, not names: Debian upgrades a kernel package in place under the same ABI name.
    """
    if not params.required:
        return not_required("running the newest installed kernel", ctx)
    running = facts.kernel_running
    if running is None:
        return _unreadable(facts, "the running kernel")
    if facts.container:
        return Outcome.not_applicable(f"a container ({facts.container}): its kernel is the host's")
    if facts.kernels is None:
        return _unreadable(facts, "the installed kernels")
    provider = facts.kernel_provider
    version, newest = facts.kernel_running_version, facts.kernel_newest
    newest_v = facts.kernel_newest_version
    shown = (
        f"{running} ({version}, from {facts.kernel_running_version_source})" if version else running
    )
    if newest is None or newest_v is None:
        # no kernel of its family installed (a package shipping it would be one)
        installed = ", ".join(f"{k.package} {k.version}" for k in facts.kernels) or "none"
        return Outcome.error(
            f"the running kernel {running} is shipped by no installed package (installed "
            f"kernels: {installed}): a custom or removed kernel, or a container nothing proves "
            "(no /run/systemd/container, /.dockerenv, /run/.containerenv or container= in PID "
            "1's environment)"
        )
    expected = f"running kernel is the newest installed of its family ({newest} {newest_v})"
    if version is None:
        return Outcome.error(
            f"the running kernel {running} is shipped by no installed package and does not "
            f"report its version, so it cannot be compared with {newest} {newest_v}",
            expected,
        )
    order = compare(version, newest_v, facts.version_scheme)
    gone = "" if provider else ", shipped by no installed package"
    if order < 0:
        return Outcome.failed(expected, f"running {shown}{gone}; {newest} {newest_v} is installed")
    if order > 0:
        # the package was removed or downgraded since boot: the next boot starts an older kernel
        return Outcome.failed(
            expected,
            f"running {shown}{gone}, newer than any installed kernel of its family: the next "
            f"boot starts {newest} {newest_v}",
        )
    return Outcome.passed(expected, f"running {shown}")


@DOMAIN.control(
    title="Packages at or above their minimum versions",
    rationale="Some vulnerabilities are only closed from a known version on; the policy names "
    "those versions so their presence can be proven.",
    severity=Severity.HIGH,
    platforms=("linux", "windows", "fortigate"),
    benchmark="CIS FortiGate 7.0.x Benchmark v1.3.0 2.1.6 (latest firmware, against the "
    "policy's pinned minimum)",
)
def minimum_versions(facts: PatchFacts, params: MinimumVersions, ctx: EvalContext) -> Outcome:
    if facts.firmware is not None:
        return _firmware_minimum(facts.firmware, params)
    if facts.package_manager == "windows-update":
        return _os_build_minimum(facts, params)
    if not params.packages:
        return Outcome.not_applicable("the policy lists no package minimums for this platform")
    if facts.packages is None:
        return _unreadable(facts, "installed package versions")
    expected = ", ".join(f"{name} ≥ {version}" for name, version in params.packages.items())
    below: list[str] = []
    seen: list[str] = []
    for name, minimum in params.packages.items():
        installed = facts.packages.get(name)
        if installed is None:
            below.append(f"{name} not installed")
        elif compare(installed, minimum, facts.version_scheme) < 0:
            below.append(f"{name} {installed} < {minimum}")
        else:
            seen.append(f"{name} {installed}")
    if below:
        return Outcome.failed(expected, "; ".join(below + seen))
    return Outcome.passed(expected, "; ".join(seen))


_BUILD = re.compile(r"(?:10\.0\.)?(\d+)\.(\d+)")


def _os_build_minimum(facts: PatchFacts, params: MinimumVersions) -> Outcome:
    """Windows: CurrentBuild.UBR against ``os_build`` ("10.0.26100.4349" or "26100.4349")."""
    if params.os_build is None:
        return Outcome.not_applicable(
            "the policy sets no Windows minimum build (minimum_versions.os_build)"
        )
    if facts.os_build is None:
        return _unreadable(facts, "the OS build")
    wanted = _BUILD.fullmatch(params.os_build.strip())
    running = _BUILD.fullmatch(facts.os_build)
    if wanted is None or running is None:
        what = params.os_build if wanted is None else facts.os_build
        return Outcome.error(f"{what!r} is not a Windows build (write 10.0.26100.4349)")
    expected = f"Windows build ≥ {params.os_build}"
    observed = f"{facts.os_name} build {facts.os_build}".strip()
    have = (int(running[1]), int(running[2]))
    if have < (int(wanted[1]), int(wanted[2])):
        return Outcome.failed(expected, f"{observed} is below {params.os_build}")
    return Outcome.passed(expected, observed)


def _firmware_minimum(firmware: Firmware, params: MinimumVersions) -> Outcome:
    """The firmware against the policy's minimum; the build counts only if the policy gives one."""
    if params.firmware is None:
        return Outcome.not_applicable(
            f"the policy sets no {firmware.product} minimum (minimum_versions.firmware)"
        )
    wanted = firmware_parts(params.firmware)
    running = firmware_parts(firmware.version or "")
    if wanted is None or running is None:
        what = params.firmware if wanted is None else firmware.reported
        return Outcome.error(f"{what!r} is not a {firmware.product} version")
    expected = f"{firmware.product} ≥ {params.firmware}"
    build = f" build {firmware.build}" if firmware.build else ""
    observed = f"{firmware.product} {firmware.reported}{build} (from {firmware.source})"
    have: tuple[int, ...] = running[:3]
    want: tuple[int, ...] = wanted[:3]
    if wanted[3] is not None:
        if firmware.build is None:
            return Outcome.unreadable(f"the unit did not report its build ({observed})", expected)
        have, want = (*have, firmware.build), (*want, wanted[3])
    if have < want:
        return Outcome.failed(expected, f"{observed} is below {params.firmware}")
    return Outcome.passed(expected, observed)


@DOMAIN.control(
    title="Package sources fresh, with security updates, on a supported release",
    rationale="A pending-update count is only as good as the package lists it is computed "
    "from: lists not refreshed for weeks, no security source, or a release past its end of "
    'life all show "nothing pending" while fixes go unseen.',
    severity=Severity.HIGH,
    platforms=("linux",),
    benchmark="CIS Debian Linux 12 Benchmark 1.2.1.2 (ensure package manager repositories "
    "are configured)",
)
def package_sources(facts: PatchFacts, params: PackageSources, ctx: EvalContext) -> Outcome:
    """Lists refreshed within ``max_age_days``, a security source fetched, a supported release."""
    return judge_sources(facts.package_sources, facts.os_release, params, ctx.now)
