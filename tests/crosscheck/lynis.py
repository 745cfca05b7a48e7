"""Lynis inside a lab host, limited to the tests the compared rows need.

``lynis audit system`` writes /var/log/lynis-report.dat: ``warning[]=TEST|text|details|…``,
``suggestion[]=…`` and ``key=value`` lines, and ``tests_executed=A|B|…``. A row's verdict is
``fail`` when one of its tests warned or suggested about the row's subject, ``pass`` when the
test ran and did not, ``skipped`` when Lynis did not run it (its prerequisites were not met),
``—`` when Lynis has no test for the row. Lynis runs only the compared tests and their
prerequisites (``--tests``, no plugins) from the groups that hold them (``--tests-from-group``),
with its default profile, which refreshes the apt lists before PKGS-7392
(``refresh-repositories=yes``): the matrix runs it after OpenSCAP and Baluarte, so they see the
host as the state left it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from baluarte.lab.systemd_hosts import SystemdHost
from tests.crosscheck.rows import ROWS, Row

__all__ = ["LynisReport", "parse_report", "run_lynis", "verdict"]

# The compared tests and the ones that set their prerequisites (sshd running and its version,
# iptables/nftables present, syslog daemon running, inetd installed).
PREREQUISITES = (
    "SSH-7402", "SSH-7404", "SSH-7406", "FIRE-4502", "FIRE-4536", "FIRE-4540",
    "LOGG-2130", "LOGG-2230", "INSE-8000",
)  # fmt: skip
# The Lynis groups (include/tests_*) of those tests, in Lynis's own order. Without a group list
# Lynis reads every group and registers each of its ~300 tests (several processes each) only to
# skip it: half its run. Outside these groups no test would run anyway (--tests); run_lynis
# fails if a test of ours is in none of them.
GROUPS = (
    "authentication", "ports_packages", "firewalls", "ssh", "logging", "insecure_services", "time",
)  # fmt: skip


@dataclass
class LynisReport:
    findings: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # kind, test, text, details
    values: dict[str, list[str]] = field(default_factory=dict)
    executed: set[str] = field(default_factory=set)

    def about(self, test: str, needle: str = "") -> list[str]:
        """Warnings and suggestions of ``test`` whose text or details mention ``needle``."""
        return [
            f"{kind} {t}: {text}" + (f" ({details})" if details not in ("", "-") else "")
            for kind, t, text, details in self.findings
            if t == test and needle.lower() in f"{text} {details}".lower()
        ]


def parse_report(text: str) -> LynisReport:
    report = LynisReport()
    for line in text.splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        if key in ("warning[]", "suggestion[]"):
            parts = [*value.split("|"), "", "", ""]
            report.findings.append((key[:-2], parts[0], parts[1], parts[2]))
        elif key == "tests_executed":
            report.executed = {t for t in value.split("|") if t}
        else:
            report.values.setdefault(key.removesuffix("[]"), []).append(value)
    return report


def run_lynis(host: SystemdHost) -> tuple[LynisReport, float]:
    """The parsed report of a Lynis run on ``host`` and its wall time in seconds."""
    tests = sorted({*PREREQUISITES, *(t for row in ROWS for t in row.lynis)})
    started = time.monotonic()
    host.run(
        f"lynis audit system --no-plugins --tests '{' '.join(tests)}'"
        f" --tests-from-group '{' '.join(GROUPS)}' --quick --no-colors --no-log >/dev/null 2>&1",
        timeout=300,
    )
    elapsed = time.monotonic() - started
    report = parse_report((host.root / "var/log/lynis-report.dat").read_text())
    # Lynis lists every test it registered as executed or skipped; one in neither was never read
    skipped = {t for value in report.values.get("tests_skipped", []) for t in value.split("|")}
    unseen = sorted(set(tests) - report.executed - skipped)
    if unseen:
        raise AssertionError(
            f"{host.name}: Lynis never saw {', '.join(unseen)}: add its group to lynis.GROUPS"
        )
    return report, elapsed


def _by_findings(report: LynisReport, tests: tuple[str, ...], needle: str) -> tuple[str, str]:
    ran = [t for t in tests if t in report.executed]
    if not ran:
        return "skipped", f"{', '.join(tests)} not run (prerequisites not met)"
    said = [line for t in ran for line in report.about(t, needle)]
    if said:
        return "fail", "; ".join(said)
    return "pass", f"{', '.join(ran)}: nothing reported"


def _remote_syslog(report: LynisReport) -> tuple[str, str]:
    if "LOGG-2154" not in report.executed:
        return "skipped", "LOGG-2154 not run (no syslog daemon running)"
    configured = report.values.get("remote_syslog_configured", ["?"])[-1]
    return ("pass" if configured == "1" else "fail"), f"remote_syslog_configured={configured}"


# Only findings that mention the row's subject count (SSH-7408 also suggests LogLevel…).
_NEEDLES = {
    "root_login": "PermitRootLogin",
    "security_updates": "vulnerable",
    "admin_accounts": "UID 0",
}
_SPECIAL: dict[str, Callable[[LynisReport], tuple[str, str]]] = {"remote_logging": _remote_syslog}


def verdict(row: Row, report: LynisReport) -> tuple[str, str]:
    """(verdict, detail) of ``row`` from a Lynis report; '—' when Lynis has no test for it."""
    if not row.lynis:
        return "—", "no test"
    special = _SPECIAL.get(row.id)
    if special is not None:
        return special(report)
    return _by_findings(report, row.lynis, _NEEDLES.get(row.id, ""))
