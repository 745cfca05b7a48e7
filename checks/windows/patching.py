"""PatchFacts of a Windows host: Windows Update's pending and installed updates, its policy,
the pending reboot signals and the OS build.

Security updates: category "Security Updates" or "Critical Updates", or MSRC severity Critical
or Important. The last update is the newest of the WUA history's successful installs and
Get-HotFix's InstalledOn. Automatic updates pass with WSUS (UseWUServer 1), Windows Update for
Business (deferral or target release policy, or an MDM update policy) or AUOptions 3/4, unless
NoAutoUpdate is 1, AUOptions asks for anything else or the Windows Update service is disabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from checks.facts.patching import AutoUpdates, PatchFacts, PendingUpdate, RebootState
from checks.windows.read import Fields, Unreadable, check

__all__ = ["os_build", "parse"]

_SECURITY_CATEGORIES = ("Security Updates", "Critical Updates")
_SECURITY_SEVERITIES = ("Critical", "Important")
_AU_OPTIONS = {
    2: "notify before download",
    3: "download automatically, notify before installing",
    4: "download and install automatically on a schedule",
    5: "local administrator chooses",
    7: "download automatically, notify before installing and restarting",
}


def _pending(document: Mapping[str, Any]) -> tuple[PendingUpdate, ...]:
    data = check(document, "updates.pending")
    code = data.number("ResultCode")
    if code not in (2, 3):  # 2 succeeded, 3 succeeded with errors
        raise Unreadable(f"updates.pending: the Windows Update search ended with ResultCode {code}")
    out: list[PendingUpdate] = []
    for update in data.items("Updates"):
        categories = update.strings("Categories")
        severity = update.optional_text("MsrcSeverity")
        kb = update.strings("KB")
        out.append(
            PendingUpdate(
                name=update.text("Title"),
                installed=None,
                candidate=", ".join(kb) or "-",
                origins=categories,
                security=any(c in _SECURITY_CATEGORIES for c in categories)
                or severity in _SECURITY_SEVERITIES,
                kb=kb or ("-",),
                severity=severity,
            )
        )
    return tuple(out)


def _last_update(document: Mapping[str, Any]) -> tuple[datetime | None, str]:
    data = check(document, "updates.installed")
    found: list[tuple[datetime, str]] = []
    last = data.optional_object("LastSuccessfulInstall")
    if last is not None:
        found.append((last.date("Date"), f"Windows Update history: {last.text('Title')}"))
    for hotfix in data.items("HotFixes"):
        installed = hotfix.optional_date("InstalledOn")
        if installed is not None:
            found.append((installed, f"Get-HotFix: {hotfix.text('HotFixID')}"))
    if not found:
        return None, ""
    return max(found, key=lambda f: f[0])


def _policy_source(data: Fields) -> str:
    server = data.optional_text("WUServer")
    if data.optional_number("UseWUServer") == 1 and server:
        return f"WSUS {server}"
    wufb = [
        f"{key} {data.raw(key)}"
        for key in ("DeferQualityUpdatesPeriodInDays", "TargetReleaseVersionInfo")
        if data.raw(key) is not None
    ]
    if data.flag("MdmUpdatePolicyPresent"):
        wufb.append("MDM update policy")
    return f"Windows Update for Business ({', '.join(wufb)})" if wufb else ""


def _automatic(document: Mapping[str, Any]) -> AutoUpdates:
    data = check(document, "wu.policy")
    no_auto = data.optional_number("NoAutoUpdate")
    options = data.optional_number("AUOptions")
    start = data.optional_text("WuauservStartType")
    source = _policy_source(data)
    what = f"AUOptions {options} ({_AU_OPTIONS.get(options, 'unknown')})" if options else ""
    parts = [p for p in (source, what) if p]
    problem = ""
    if no_auto == 1:
        problem = "NoAutoUpdate 1: automatic updates turned off by policy"
    elif start == "Disabled":
        problem = "the Windows Update service (wuauserv) is disabled"
    elif options is not None and options not in (3, 4):
        problem = f"AUOptions {options}: {_AU_OPTIONS.get(options, 'unknown option')}"
    elif not parts:
        problem = "no Windows Update policy (WSUS, Windows Update for Business or AUOptions 3/4)"
    enabled = not problem
    detail = "Windows Update policy: " + ("; ".join(parts) or "none")
    if problem:
        detail = f"{problem} ({detail})"
    return AutoUpdates(
        tool="windows-update",
        installed=True,
        enabled=enabled,
        security_origin=enabled,
        detail=detail,
    )


_SIGNALS = {
    "CBSRebootPending": "Component Based Servicing RebootPending",
    "WURebootRequired": "Windows Update RebootRequired",
    "PendingFileRename": "PendingFileRenameOperations",
    "ComputerRenamePending": "computer rename pending",
}


def _reboot(document: Mapping[str, Any]) -> RebootState:
    data = check(document, "reboot.pending")
    signals = data.object("Signals")
    reasons = tuple(text for key, text in _SIGNALS.items() if signals.flag(key))
    required = data.flag("RebootPending")
    if required and not reasons:
        raise Unreadable("reboot.pending: RebootPending is true but no signal is set")
    since = data.optional_date("Since")
    source_of_since = data.optional_text("SinceSource")
    if since is not None and source_of_since:
        reasons = (*reasons, f"since: {source_of_since}")
    return RebootState(
        required=required,
        since=since,
        reasons=reasons,
        source="registry: CBS, Windows Update, PendingFileRenameOperations, computer name",
    )


def os_build(document: Mapping[str, Any]) -> tuple[str, str]:
    """("10.0.<CurrentBuild>.<UBR>", "Microsoft Windows 11 Pro 24H2")."""
    data = check(document, "os.build")
    build = f"10.0.{data.number('CurrentBuild')}.{data.number('UBR')}"
    name = f"{data.text('Caption')} {data.optional_text('DisplayVersion') or ''}".strip()
    return build, name


def parse(document: Mapping[str, Any]) -> PatchFacts:
    problems: list[str] = []

    def read(what: Any) -> Any:
        try:
            return what(document)
        except Unreadable as exc:
            problems.append(str(exc))
            return None

    pending = read(_pending)
    last = read(_last_update)
    build = read(os_build)
    return PatchFacts(
        package_manager="windows-update",
        pending=pending,
        last_update=last[0] if last else None,
        last_update_source=last[1] if last else "",
        history_read=last is not None,
        automatic_updates=read(_automatic),
        reboot=read(_reboot),
        kernel_running=None,
        kernel_newest=None,
        packages=None,
        problems=tuple(problems),
        os_build=build[0] if build else None,
        os_name=build[1] if build else "",
    )
