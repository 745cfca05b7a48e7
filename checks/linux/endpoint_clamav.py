"""ClamAV on Linux: clamd, clamonacc (on-access) and the database headers (linux-checks.md §3.1).

The age of the signatures is the build time written in the ``daily`` database's CVD/CLD header,
never the file's mtime (a copy or a restore changes the mtime, not what is inside).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from checks.facts.endpoint import ProductStatus
from checks.linux.daemons import Daemon
from checks.linux.endpoint_services import Services
from checks.linux.raw import field

__all__ = ["parse_clamav", "parse_cvd_header"]

_UNITS = ("clamav-daemon.service", "clamav-daemon.socket", "clamd@scan.service", "clamd.service")
_ONACC_UNITS = ("clamav-clamonacc.service",)
# Debian: clamav-daemon, user clamav; RHEL (EPEL): clamd, user clamscan (clamd@scan); a build
# from source installs into /usr/local (counted when only root can write there)
_PACKAGES = ("clamav-daemon", "clamd", "clamav")
_LOCAL = ("/usr/local/sbin/", "/usr/local/bin/")
CLAMD = Daemon("ClamAV's daemon", ("clamd",), _PACKAGES, ("clamav", "clamscan"), _LOCAL)
CLAMONACC = Daemon("ClamAV's on-access scanner", ("clamonacc",), _PACKAGES, (), _LOCAL)
# the include settings that give clamonacc something to watch (OnAccessPrefix: old spelling)
_WATCH = ("OnAccessIncludePath", "OnAccessMountPath", "OnAccessPrefix")


def parse_cvd_header(header: str) -> tuple[datetime, int | None] | None:
    """``ClamAV-VDB:<date>:<version>:<sigs>:<level>:<md5>:<dsig>:<builder>:<epoch>`` →
    (build time, version); the epoch field is preferred, the text date is the fallback."""
    parts = header.strip().split(":")
    if len(parts) < 3 or parts[0] != "ClamAV-VDB":
        return None
    version = int(parts[2]) if parts[2].strip().isdigit() else None
    epoch = parts[8].strip() if len(parts) > 8 else ""
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC), version
    try:  # the time is written 05-53 because ':' is the separator
        return datetime.strptime(parts[1].strip(), "%d %b %Y %H-%M %z"), version
    except ValueError:
        return None


def _config(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        key, _, value = line.strip().partition(" ")
        settings.setdefault(key, []).append(value.strip())
    return settings


def _signatures(
    raw: dict[str, Any], now: datetime | None
) -> tuple[datetime | None, float | None, str, list[str]]:
    problems: list[str] = []
    db = field(raw, "clamdb")
    if db is None:
        return None, None, "", ["the ClamAV database directory was not read"]
    text, rc = db
    lines = text.splitlines()
    directory = lines[0].removeprefix("dir ") if lines and lines[0].startswith("dir ") else "?"
    if rc != 0:
        return None, None, "", [f"cannot read the ClamAV database directory {directory}"]
    headers: dict[str, datetime] = {}
    versions: dict[str, int | None] = {}
    for line in lines:
        if line.startswith("header "):
            _, name, header = line.split(" ", 2) if line.count(" ") >= 2 else (line, "", "")
            parsed = parse_cvd_header(header)
            if parsed is None:
                problems.append(f"{name}: unreadable CVD header")
                continue
            headers[name], versions[name] = parsed
    daily = {n: t for n, t in headers.items() if n.split(".")[0] == "daily"}
    if not daily:
        others = ", ".join(sorted(headers)) or "no .cvd/.cld databases"
        detail = f"no daily database in {directory} ({others}): freshclam has never updated it"
        return None, None, detail, problems
    name, built = max(daily.items(), key=lambda item: item[1])
    age = round((now - built).total_seconds() / 86400, 2) if now else None
    if now is None:
        problems.append("the device clock could not be read")
    version = versions.get(name)
    detail = f"{directory}/{name} built {built:%Y-%m-%d %H:%M} UTC" + (
        f" (version {version})" if version else ""
    )
    return built, age, detail, problems


def parse_clamav(
    raw: dict[str, Any],
    packages: dict[str, str],
    paths: set[str],
    services: Services,
    now: datetime | None,
) -> ProductStatus:
    pkgs = {p: v for p, v in packages.items() if p in ("clamav", "clamav-daemon", "clamd")}
    binaries = sorted(p for p in paths if p.rsplit("/", 1)[-1] in ("clamd", "clamscan"))
    installed = bool(pkgs or binaries)
    seen = [f"package {p} {v}" for p, v in sorted(pkgs.items())] + binaries
    if not installed:
        return ProductStatus(
            product="clamav",
            installed=False,
            installed_detail="no clamav package, clamd or clamscan",
        )
    version = pkgs.get("clamav-daemon") or pkgs.get("clamd") or pkgs.get("clamav")
    has_daemon = any(p.endswith("/clamd") for p in paths) or "clamav-daemon" in pkgs
    conf = field(raw, "clamconf")
    settings = _config(conf[0]) if conf and conf[1] == 0 else None
    user = tuple((settings or {}).get("User", [])[-1:])  # clamd switches to it after starting
    running, run_detail = services.running(CLAMD, _UNITS, user)
    enabled, en_detail = services.enabled(_UNITS)
    if not has_daemon and running is False:
        run_detail = "clamd (the scanning daemon) is not installed: on-demand clamscan only"
    problems: list[str] = []
    if settings is None:
        realtime: bool | None = None if conf and conf[0].strip() != "absent" else False
        rt_detail = "clamd.conf not found" if realtime is False else "clamd.conf unreadable"
        if realtime is None:
            problems.append(rt_detail)
    else:
        realtime, rt_detail = _realtime(settings, services, (running, run_detail))
    built, age, sig_detail, sig_problems = _signatures(raw, now)
    return ProductStatus(
        product="clamav",
        installed=True,
        installed_detail=", ".join(seen),
        version=version,
        running=running,
        enabled=enabled,
        running_detail=f"{run_detail}; {en_detail}",
        realtime=realtime,
        realtime_detail=rt_detail,
        signatures_built=built,
        signature_age_days=age,
        signatures_detail=sig_detail,
        problems=tuple(problems + sig_problems),
    )


def _realtime(
    settings: dict[str, list[str]], services: Services, clamd_running: tuple[bool | None, str]
) -> tuple[bool | None, str]:
    """On-access needs clamonacc (ClamAV ≥ 0.102), something to watch, and clamd to scan."""
    watched = [f"{k} {v}" for k in _WATCH for v in settings.get(k, [])]
    clamonacc, oa_detail = services.running(CLAMONACC, _ONACC_UNITS)
    clamd, clamd_detail = clamd_running
    if not watched:
        legacy = settings.get("ScanOnAccess", [])
        note = " (ScanOnAccess is ignored since ClamAV 0.102)" if legacy else ""
        return False, f"no OnAccessIncludePath/OnAccessMountPath in clamd.conf{note}"
    where = "; ".join(watched)
    if clamonacc is None:
        return None, f"{where}; {oa_detail}"
    if not clamonacc:
        return False, f"{where}, but {oa_detail}"
    if clamd is None:
        return None, f"{where} and clamonacc running; {clamd_detail}"
    if not clamd:
        return False, f"{where} and clamonacc running, but clamd is not (nothing scans)"
    return True, f"clamonacc and clamd running; {where}"
