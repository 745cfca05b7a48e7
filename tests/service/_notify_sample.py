"""Runs, postures and waivers for the notification tests: client acme, one hostile device."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from baluarte.findings import ErrorKind, Finding, Severity, Status
from baluarte.posture import posture_at
from baluarte.run import RunInfo, RunKind, RunRecord, RunState
from baluarte.service.notify.changes import ClientChanges, client_changes
from baluarte.waivers import Waiver, WaiverSet

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 02:00 in Madrid
T1 = T0 + timedelta(days=1)
NOW = T1 + timedelta(minutes=20)
# a device name as a hostile FortiGate could report it: markup, a terminal escape, a bidi
# override, a newline
HOSTILE = "<script>alert(1)</script>\x1b[2J\u202efw\nX"
SCOPE = {
    ("acme", "hq", "srv"): "linux",
    ("acme", "hq", HOSTILE): "fortigate",
    ("acme", "branch", "pc"): "windows",
    ("acme", "hq", "new-srv"): "linux",  # first observed by the second run
}
P, F, E = Status.PASS, Status.FAIL, Status.ERROR


def finding(
    device: str, control: str, status: Status, *, site: str = "hq", client: str = "acme", **kw
) -> Finding:
    fields: dict[str, object] = {
        "client": client,
        "site": site,
        "device": device,
        "platform": {"srv": "linux", "pc": "windows"}.get(device, "fortigate"),
        "control": control,
        "status": status,
        "severity": Severity.HIGH,
    }
    if status is E:
        fields["error_kind"] = ErrorKind.UNREADABLE
        fields["reason"] = "device unreachable: connection refused"
    fields.update(kw)
    return Finding.model_validate(fields)


def run(run_id: int, at: datetime, findings: list[Finding]) -> RunRecord:
    info = RunInfo(
        id=run_id, kind=RunKind.CHECK, state=RunState.COMPLETE, started_at=at, operator="ana",
        tool_version="0.1.0", inventory_sha256="1" * 64,
    )  # fmt: skip
    return RunRecord(info=info, findings=tuple(findings))


def first_run() -> RunRecord:
    return run(
        1,
        T0,
        [
            finding("srv", "patching.security_updates_pending", P, observed="0 pending"),
            finding("srv", "access.ssh_root_login", P),
            finding("srv", "firewall.enabled", F, observed="inactive"),
            finding(HOSTILE, "firewall.no_any_any_accept", P),
            finding(HOSTILE, "backup.config_saved", P),
            finding("pc", "firewall.enabled", P, site="branch"),
        ],
    )


def second_run() -> RunRecord:
    """srv drifts on two controls (one with a hostile observed value); the hostile FortiGate
    drifts; pc cannot be read; a new device appears failing."""
    return run(
        2,
        T1,
        [
            finding(
                "srv",
                "patching.security_updates_pending",
                F,
                severity=Severity.CRITICAL,
                expected="0 pending",
                observed="3 pending: <b>openssl</b> & \x07bash",
            ),
            finding("srv", "access.ssh_root_login", F, observed="yes"),
            finding("srv", "firewall.enabled", F, observed="inactive"),  # failed before too
            finding(
                HOSTILE,
                "firewall.no_any_any_accept",
                F,
                observed="policy <img src=x onerror=alert(1)>",
            ),
            finding(HOSTILE, "backup.config_saved", P),
            finding("pc", "firewall.enabled", E, site="branch"),
            finding("new-srv", "access.ssh_root_login", F),
        ],
    )


def waivers(today: date) -> WaiverSet:
    def w(**kw) -> Waiver:
        base = {"control": "patching.reboot_required", "reason": "change freeze <b>Q4</b>",
                "approved_by": "María López", "ticket": "CHG-12"}  # fmt: skip
        return Waiver.model_validate(base | kw)

    return WaiverSet(
        waivers=(
            w(client="acme", expires=today + timedelta(days=3)),
            w(client="acme", expires=today + timedelta(days=14), control="backup.encrypted"),
            w(client="acme", expires=today + timedelta(days=15)),  # outside the window
            w(client="acme", expires=today - timedelta(days=1)),  # expired already
            w(client="other", expires=today + timedelta(days=2)),  # someone else's
            w(site="branch", expires=today, control="firewall.enabled"),  # acme's by its site
        )
    )


def sample_changes(now: datetime = NOW) -> ClientChanges:
    runs = [first_run(), second_run()]
    before = posture_at(runs[:1], None, SCOPE)
    after = posture_at(runs, None, SCOPE)
    today = now.date()
    return client_changes("acme", before, after, waivers(today), now=now, run_id=2)
