"""Whether an endpoint product's engine runs and starts at boot, from what ``endpoint.sh`` read.

Lab hosts and many containers have no systemd as PID 1, so "running" comes from the host's own
process table and "enabled" from the init configuration on disk (unit symlinks in
``/etc/systemd/system/*.wants``, SysV ``/etc/rc?.d/S*`` links). When systemd is PID 1, its own
``ActiveState``/``UnitFileState``/``MainPID`` are read too and take part in both answers.
A process counts by its identity, never its name alone (``checks/linux/daemons.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from checks.linux.daemons import Daemon, ProcessTable, daemon_running, parse_units
from checks.linux.raw import field as read_field

__all__ = ["Services"]


_SYSV = re.compile(r"^S\d\d")


@dataclass(frozen=True)
class Services:
    processes: ProcessTable | None  # the engines' processes; None: table unreadable
    links: tuple[str, ...] = ()  # enabling symlinks found
    masked: tuple[str, ...] = ()
    init_dirs: tuple[str, ...] = ()  # /etc/systemd/system, /etc/rc2.d: where "enabled" lives
    systemd: dict[str, dict[str, str]] = field(default_factory=dict)  # unit -> properties

    @classmethod
    def from_raw(cls, raw: dict[str, Any], reader_uid: str = "") -> Services:
        procs = read_field(raw, "procs")
        processes = ProcessTable.parse(*procs, reader_uid) if procs else None
        links: list[str] = []
        masked: list[str] = []
        dirs: list[str] = []
        for line in (read_field(raw, "links") or ("", 0))[0].splitlines():
            if line.startswith("dir "):
                dirs.append(line[4:])
            elif line.startswith("masked "):
                masked.append(line[7:].rsplit("/", 1)[-1])
            elif line.strip():
                links.append(line.strip())
        sd = read_field(raw, "systemd")
        units = parse_units(sd[0]) if sd and sd[1] == 0 else {}
        return cls(processes, tuple(links), tuple(masked), tuple(dirs), units)

    def _unit_links(self, units: tuple[str, ...]) -> list[str]:
        found = []
        for link in self.links:
            name = link.rsplit("/", 1)[-1]
            if "/rc" in link and ".d/" in link:
                name = _SYSV.sub("", name)
                if any(u.split(".")[0] == name for u in units):
                    found.append(link)
            elif name in units:
                found.append(link)
        return found

    def running(
        self, daemon: Daemon, units: tuple[str, ...], users: tuple[str, ...] = ()
    ) -> tuple[bool | None, str]:
        """The genuine ``daemon`` alive, or one of ``units`` active with it as main process.
        ``users``: accounts the product's configuration says it runs as."""
        return daemon_running(daemon, self.processes, self.systemd, units, users)

    def enabled(self, units: tuple[str, ...]) -> tuple[bool | None, str]:
        """Any of ``units`` enabled at boot (and not masked)."""
        masked = [u for u in units if u in self.masked]
        states = {u: self.systemd[u].get("UnitFileState", "") for u in units if u in self.systemd}
        on = [u for u, s in states.items() if s in ("enabled", "enabled-runtime", "static")]
        links = self._unit_links(units)
        if masked and not on:
            return False, f"{', '.join(masked)} masked"
        if on:
            return True, f"systemd: {', '.join(on)} enabled"
        # systemd decides what starts at boot: a unit it calls disabled or masked (a runtime
        # mask lives in /run) does not start, whatever links are left in *.wants or rc?.d;
        # only a SysV script's generated unit is judged by its links
        known = {u: s for u, s in states.items() if s}
        if known and all(s in ("disabled", "masked", "masked-runtime") for s in known.values()):
            shown = ", ".join(f"{u} {s}" for u, s in known.items())
            return False, f"systemd: {shown}"
        if links:
            more = f" and {len(links) - 2} more" if len(links) > 2 else ""
            return True, f"enabled by {', '.join(links[:2])}{more}"
        if not self.init_dirs and not self.systemd:
            return None, "no systemd or SysV init configuration found to tell"
        return (
            False,
            f"{' / '.join(units)} not enabled at boot (checked {', '.join(self.init_dirs)})",
        )
