"""Which of the logging and time daemons really run, from ``logging.sh``'s table (pure).

rsyslogd, syslog-ng, chronyd and ntpd are judged by identity (``checks/linux/daemons.py``):
a process with the right name but another program, user or namespace is not the daemon, and
the finding says what it is instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.linux.daemons import Daemon, ProcessTable, daemon_running, is_daemon, parse_units
from checks.linux.raw import out

__all__ = ["CHRONYD", "NTPD", "RSYSLOGD", "SYSLOG_NG", "Daemons", "read_daemons"]

# Ubuntu's rsyslogd drops to "syslog"; chronyd to _chrony (Debian) or chrony (RHEL); ntpd to
# ntp, or ntpsec with NTPsec (Debian 12's ntpd)
RSYSLOGD = Daemon("rsyslog's daemon", ("rsyslogd",), ("rsyslog",), ("syslog",))
SYSLOG_NG = Daemon("syslog-ng's daemon", ("syslog-ng",), ("syslog-ng-core", "syslog-ng"))
CHRONYD = Daemon("chrony's daemon", ("chronyd",), ("chrony",), ("_chrony", "chrony"))
NTPD = Daemon("the NTP daemon", ("ntpd",), ("ntp", "ntpsec"), ("ntp", "ntpsec"))
_UNITS = {
    "rsyslogd": ("rsyslog.service",),
    "syslog-ng": ("syslog-ng.service",),
    "chronyd": ("chrony.service", "chronyd.service"),
    "ntpd": ("ntp.service", "ntpsec.service", "ntpd.service"),
}
Verdict = tuple[bool | None, str]  # (runs: True, False or None = cannot tell; what was seen)


@dataclass(frozen=True)
class Daemons:
    rsyslogd: Verdict
    syslog_ng: Verdict
    chronyd: Verdict
    ntpd: Verdict
    # why the rsyslog configuration read may not be the daemon's own ("" when it is)
    rsyslog_source: str = ""

    def by_name(self) -> dict[str, Verdict]:
        return {"chronyd": self.chronyd, "ntpd": self.ntpd}


def read_daemons(raw: dict[str, Any], host: dict[str, Any]) -> Daemons | None:
    """None when the process table could not be read."""
    text, rc = out(raw, "procs")
    table = ProcessTable.parse(text, rc, out(host, "uid")[0])
    if table is None:
        return None
    units_text, units_rc = out(raw, "units")
    units = parse_units(units_text) if units_rc == 0 else {}

    def judge(daemon: Daemon, key: str) -> Verdict:
        return daemon_running(daemon, table, units, _UNITS[key])

    rsyslogd = judge(RSYSLOGD, "rsyslogd")
    source = ""
    pid_text = out(raw, "rsyslog_pid")[0].strip()
    if rsyslogd[0] is True and pid_text.isdigit():
        # the -f the configuration was read from must be the genuine daemon's
        ok, seen = is_daemon(RSYSLOGD, table, int(pid_text), units, _UNITS["rsyslogd"])
        if ok is False:
            source = (
                f"its configuration file was taken from process {pid_text}'s command line, "
                f"and {seen}"
            )
    return Daemons(
        rsyslogd=rsyslogd,
        syslog_ng=judge(SYSLOG_NG, "syslog-ng"),
        chronyd=judge(CHRONYD, "chronyd"),
        ntpd=judge(NTPD, "ntpd"),
        rsyslog_source=source,
    )
