"""Parse what ``patching.sh`` fetched into PatchFacts (pure).

This module reads the Debian/Ubuntu (apt) half; a dnf or yum host goes to ``patching_dnf``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timezone
from typing import Any

from checks.facts.patching import AutoUpdates, PatchFacts, PendingUpdate, RebootState
from checks.linux import patching_dnf
from checks.linux.raw import epoch, out, utc_offset
from checks.versions import newest

__all__ = ["is_security_origin", "parse", "parse_history", "parse_simulate"]

_INST = re.compile(
    r"^Inst (?P<name>\S+)(?: \[(?P<installed>[^\]]*)\])? "
    r"\((?P<candidate>\S+) (?P<origins>.*?)(?: \[(?P<arch>[^\]]+)\])?\)"
)


def is_security_origin(origin: str) -> bool:
    """``Label:Version/Archive``: security when the archive ends in -security (any release name)."""
    return origin.split("/")[-1].endswith("-security") or origin.startswith("Debian-Security:")


def parse_simulate(text: str) -> tuple[PendingUpdate, ...]:
    """``apt-get -s dist-upgrade`` → pending updates, one per ``Inst`` line."""
    pending: list[PendingUpdate] = []
    for line in text.splitlines():
        m = _INST.match(line)
        if not m:
            continue
        origins = tuple(o.strip() for o in m["origins"].split(", ") if o.strip())
        pending.append(
            PendingUpdate(
                name=m["name"],
                installed=m["installed"],
                candidate=m["candidate"],
                origins=origins,
                security=any(is_security_origin(o) for o in origins),
            )
        )
    return tuple(pending)


def parse_history(text: str, tz: timezone) -> datetime | None:
    """The end of the newest apt run that upgraded packages without error (dry runs skipped)."""
    newest_end: datetime | None = None
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in block.strip().splitlines():
            key, _, value = line.partition(": ")
            fields[key] = value.strip()
        if fields.get("Upgrade") != "yes" or "Error" in fields:
            continue
        if "--dry-run" in fields.get("Commandline", ""):
            continue  # unattended-upgrade --dry-run writes history although it installs nothing
        stamp = fields.get("End-Date") or fields.get("Start-Date")
        if not stamp:
            continue
        try:
            when = datetime.strptime(re.sub(r"\s+", " ", stamp), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            continue
        when = when.replace(tzinfo=tz)
        if newest_end is None or when > newest_end:
            newest_end = when
    return newest_end


def _dpkg_log(text: str, tz: timezone) -> datetime | None:
    line = text.strip().splitlines()[-1:] if text.strip() else []
    if not line:
        return None
    try:
        return datetime.strptime(line[0][:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
    except ValueError:
        return None


def _auto_updates(config: str, installed: bool) -> AutoUpdates:
    periodic: dict[str, str] = {}
    patterns: list[str] = []
    for line in config.splitlines():
        key, _, value = line.partition(" ")
        value = value.strip().rstrip(";").strip('"')
        if key.startswith("APT::Periodic::"):
            periodic[key.removeprefix("APT::Periodic::")] = value
        elif key.startswith(
            ("Unattended-Upgrade::Origins-Pattern", "Unattended-Upgrade::Allowed-Origins")
        ):
            patterns.append(value)
    enabled = installed and periodic.get("Unattended-Upgrade", "0") not in ("0", "")
    lists = periodic.get("Update-Package-Lists", "0") not in ("0", "")
    security = any("security" in p.lower() for p in patterns)
    detail = (
        f"unattended-upgrades {'installed' if installed else 'not installed'}; "
        f"APT::Periodic::Unattended-Upgrade={periodic.get('Unattended-Upgrade', 'unset')}; "
        f"APT::Periodic::Update-Package-Lists={periodic.get('Update-Package-Lists', 'unset')}; "
        f"security origin {'targeted' if security else 'not targeted'}"
    )
    return AutoUpdates(
        tool="unattended-upgrades",
        installed=installed,
        enabled=enabled and lists,
        security_origin=security,
        detail=detail,
    )


def _packages(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].startswith("ii"):
            out[parts[0]] = parts[1]
    return out


def _reboot(
    reboot_file: str, needrestart: str, needrestart_rc: int, kernels_newer: bool | None
) -> RebootState:
    reasons: list[str] = []
    since: datetime | None = None
    sources: list[str] = []
    lines = reboot_file.strip().splitlines()
    if lines and lines[0] != "absent":
        since = epoch(lines[0])
        reasons.extend(f"package {p}" for p in lines[1:] if p.strip())
        if not lines[1:]:
            reasons.append("/var/run/reboot-required present")
        sources.append("reboot-required file")
    kernel_known = False
    if needrestart_rc == 0:
        sources.append("needrestart")
        status = dict(line.split(": ", 1) for line in needrestart.splitlines() if ": " in line)
        # KSTA 0 means needrestart could not tell (containers, no /boot): not "no reboot"
        kernel_known = status.get("NEEDRESTART-KSTA", "0") != "0"
        if status.get("NEEDRESTART-KSTA") in ("2", "3"):
            expected = status.get("NEEDRESTART-KEXP", "a newer kernel")
            reasons.append(
                f"kernel {status.get('NEEDRESTART-KCUR', '?')} running, {expected} installed"
            )
    if not kernel_known and kernels_newer is not None:
        sources.append("kernel comparison")
        if kernels_newer:
            reasons.append("a newer kernel is installed than the one running")
    return RebootState(
        required=bool(reasons), since=since, reasons=tuple(reasons), source=", ".join(sources)
    )


def parse(raw: dict[str, Any], host: dict[str, Any]) -> PatchFacts:
    """``raw`` is the document's ``patching`` member, ``host`` its ``host`` member."""
    manager = out(raw, "manager")[0].strip()
    if manager in ("dnf", "yum"):
        return patching_dnf.parse(raw, host)
    if manager != "apt":
        problem = (
            "no supported package manager found (neither apt-get with dpkg-query, nor dnf or yum)"
        )
        return PatchFacts(
            package_manager=None,
            pending=None,
            last_update=None,
            automatic_updates=None,
            reboot=None,
            kernel_running=None,
            kernel_newest=None,
            packages=None,
            problems=(problem,),
            history_read=False,
        )
    problems: list[str] = []
    clock, _ = out(host, "clock")
    clock_lines = clock.split()
    tz = utc_offset(clock_lines[1]) if len(clock_lines) > 1 else UTC

    text, rc = out(raw, "simulate")
    pending: tuple[PendingUpdate, ...] | None = None
    if rc == 0:
        pending = parse_simulate(text)
    else:
        tail = " / ".join(text.strip().splitlines()[-2:])
        problems.append(f"apt-get -s dist-upgrade failed (exit {rc}): {tail}")

    history, history_rc = out(raw, "history")
    last = parse_history(history, tz)
    source = "apt history" if last else ""
    dpkg_text, _ = out(raw, "dpkg_log")
    from_dpkg = _dpkg_log(dpkg_text, tz)
    if from_dpkg and (last is None or from_dpkg > last):
        last, source = from_dpkg, "dpkg log"
    stamps, _ = out(raw, "stamps")
    for line in stamps.splitlines():
        path, _, seconds = line.rpartition(" ")
        if path.endswith("/upgrade-stamp"):  # touched only after a successful unattended run
            when = epoch(seconds)
            if when and (last is None or when > last):
                last, source = when, "unattended-upgrades stamp"

    packages_text, packages_rc = out(raw, "packages")
    packages = _packages(packages_text) if packages_rc == 0 else None
    if packages is None:
        problems.append(f"dpkg-query failed (exit {packages_rc})")

    config, _ = out(raw, "apt_config")
    auto = _auto_updates(config, packages is not None and "unattended-upgrades" in packages)

    kernels = {
        name.removeprefix("linux-image-"): version
        for name, version in (packages or {}).items()
        if re.match(r"linux-image-\d", name)
    }
    running_text, _ = out(raw, "running")
    running_lines = running_text.splitlines()
    running = running_lines[0].strip() if running_lines else None
    newest_version = newest(list(kernels.values())) if kernels else None
    kernel_newest = next((k for k, v in kernels.items() if v == newest_version), None)
    running_version = kernels.get(running) if running else None
    kernels_newer: bool | None = None
    if kernel_newest and running:
        kernels_newer = kernel_newest != running

    reboot_text, _ = out(raw, "reboot_file")
    nr_text, nr_rc = out(raw, "needrestart")
    reboot = _reboot(reboot_text, nr_text, nr_rc, kernels_newer)

    lists, _ = out(raw, "lists")
    lists_at = epoch(lists)
    now_at = epoch(clock_lines[0]) if clock_lines else None
    lists_age = (
        round((now_at - lists_at).total_seconds() / 3600, 1) if lists_at and now_at else None
    )

    return PatchFacts(
        package_manager="apt",
        pending=pending,
        last_update=last,
        last_update_source=source,
        history_read=history_rc == 0,
        automatic_updates=auto,
        reboot=reboot,
        kernel_running=running,
        kernel_newest=kernel_newest,
        kernel_running_version=running_version,
        kernel_newest_version=newest_version,
        packages=packages,
        lists_age_hours=lists_age,
        problems=tuple(problems),
    )
