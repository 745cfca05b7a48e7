"""Build ``bl_daemons`` output (the ``procs`` field) for unit tests, in the format a lab host
prints (see the recorded samples): one tab-separated line a process, then the owners."""

from __future__ import annotations

# where each engine's genuine program lives, and the package that ships it ("" = none)
GENUINE: dict[str, tuple[str, str, str]] = {  # name: (program, package, user)
    "clamd": ("/usr/sbin/clamd", "clamav-daemon", "clamav"),
    "clamonacc": ("/usr/sbin/clamonacc", "clamav-daemon", "root"),
    "wdavdaemon": ("/opt/microsoft/mdatp/sbin/wdavdaemon", "mdatp", "root"),
    "sophos_watchdog": ("/opt/sophos-spl/base/bin/sophos_watchdog", "", "root"),
    "soapd": ("/opt/sophos-spl/plugins/av/sbin/soapd", "", "root"),
    "falcon-sensor": ("/opt/CrowdStrike/falcon-sensor", "falcon-sensor", "root"),
    "falcond": ("/opt/CrowdStrike/falcond", "falcon-sensor", "root"),
    "rsyslogd": ("/usr/sbin/rsyslogd", "rsyslog", "root"),
    "chronyd": ("/usr/sbin/chronyd", "chrony", "_chrony"),
    "ntpd": ("/usr/sbin/ntpd", "ntpsec", "ntpsec"),
    "syslog-ng": ("/usr/sbin/syslog-ng", "syslog-ng-core", "root"),
}
_UIDS = {"root": 0, "clamav": 101, "_chrony": 100, "ntpsec": 104, "nobody": 65534, "alice": 1000}


def proc(
    pid: int,
    name: str,
    exe: str,
    user: str = "root",
    *,
    image: str | None = None,
    file: str | None = None,
    directory: str = "directory|57:2 0 755",
) -> str:
    """One process line; ``image`` and ``file`` default to the same root-owned 0755 file."""
    stat = f"regular file|57:{pid + 1000} 0 755"
    image = stat if image is None else image
    file = stat if file is None else file
    uid = _UIDS.get(user, 1001)
    return (
        f"pid={pid}\tcomm={name}\tuid={uid}\tuser={user}\timage={image}"
        f"\tfile={file}\tdir={directory}\texe={exe}"
    )


def table(*lines: str, owners: tuple[str, ...] = (), db: str = "dpkg", rc: int = 0) -> dict:
    """The ``procs`` field: process lines, then ``@@owners DB`` and "package: path" lines."""
    return {"out": "\n".join([*lines, f"@@owners {db}", *owners]), "rc": rc}


def genuine(*names: str, first_pid: int = 100) -> dict:
    """Each named engine running as itself, from its product's program."""
    lines, owners = [], []
    for i, name in enumerate(names):
        exe, package, user = GENUINE[name]
        lines.append(proc(first_pid + i, name, exe, user))
        if package:
            owners.append(f"{package}: {exe}")
    return table(*lines, owners=tuple(owners))
