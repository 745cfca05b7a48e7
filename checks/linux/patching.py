"""Parse what ``patching.sh`` fetched into PatchFacts (pure).

This module reads the Debian/Ubuntu (apt) half; a dnf or yum host goes to ``patching_dnf``.

Pending updates are the simulation's ``Inst`` lines plus the upgrades it leaves out (held with
``apt-mark hold``, deferred by phasing, kept back): those are pending too, and their candidate
and origins come from a second simulation that ignores holds and phasing.

"A successful update installation" (``days_since_last_update``) is an apt run recorded in
``/var/log/apt/history.log*`` that upgraded packages and recorded no ``Error:`` (dry runs
skipped), or unattended-upgrades' ``upgrade-stamp``, which apt.systemd.daily touches only
when unattended-upgrade exits 0. dpkg.log is not read: an ``upgrade`` line there is one
package unpacked, by a failed apt run as much as by a manual ``dpkg -i``, and every libapt
front end (apt, aptitude, unattended-upgrades, PackageKit) writes apt's history anyway.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from checks.facts.patching import (
    AutoUpdates,
    KernelPackage,
    PackageLists,
    PatchFacts,
    PendingUpdate,
    RebootState,
)
from checks.linux import patching_dnf
from checks.linux.patching_kernel import (
    deb_flavour,
    kernel_fields,
    kernel_reboot_reason,
    parse_dpkg_owners,
)
from checks.linux.patching_sources import apt_sources, parse_container, parse_os_release
from checks.linux.raw import epoch, field, host_clock, out

__all__ = [
    "is_security_origin",
    "parse",
    "parse_history",
    "parse_left_out",
    "parse_simulate",
]

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


# apt-get's headers over the upgrades a dist-upgrade leaves out (apt 2.6 lists phased ones as
# kept back; Ubuntu's apt since 2.3 under their own header)
_LEFT_OUT = {
    "The following packages have been kept back:": "kept back",
    "The following upgrades have been deferred due to phasing:": "deferred by phasing",
}
_HELD = {"The following held packages will be changed:": "held"}
_SUMMARY = re.compile(r"^\d+ upgraded, \d+ newly installed, \d+ to remove and (\d+) not upgraded\.")


def _listed(text: str, headers: dict[str, str]) -> dict[str, str]:
    """Package names apt lists under ``headers`` (indented, wrapped) -> the header's word."""
    found: dict[str, str] = {}
    word = ""
    for line in text.splitlines():
        if line.rstrip() in headers:
            word = headers[line.rstrip()]
        elif word and line.startswith("  "):
            for name in line.split():
                found.setdefault(name, word)
        else:
            word = ""
    return found


def parse_left_out(
    simulate: str, held: tuple[str, int] | None
) -> tuple[tuple[PendingUpdate, ...], tuple[str, ...], str]:
    """The upgrades ``apt-get -s dist-upgrade`` leaves out, from ``pt_held``'s simulation of
    them with holds and phasing ignored: (those with candidate and origins, those whose could
    not be established, why not). Checked against the summary's "N not upgraded", so an
    upgrade left out under a header this parser does not know is never lost."""
    left_out = _listed(simulate, _LEFT_OUT)
    summary = next((m for line in simulate.splitlines() if (m := _SUMMARY.match(line))), None)
    why: list[str] = []
    unnamed = 0
    if summary is None:
        unnamed = 1
        why.append('apt-get -s dist-upgrade printed no "N not upgraded" summary')
    elif int(summary[1]) > len(left_out):
        unnamed = int(summary[1]) - len(left_out)
        why.append(
            f"apt-get -s dist-upgrade left {summary[1]} upgrades out but named {len(left_out)}"
        )
    if not left_out:
        return (), ("an upgrade apt did not name",) * unnamed, "; ".join(why)
    found: dict[str, PendingUpdate] = {}
    if held is None:
        why.append("the simulation of the upgrades left out was not run")
    elif held[1] != 0:
        tail = " / ".join(held[0].strip().splitlines()[-2:])
        why.append(f"simulating the upgrades left out failed (exit {held[1]}): {tail}")
    else:
        is_held = _listed(held[0], _HELD)
        for u in parse_simulate(held[0]):
            if u.name in left_out:
                kept = "held" if u.name in is_held else left_out[u.name]
                found[u.name] = u.model_copy(update={"kept": kept})
    unknown = [f"{name} ({word})" for name, word in left_out.items() if name not in found]
    if unknown and held is not None and held[1] == 0:
        why.append(f"apt would not say what it would install for {', '.join(unknown)}")
    unknown += ["an upgrade apt did not name"] * unnamed
    return tuple(found.values()), tuple(unknown), "; ".join(why)


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


def _needrestart_kernel(text: str, rc: int) -> tuple[bool, str | None, str]:
    """(whether needrestart knew the kernel state, the reason a reboot is needed, why not known)."""
    if rc != 0:
        return (
            False,
            None,
            "needrestart not installed" if rc == 127 else f"needrestart failed (exit {rc})",
        )
    status = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    ksta = status.get("NEEDRESTART-KSTA", "0")
    # KSTA 0 means needrestart could not tell (containers, no readable /boot): not "no reboot"
    if ksta not in ("1", "2", "3"):
        return False, None, f"needrestart could not tell the kernel state (NEEDRESTART-KSTA {ksta})"
    if ksta == "1":
        return True, None, ""
    expected = status.get("NEEDRESTART-KEXP", "a newer kernel")
    return True, f"kernel {status.get('NEEDRESTART-KCUR', '?')} running, {expected} installed", ""


def _reboot(reboot_file: str, needrestart: tuple[str, int], kernel: dict[str, Any]) -> RebootState:
    reasons: list[str] = []
    since: datetime | None = None
    sources: list[str] = []
    unknown: list[str] = []
    lines = reboot_file.strip().splitlines()
    if lines and lines[0] != "absent":
        since = epoch(lines[0])
        reasons.extend(f"package {p}" for p in lines[1:] if p.strip())
        if not lines[1:]:
            reasons.append("/var/run/reboot-required present")
        sources.append("reboot-required file")
    else:
        # Debian writes it only from unattended-upgrades' kernel hook: absence proves nothing
        unknown.append("/var/run/reboot-required absent (no evidence either way)")
    for name, (known, reason, why) in (
        ("needrestart", _needrestart_kernel(*needrestart)),
        ("kernel comparison", kernel_reboot_reason(kernel, "deb")),
    ):
        if known:
            sources.append(name)
            if reason:
                reasons.append(reason)
        else:
            unknown.append(why)
    return RebootState(
        required=bool(reasons),
        since=since,
        reasons=tuple(reasons),
        source=", ".join(sources),
        unknown="" if sources else "; ".join(unknown),
    )


def parse(raw: dict[str, Any], host: dict[str, Any]) -> PatchFacts:
    """``raw`` is the document's ``patching`` member, ``host`` its ``host`` member."""
    manager = out(raw, "manager")[0].strip()
    if manager in ("dnf", "yum"):
        return patching_dnf.parse(raw, host)
    os_release = parse_os_release(out(host, "os_release")[0])
    container = parse_container(out(raw, "container")[0])
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
            package_sources=PackageLists(problem=problem),
            os_release=os_release,
            container=container,
        )
    problems: list[str] = []
    tz, _ = host_clock(host)

    text, rc = out(raw, "simulate")
    pending: tuple[PendingUpdate, ...] | None = None
    unclassified: tuple[str, ...] = ()
    if rc == 0:
        kept, unclassified, why = parse_left_out(text, field(raw, "held"))
        pending = parse_simulate(text) + kept
        if unclassified:
            problems.append(f"pending upgrades of unknown origin: {why}")
    else:
        tail = " / ".join(text.strip().splitlines()[-2:])
        problems.append(f"apt-get -s dist-upgrade failed (exit {rc}): {tail}")

    history, history_rc = out(raw, "history")
    last = parse_history(history, tz)
    source = "apt history" if last else ""
    unreadable = [line[len("@@unreadable ") :] for line in history.splitlines()
                  if line.startswith("@@unreadable ")]  # fmt: skip
    if unreadable or history_rc != 0:
        problems.append(
            f"the apt history could not be read: {', '.join(unreadable)}"
            if unreadable
            else f"reading the apt history failed (exit {history_rc})"
        )
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

    kernel = _kernel(raw, packages, problems)
    reboot = _reboot(out(raw, "reboot_file")[0], out(raw, "needrestart"), kernel)
    sources = apt_sources(out(raw, "targets"), out(raw, "releases"), "targets" in raw)

    return PatchFacts(
        package_manager="apt",
        pending=pending,
        unclassified=unclassified,
        last_update=last,
        last_update_source=source,
        history_read=history_rc == 0 and not unreadable,
        automatic_updates=auto,
        reboot=reboot,
        packages=packages,
        package_sources=sources,
        os_release=os_release,
        container=container,
        problems=tuple(problems),
        **kernel,
    )


def _kernel(
    raw: dict[str, Any], packages: dict[str, str] | None, problems: list[str]
) -> dict[str, Any]:
    """The kernel fields: the installed kernels by file ownership, the running one by uname."""
    running_lines = out(raw, "running")[0].splitlines()
    running = running_lines[0].strip() if running_lines else None
    uname_v = running_lines[1] if len(running_lines) > 1 else ""
    text, rc = out(raw, "kernels")
    kernels: list[KernelPackage] | None = None
    if packages is not None and rc in (0, 1):  # 1: no file matched, no kernel package
        kernels = parse_dpkg_owners(text, packages)
    elif packages is not None:
        problems.append(f"dpkg-query -S /boot/vmlinuz-* failed (exit {rc})")
    return kernel_fields(kernels, running, uname_v, "deb", deb_flavour(running or ""))
