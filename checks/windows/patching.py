"""PatchFacts of a Windows host: Windows Update's pending and installed updates, its policy,
the pending reboot signals and the OS build.

Security updates: classification Security Updates or Critical Updates (by GUID: category names
are localised, see ``patching_categories``), or MSRC severity Critical or Important. The last
update is the newest of Get-HotFix's InstalledOn and the WUA history's successful installs of
quality or security updates (Defender definitions, its platform and MSRT do not count). Automatic
updates pass with WSUS (UseWUServer 1), Windows Update for Business (deferral or target release
policy, or an MDM update policy) or AUOptions 3/4, unless NoAutoUpdate is 1, AUOptions asks for
anything else, the Windows Update service is disabled, or quality updates are paused at the
host's time (Settings or policy; a feature-update pause alone holds back no security fix).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from checks.facts.patching import AutoUpdates, PatchFacts, PendingUpdate, RebootState
from checks.windows.patching_categories import SECURITY, counts_as_update, origins
from checks.windows.read import Fields, Unreadable, check, host_now, when

__all__ = ["os_build", "parse"]

_SECURITY_SEVERITIES = ("Critical", "Important")
_AU_OPTIONS = {
    2: "notify before download",
    3: "download automatically, notify before installing",
    4: "download and install automatically on a schedule",
    5: "local administrator chooses",
    7: "download automatically, notify before installing and restarting",
}


def _update_id(update: Fields) -> str | None:
    """The update's UpdateID (a GUID, lower case); None where the document has none."""
    value = update.data.get("UpdateID")
    if value is None or value == "":
        return None  # a document recorded before update IDs were collected
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise Unreadable(f"{update.where}: UpdateID {value!r} is not a GUID") from None


def _categories(update: Fields) -> tuple[str, ...]:
    names, ids = update.strings("Categories"), update.strings("CategoryIDs")
    if len(names) != len(ids):
        raise Unreadable(f"{update.where}: {len(names)} Categories but {len(ids)} CategoryIDs")
    return origins(names, ids)


def _pending(document: Mapping[str, Any]) -> tuple[PendingUpdate, ...]:
    data = check(document, "updates.pending")
    code = data.number("ResultCode")
    if code not in (2, 3):  # 2 succeeded, 3 succeeded with errors
        raise Unreadable(f"updates.pending: the Windows Update search ended with ResultCode {code}")
    out: list[PendingUpdate] = []
    for update in data.items("Updates"):
        categories = _categories(update)
        severity = update.optional_text("MsrcSeverity")
        kb = update.strings("KB")
        out.append(
            PendingUpdate(
                name=update.text("Title"),
                installed=None,
                candidate=", ".join(kb) or "-",
                origins=categories,
                security=any(c in SECURITY for c in categories) or severity in _SECURITY_SEVERITIES,
                kb=kb or ("-",),
                severity=severity,
                update_id=_update_id(update),
            )
        )
    return tuple(out)


def _last_update(document: Mapping[str, Any]) -> tuple[datetime | None, str, str]:
    """The newest quality or security update installed, where it was seen, and why the WUA
    history could not be read ("" when it could)."""
    data = check(document, "updates.installed")
    found: list[tuple[datetime, str]] = []
    history_error = data.optional_text("HistoryError")
    if history_error is None:
        for entry in data.items("History"):
            title = entry.text("Title")
            if counts_as_update(title, entry.strings("CategoryIDs")):
                found.append((entry.date("Date"), f"Windows Update history: {title}"))
    for hotfix in data.items("HotFixes"):
        installed = hotfix.optional_date("InstalledOn")
        if installed is not None:
            found.append((installed, f"Get-HotFix: {hotfix.text('HotFixID')}"))
    unread = ""
    if history_error is not None:
        unread = f"updates.installed: the Windows Update history could not be read: {history_error}"
    if not found:
        return None, "", unread
    last = max(found, key=lambda f: f[0])
    return last[0], last[1], unread


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


_POLICY_PAUSE_DAYS = 35  # a pause set by policy ends 35 days after its start date


def _stamp(data: Fields, field: str) -> datetime | None:
    """A pause time as the registry holds it: ISO 8601 UTC (Settings) or yyyy-MM-dd (policy)."""
    value = data.optional_text(field)
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        return when(text)
    except ValueError:
        raise Unreadable(f"wu.policy: {field} {value!r} is not a date with its time zone") from None


def _shown_time(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _pauses(data: Fields, now: datetime) -> tuple[str, str]:
    """(quality-update pauses in effect at the host's time, feature-update pauses in effect)."""
    quality: list[str] = []
    for field, what in (
        ("PauseUpdatesExpiryTime", "updates paused in Settings"),
        ("PauseQualityUpdatesEndTime", "quality updates paused in Settings"),
    ):
        until = _stamp(data, field)
        if until is not None and until > now:
            quality.append(f"{what} until {_shown_time(until)} ({field})")
    feature: list[str] = []
    until = _stamp(data, "PauseFeatureUpdatesEndTime")
    if until is not None and until > now:
        feature.append(f"feature updates paused in Settings until {_shown_time(until)}")
    # the same policy from Group Policy ("Policy…") or from an MDM such as Intune ("Mdm…", the
    # Policy CSP's Update values under PolicyManager\current\device\Update)
    for source in ("Policy", "Mdm"):
        start = _stamp(data, f"{source}PauseQualityUpdatesStartTime")
        if start is not None and start <= now < start + timedelta(days=_POLICY_PAUSE_DAYS):
            until = start + timedelta(days=_POLICY_PAUSE_DAYS)
            quality.append(
                f"quality updates paused by policy until {_shown_time(until)} "
                f"(PauseQualityUpdatesStartTime {start:%Y-%m-%d})"
            )
        elif start is None and data.optional_number(f"{source}PauseQualityUpdates") == 1:
            quality.append(
                "quality updates paused by policy (PauseQualityUpdates 1, no start date)"
            )
        start = _stamp(data, f"{source}PauseFeatureUpdatesStartTime")
        if start is not None and start <= now < start + timedelta(days=_POLICY_PAUSE_DAYS):
            feature.append(f"feature updates paused by policy since {start:%Y-%m-%d}")
        elif start is None and data.optional_number(f"{source}PauseFeatureUpdates") == 1:
            feature.append("feature updates paused by policy (PauseFeatureUpdates 1)")
    return "; ".join(dict.fromkeys(quality)), "; ".join(dict.fromkeys(feature))


def _automatic(document: Mapping[str, Any]) -> AutoUpdates:
    data = check(document, "wu.policy")
    no_auto = data.optional_number("NoAutoUpdate")
    options = data.optional_number("AUOptions")
    start = data.optional_text("WuauservStartType")
    paused, feature_paused = _pauses(data, host_now(document))
    source = _policy_source(data)
    what = f"AUOptions {options} ({_AU_OPTIONS.get(options, 'unknown')})" if options else ""
    parts = [p for p in (source, what) if p]
    problem = ""
    if no_auto == 1:
        problem = "NoAutoUpdate 1: automatic updates turned off by policy"
    elif start == "Disabled":
        problem = "the Windows Update service (wuauserv) is disabled"
    elif paused:
        problem = f"Windows Update is paused: {paused}"
    elif options is not None and options not in (3, 4):
        problem = f"AUOptions {options}: {_AU_OPTIONS.get(options, 'unknown option')}"
    elif not parts:
        problem = "no Windows Update policy (WSUS, Windows Update for Business or AUOptions 3/4)"
    enabled = not problem
    detail = "Windows Update policy: " + ("; ".join(parts) or "none")
    if feature_paused:
        detail += f"; {feature_paused} (security updates still install)"
    manager_error = data.optional_text("ServiceManagerError")
    if manager_error:
        detail += f"; the Windows Update service manager did not answer: {manager_error}"
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
    if last is not None and last[2]:
        problems.append(last[2])
    build = read(os_build)
    return PatchFacts(
        package_manager="windows-update",
        pending=pending,
        last_update=last[0] if last else None,
        last_update_source=last[1] if last else "",
        history_read=last is not None and not last[2],
        automatic_updates=read(_automatic),
        reboot=read(_reboot),
        kernel_running=None,
        kernel_newest=None,
        packages=None,
        problems=tuple(problems),
        os_build=build[0] if build else None,
        os_name=build[1] if build else "",
    )
