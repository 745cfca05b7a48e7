"""Parse the RHEL-family half of ``patching.sh`` (dnf 4, yum) into PatchFacts (pure).

Sources (linux-checks.md §1.6): ``dnf -q -C check-update`` (exit 100 = updates, 0 = none),
``dnf -q -C updateinfo list --security --available`` (advisory, ``Severity/Sec.``, NEVRA),
``needs-restarting -r`` (exit 1 = reboot needed), dnf's rpm log for the last upgrade,
``/etc/dnf/automatic.conf`` with the enabled dnf-automatic timers, and ``rpm -qa``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any, NamedTuple

from checks.facts.patching import (
    AutoUpdates,
    KernelPackage,
    PatchFacts,
    PendingUpdate,
    RebootState,
)
from checks.linux.patching_kernel import kernel_fields, kernel_reboot_reason
from checks.linux.patching_sources import dnf_sources, parse_container, parse_os_release
from checks.linux.raw import out, utc_offset
from checks.versions import compare, newest

__all__ = [
    "Advisory",
    "Rpm",
    "parse",
    "parse_automatic",
    "parse_check_update",
    "parse_dnf_history",
    "parse_needs_restarting",
    "parse_rpm_log",
    "parse_rpms",
    "parse_updateinfo",
    "split_nevra",
]

# name.arch  [epoch:]version-release  repository
_UPDATE = re.compile(r"^(?P<name>\S+)\.(?P<arch>[^.\s]+)\s+(?P<evr>\S+-\S+)\s+(?P<repo>\S+)$")
_ADVISORY = re.compile(r"^(?P<id>\S+)\s+(?P<kind>\S+)\s+(?P<nevra>\S+)$")
_KERNELS = ("kernel-core", "kernel")  # RHEL 8+ splits the image into kernel-core
_TRUE = ("1", "yes", "true", "on")


class CheckUpdateError(ValueError):
    """``dnf check-update`` output that does not say what is pending."""


class Rpm(NamedTuple):
    """An installed package, one line of ``rpm -qa``."""

    name: str
    evr: str  # [epoch:]version-release
    arch: str
    installed_at: int  # epoch seconds


class Advisory(NamedTuple):
    """One row of ``updateinfo list``: an advisory and one package version it ships."""

    id: str
    severity: str  # "Important", "Moderate"…; "Sec." alone when the repository gives none
    name: str
    evr: str
    arch: str


def split_nevra(nevra: str) -> tuple[str, str, str] | None:
    """``name-[epoch:]version-release.arch`` → (name, evr, arch); None if it is not one."""
    body, dot, arch = nevra.rpartition(".")
    if not dot or not body or not arch:
        return None
    rest, dash, release = body.rpartition("-")
    name, dash2, version = rest.rpartition("-")
    if not (dash and dash2 and name and version and release):
        return None
    return name, f"{version}-{release}", arch


def parse_check_update(text: str, rc: int) -> list[tuple[str, str, str, str]]:
    """``dnf -q check-update`` → [(name, arch, evr, repository)]; raises if it is unreadable."""
    if rc not in (0, 100):
        tail = " / ".join(text.strip().splitlines()[-2:])
        raise CheckUpdateError(f"dnf check-update failed (exit {rc}): {tail}")
    found: list[tuple[str, str, str, str]] = []
    for line in text.splitlines():
        if line.startswith(("Obsoleting Packages", "Security:")):
            break  # the obsoletes section repeats packages already listed above
        m = _UPDATE.match(line.strip())
        if m:
            found.append((m["name"], m["arch"], m["evr"], m["repo"]))
    if rc == 100 and not found:
        # Updates announced but none readable: never report that as "nothing pending".
        raise CheckUpdateError("dnf check-update reported updates (exit 100) but listed none")
    return found


def parse_updateinfo(text: str) -> list[Advisory]:
    """``dnf -q updateinfo list --security``: one Advisory per (advisory, package) row."""
    rows: list[Advisory] = []
    for line in text.splitlines():
        m = _ADVISORY.match(line.strip())
        if not m:
            continue
        parts = split_nevra(m["nevra"])
        if parts is None:
            continue
        severity = m["kind"].removesuffix("/Sec.")
        rows.append(Advisory(m["id"], severity, *parts))
    return rows


def parse_rpms(text: str) -> list[Rpm]:
    """``rpm -qa`` lines ``NAME\\tEVR\\tARCH\\tINSTALLTIME``; gpg-pubkey keys are not packages."""
    rows: list[Rpm] = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or parts[0] == "gpg-pubkey" or not parts[3].isdigit():
            continue
        rows.append(Rpm(parts[0], parts[1], parts[2], int(parts[3])))
    return rows


def parse_rpm_log(text: str) -> datetime | None:
    """The newest ``Upgrade:`` line of dnf.rpm.log (``2026-11-28T08:00:00+0000 SUBDEBUG …``)."""
    newest_at: datetime | None = None
    for line in text.splitlines():
        stamp = line.split(" ", 1)[0]
        try:
            when = datetime.fromisoformat(stamp)
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if newest_at is None or when > newest_at:
            newest_at = when
    return newest_at


def parse_dnf_history(text: str, tz: tzinfo) -> datetime | None:
    """The newest transaction of ``dnf history list`` that upgraded packages (local time).

    Rows: ``ID | Command line | Date and time | Action(s) | Altered`` (yum 3: ``Login user``
    second, "Update" for "Upgrade"); the actions are one word or abbreviations ("I, U"), and
    ``Altered`` carries E/P flags when the transaction had errors or problems.
    """
    newest_at: datetime | None = None
    for line in text.splitlines():
        cols = [c.strip() for c in line.split("|")]
        if len(cols) != 5 or not cols[0].isdigit():
            continue
        actions = {a.strip() for a in cols[3].split(",")}
        if not actions & {"Upgrade", "Update", "U"} or re.search(r"[EP]", cols[4]):
            continue  # E: errors, P: problems in the transaction
        try:
            when = datetime.strptime(cols[2], "%Y-%m-%d %H:%M").replace(tzinfo=tz)
        except ValueError:
            continue
        if newest_at is None or when > newest_at:
            newest_at = when
    return newest_at


def parse_automatic(text: str, installed: bool) -> AutoUpdates:
    """dnf-automatic: the binary, its enabled timers and ``[commands]`` of automatic.conf."""
    timers: list[str] = []
    section = ""
    commands: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if line.startswith("bin "):
            installed = True
        elif line.startswith("timer "):
            timers.append(line.removeprefix("timer ").strip())
        elif stripped.startswith("["):
            section = stripped.strip("[]").strip()
        elif section == "commands" and "=" in stripped:
            key, _, value = stripped.partition("=")
            commands[key.strip()] = value.strip()
    upgrade_type = commands.get("upgrade_type", "default")  # dnf-automatic's own defaults
    apply = commands.get("apply_updates", "no").lower() in _TRUE
    # -install.timer runs with --installupdates; the plain timer installs only if apply_updates.
    installs = "dnf-automatic-install.timer" in timers or (
        "dnf-automatic.timer" in timers and apply
    )
    detail = (
        f"dnf-automatic {'installed' if installed else 'not installed'}; "
        f"enabled timers: {', '.join(timers) or 'none'}; "
        f"upgrade_type={upgrade_type}; apply_updates={commands.get('apply_updates', 'unset')}"
    )
    return AutoUpdates(
        tool="dnf-automatic",
        installed=installed,
        enabled=installed and installs,
        # "default" installs every update, security ones included; "security" only those.
        security_origin=upgrade_type in ("default", "security"),
        detail=detail,
    )


def parse_needs_restarting(text: str, rc: int) -> tuple[str, ...] | None:
    """``needs-restarting -r`` → the packages needing a reboot (empty: none); None: no answer.

    Exit 1 alone is not "reboot needed": a missing plugin also exits 1 ("No such command").
    """
    if rc == 1 and "Reboot is required" in text:
        return tuple(m[1] for m in re.finditer(r"^\s*\*\s+(\S+)", text, re.MULTILINE)) or (
            "core libraries or services",
        )
    if rc == 0 and "Reboot should not be necessary" in text:
        return ()
    return None


def _pending(
    updates: list[tuple[str, str, str, str]],
    advisories: list[Advisory],
    installed: dict[tuple[str, str], str],
) -> tuple[PendingUpdate, ...]:
    by_package: dict[tuple[str, str], list[Advisory]] = {}
    for adv in advisories:
        by_package.setdefault((adv.name, adv.arch), []).append(adv)
    pending: list[PendingUpdate] = []
    for name, arch, evr, repo in updates:
        found = by_package.pop((name, arch), [])
        pending.append(
            PendingUpdate(
                name=name,
                installed=installed.get((name, arch)),
                candidate=evr,
                origins=(repo, *(f"{a.id} {a.severity}" for a in found)),
                security=bool(found),
            )
        )
    # An advisory for a package check-update did not list still counts: security never shrinks.
    for (name, arch), found in by_package.items():
        best = newest([a.evr for a in found], "rpm") or found[0].evr
        pending.append(
            PendingUpdate(
                name=name,
                installed=installed.get((name, arch)),
                candidate=best,
                origins=tuple(f"{a.id} {a.severity}" for a in found),
                security=True,
            )
        )
    return tuple(pending)


def _installed(rpms: list[Rpm]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Newest installed version by name and by (name, arch): kernels and multilib repeat."""
    by_name: dict[str, str] = {}
    by_arch: dict[tuple[str, str], str] = {}
    for r in rpms:
        if r.name not in by_name or compare(r.evr, by_name[r.name], "rpm") > 0:
            by_name[r.name] = r.evr
        key = (r.name, r.arch)
        if key not in by_arch or compare(r.evr, by_arch[key], "rpm") > 0:
            by_arch[key] = r.evr
    return by_name, by_arch


def _tail(text: str) -> str:
    return " / ".join(text.strip().splitlines()[-2:])


def _pending_updates(
    raw: dict[str, Any], installed: dict[tuple[str, str], str], problems: list[str]
) -> tuple[PendingUpdate, ...] | None:
    text, rc = out(raw, "check_update")
    try:
        updates = parse_check_update(text, rc)
    except CheckUpdateError as exc:
        problems.append(str(exc))
        return None
    info_text, info_rc = out(raw, "updateinfo")
    if "updateinfo" not in raw:
        if rc == 0:
            return ()  # nothing pending, so no advisory to look up (the fragment skips it)
        problems.append("dnf updateinfo list --security was not collected")
        return None
    if info_rc != 0:
        problems.append(
            f"dnf updateinfo list --security failed (exit {info_rc}): {_tail(info_text)}"
        )
        return None
    return _pending(updates, parse_updateinfo(info_text), installed)


def _last_update(
    raw: dict[str, Any], tz: tzinfo, problems: list[str]
) -> tuple[datetime | None, str, bool]:
    """(when, from where, whether the records could be read)."""
    log_text, log_rc = out(raw, "rpm_log")
    last = parse_rpm_log(log_text) if log_rc == 0 else None
    if last is not None or "dnf_history" not in raw:
        return last, "dnf rpm log", log_rc == 0
    # the fragment reads dnf history only when the (weekly rotated) log holds no upgrade
    history_text, history_rc = out(raw, "dnf_history")
    if history_rc != 0:
        problems.append(f"dnf history list failed (exit {history_rc}): {_tail(history_text)}")
        return None, "dnf history", False
    return parse_dnf_history(history_text, tz), "dnf history", True


def _kernel(raw: dict[str, Any], rpms: list[Rpm], problems: list[str]) -> dict[str, Any]:
    """The kernel fields: installed kernels by file ownership, the running one by ``uname -r``."""
    running_lines = out(raw, "running")[0].splitlines()
    running = running_lines[0].strip() if running_lines else None
    text, rc = out(raw, "kernels")
    kernels: list[KernelPackage] | None = None
    if rc in (0, 1):  # grep: 1 is no kernel image owned by a package
        seen: dict[str, KernelPackage] = {}
        for line in text.splitlines():
            parts = line.split("\t")
            if len(parts) != 3:
                continue
            name, evr, path = parts
            # /lib/modules/<release>/vmlinuz or /boot/vmlinuz-<release>
            release = (
                path.split("/")[-2] if path.endswith("/vmlinuz") else path.split("vmlinuz-", 1)[-1]
            )
            seen.setdefault(
                release, KernelPackage(package=name, version=evr, release=release, family=name)
            )
        kernels = list(seen.values())
    else:
        problems.append(f"rpm -qf on the kernel images failed (exit {rc}): {_tail(text)}")
    # with no package shipping the running kernel: the distribution's kernel package family
    names = {r.name for r in rpms}
    fallback = next((n for n in _KERNELS if n in names), _KERNELS[0])
    return kernel_fields(kernels, running, "", "rpm", fallback)


def _reboot(raw: dict[str, Any], rpms: list[Rpm], kernel: dict[str, Any]) -> RebootState:
    """needs-restarting and the kernel comparison; either one saying so means a reboot."""
    text, rc = out(raw, "needs_restarting")
    need = parse_needs_restarting(text, rc)
    reasons: list[str] = []
    sources: list[str] = []
    unknown: list[str] = []
    times: list[int] = []
    if need is not None:
        sources.append("needs-restarting")
        reasons += [f"package {p}" for p in need]
        # needs-restarting gives no date: the newest install of a package it names is one
        times += [r.installed_at for r in rpms if r.name in need]
    else:
        unknown.append(
            f"needs-restarting -r gave no answer (exit {rc}): {_tail(text) or 'no output'}"
        )
    known, reason, why = kernel_reboot_reason(kernel, "rpm")
    if known:
        sources.append("kernel comparison")
        if reason:
            reasons.append(reason)
            # pending since the newest kernel was installed
            newest_kernel = (kernel["kernel_family"], kernel["kernel_newest_version"])
            times += [r.installed_at for r in rpms if (r.name, r.evr) == newest_kernel]
    else:
        unknown.append(why)
    return RebootState(
        required=bool(reasons),
        since=datetime.fromtimestamp(max(times), UTC) if reasons and times else None,
        reasons=tuple(reasons),
        source=", ".join(sources),
        unknown="" if sources else "; ".join(unknown),
    )


def parse(raw: dict[str, Any], host: dict[str, Any]) -> PatchFacts:
    """``raw`` is the document's ``patching`` member from a dnf (or yum) host."""
    problems: list[str] = []
    clock = out(host, "clock")[0].split()
    tz = utc_offset(clock[1]) if len(clock) > 1 else UTC

    rpms_text, rpms_rc = out(raw, "rpms")
    rpms = parse_rpms(rpms_text) if rpms_rc == 0 else None
    packages: dict[str, str] | None = None
    installed: dict[tuple[str, str], str] = {}
    if rpms is None:
        problems.append(f"rpm -qa failed (exit {rpms_rc}): {_tail(rpms_text)}")
    else:
        packages, installed = _installed(rpms)

    pending = _pending_updates(raw, installed, problems)
    last, source, history_read = _last_update(raw, tz, problems)

    auto_text, auto_rc = out(raw, "automatic")
    auto = None
    if auto_rc == 0:
        auto = parse_automatic(auto_text, packages is not None and "dnf-automatic" in packages)

    kernel = _kernel(raw, rpms or [], problems)
    reboot = _reboot(raw, rpms or [], kernel)

    return PatchFacts(
        package_manager=out(raw, "manager")[0].strip() or "dnf",
        pending=pending,
        last_update=last,
        last_update_source=source if last else "",
        history_read=history_read,
        automatic_updates=auto,
        reboot=reboot,
        packages=packages,
        version_scheme="rpm",
        package_sources=dnf_sources(out(raw, "repos"), out(raw, "repomd"), "repos" in raw),
        os_release=parse_os_release(out(host, "os_release")[0]),
        container=parse_container(out(raw, "container")[0]),
        problems=tuple(problems),
        **kernel,
    )
