"""End to end through the CLI: `baluarte check` against the WinRM/PSRP lab server.

The lab server runs in this process and answers Baluarte's check script from a state file;
`baluarte` runs as a subprocess with the real pypsrp client: NTLM over HTTP (message
encryption) and Basic over HTTPS (certificate verified against the lab's CA).
"""

from __future__ import annotations

import copy
import json
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from baluarte.lab.windows import Fault, WindowsLab
from baluarte.lab.windows.shipped import shipped_state
from tests.integration.cli import CANARY, assert_no_canary, baluarte, findings

ROOT = Path(__file__).resolve().parents[2]
BASELINE = (ROOT / "policies" / "windows-baseline.yaml").read_text()
WINDOWS_CONTROLS = sorted(
    {
        "patching.security_updates_pending",
        "patching.updates_pending",
        "patching.days_since_last_update",
        "patching.automatic_updates",
        "patching.reboot_required",
        "patching.minimum_versions",
        "firewall.enabled",
        "firewall.default_inbound_deny",
        "firewall.allowed_inbound",
        "endpoint.installed",
        "endpoint.running",
        "endpoint.realtime_protection",
        "endpoint.signatures_current",
        "endpoint.tamper_protection",
        "endpoint.disk_encryption",
        "backup.configured",
        "backup.last_success_age",
        "backup.encrypted",
        "access.admin_accounts",
        "access.password_policy",
        "access.insecure_admin_protocols",
        "logging.time_sync",
    }
)
USER = "baluarte"
TRANSPORTS = {
    "ntlm-http": {"auth": "ntlm", "https": False},
    "basic-https": {"auth": "basic", "https": True},
}


def winrm_settings(lab: WindowsLab, transport: str, **extra: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "user": USER,
        "password": "env:BALUARTE_TEST_CANARY",
        **TRANSPORTS[transport],
    }
    if settings["https"]:
        settings["ca_bundle"] = str(lab.ca_path)
    settings.update(extra)
    return settings


def write_inputs(tmp: Path, hosts: dict[str, tuple[WindowsLab, dict[str, Any]]]) -> Path:
    """inventory.yaml (client acme, site hq), the shipped Windows baseline, no waivers."""
    lines = [
        "clients:",
        "  - name: acme",
        "    legal_name: ACME Asesores S.L.",
        "    sites:",
        "      - name: hq",
        "        devices:",
    ]
    for name, (lab, settings) in hosts.items():
        lines += [
            f"          - name: {name}",
            "            platform: windows",
            f"            address: {lab.host}",
            f"            port: {lab.port}",
            "            tags: [workstation]",
            "            winrm:",
            *(f"              {k}: {json.dumps(v)}" for k, v in settings.items()),
        ]
    (tmp / "inventory.yaml").write_text("\n".join(lines) + "\n")
    (tmp / "policies").mkdir(exist_ok=True)
    (tmp / "policies" / "windows-baseline.yaml").write_text(BASELINE)
    (tmp / "waivers.yaml").write_text("waivers: []\n")
    return tmp


def check(tmp: Path) -> subprocess.CompletedProcess[str]:
    return baluarte(tmp, "check", "--format", "json")


def statuses(result: subprocess.CompletedProcess[str], device: str) -> dict[str, str]:
    return {c: f["status"] for (d, c), f in findings(result).items() if d == device}


def lab(state: dict[str, Any], transport: str) -> WindowsLab:
    options = TRANSPORTS[transport]
    return WindowsLab(state, users={USER: CANARY}, auth=options["auth"], https=options["https"])


@pytest.fixture(scope="module")
def office_ntlm() -> Iterator[WindowsLab]:
    with lab(shipped_state("office-pc"), "ntlm-http") as server:
        yield server


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_hardened_host_passes_every_control(tmp_path: Path, transport: str) -> None:
    with lab(shipped_state("hardened"), transport) as server:
        write_inputs(tmp_path, {"pc-admin": (server, winrm_settings(server, transport))})
        result = check(tmp_path)
        requests = len(server.requests)
    got = statuses(result, "pc-admin")
    assert sorted(got) == WINDOWS_CONTROLS
    assert {c: s for c, s in got.items() if s != "pass"} == {}, result.stdout[:3000]
    assert result.returncode == 0, result.stderr
    assert requests <= 12  # one pipeline: a handful of WS-Management calls, whatever the controls


# A typical office PC still has Defender (it ships with Windows, its engine runs) and a Veeam
# job; those three controls fail on the states below, each with its one weakness.
HEALTHY_ON_OFFICE_PC = {"endpoint.installed", "endpoint.running", "backup.configured"}


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_typical_office_pc_fails_every_control_it_is_weak_on(
    tmp_path: Path, transport: str
) -> None:
    with lab(shipped_state("office-pc"), transport) as server:
        write_inputs(tmp_path, {"pc-recepcion": (server, winrm_settings(server, transport))})
        result = check(tmp_path)
    got = statuses(result, "pc-recepcion")
    expected = {c: "pass" if c in HEALTHY_ON_OFFICE_PC else "fail" for c in WINDOWS_CONTROLS}
    assert got == expected, {c: f["observed"] for (_, c), f in findings(result).items()}
    assert result.returncode == 1


def _no_antimalware(checks: dict[str, Any]) -> None:
    checks["defender.status"]["data"] = {**checks["defender.status"]["data"], "Present": False}


def _defender_stopped(checks: dict[str, Any]) -> None:
    data = checks["defender.status"]["data"]
    data.update(AMRunningMode="Not running", AMServiceEnabled=False, AntivirusEnabled=False)


def _no_backup_job(checks: dict[str, Any]) -> None:
    data = checks["veeam.agent"]["data"]
    data.update(Jobs=[], LastJob=None, LastSuccess=None)


@pytest.mark.parametrize(
    ("weaken", "control"),
    [
        (_no_antimalware, "endpoint.installed"),
        (_defender_stopped, "endpoint.running"),
        (_no_backup_job, "backup.configured"),
    ],
    ids=["no-antimalware", "defender-stopped", "no-backup-job"],
)
def test_the_weakness_fails_its_control(tmp_path: Path, weaken: Any, control: str) -> None:
    state = copy.deepcopy(shipped_state("hardened"))
    weaken(state["output"]["checks"])
    with lab(state, "ntlm-http") as server:
        write_inputs(tmp_path, {"pc-admin": (server, winrm_settings(server, "ntlm-http"))})
        result = check(tmp_path)
    assert statuses(result, "pc-admin")[control] == "fail", findings(result)[("pc-admin", control)]


def test_wrong_password_is_an_error_for_that_host_only(
    tmp_path: Path, office_ntlm: WindowsLab
) -> None:
    with lab(shipped_state("hardened"), "ntlm-http") as good:
        write_inputs(
            tmp_path,
            {
                "pc-good": (good, winrm_settings(good, "ntlm-http")),
                "pc-bad": (
                    office_ntlm,
                    winrm_settings(office_ntlm, "ntlm-http", password="env:WRONG_PASSWORD"),
                ),
            },
        )
        result = baluarte(
            tmp_path, "check", "--format", "json", env={"WRONG_PASSWORD": "not-the-password-7"}
        )
    bad = {c: f for (d, c), f in findings(result).items() if d == "pc-bad"}
    assert {f["status"] for f in bad.values()} == {"error"}
    assert all("authentication refused" in f["reason"] for f in bad.values()), bad
    assert set(statuses(result, "pc-good").values()) == {"pass"}
    assert "not-the-password-7" not in result.stdout + result.stderr
    assert result.returncode == 3


def test_unreachable_host_is_an_error(tmp_path: Path, office_ntlm: WindowsLab) -> None:
    write_inputs(tmp_path, {"pc-gone": (office_ntlm, winrm_settings(office_ntlm, "ntlm-http"))})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inv = (
        (tmp_path / "inventory.yaml")
        .read_text()
        .replace(f"port: {office_ntlm.port}", f"port: {port}")
    )
    (tmp_path / "inventory.yaml").write_text(inv)
    result = check(tmp_path)
    got = findings(result)
    assert {f["status"] for f in got.values()} == {"error"}
    assert all("unreachable" in f["reason"] for f in got.values())
    assert result.returncode == 3


def test_certificate_of_another_ca_is_refused(tmp_path: Path) -> None:
    with (
        lab(shipped_state("hardened"), "basic-https") as server,
        lab(shipped_state("hardened"), "basic-https") as other,
    ):
        if other.ca_path.read_bytes() == server.ca_path.read_bytes():
            pytest.skip("both labs share one CA")
        settings = winrm_settings(server, "basic-https", ca_bundle=str(other.ca_path))
        write_inputs(tmp_path, {"pc-admin": (server, settings)})
        result = check(tmp_path)
    got = findings(result)
    assert {f["status"] for f in got.values()} == {"error"}
    assert all("certificate" in f["reason"].lower() for f in got.values()), got


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (
            Fault("wsman_fault", action="Create", code=5, reason="Access is denied.", times=None),
            "Access is denied",
        ),
        (
            Fault("ps_terminating", message="Get-CimInstance : Access denied", times=None),
            "Access denied",
        ),
        (
            Fault("bad_output", message="WARNING: profile loaded", times=None),
            "not Baluarte's JSON document",
        ),
    ],
    ids=["wsman-fault", "terminating-error", "not-the-contract"],
)
def test_faults_are_errors_with_their_reason(
    tmp_path: Path, office_ntlm: WindowsLab, fault: Fault, words: str
) -> None:
    write_inputs(
        tmp_path, {"pc-recepcion": (office_ntlm, winrm_settings(office_ntlm, "ntlm-http"))}
    )
    office_ntlm.faults.add(fault)
    try:
        result = check(tmp_path)
    finally:
        office_ntlm.faults.clear()
    got = findings(result)
    assert {f["status"] for f in got.values()} == {"error"}
    assert all(words in f["reason"] for f in got.values()), [f["reason"] for f in got.values()][:3]
    assert result.returncode == 3


def test_a_failed_check_errors_only_its_controls(tmp_path: Path) -> None:
    state = copy.deepcopy(shipped_state("hardened"))
    state["output"]["checks"]["bitlocker.volumes"] = {
        "ok": False,
        "error": "Get-BitLockerVolume : Access denied",
        "errorId": "HRESULT 0x80070005,Get-BitLockerVolume",
    }
    with lab(state, "ntlm-http") as server:
        write_inputs(tmp_path, {"pc-admin": (server, winrm_settings(server, "ntlm-http"))})
        result = check(tmp_path)
    got = statuses(result, "pc-admin")
    assert {c for c, s in got.items() if s == "error"} == {"endpoint.disk_encryption"}
    reason = findings(result)[("pc-admin", "endpoint.disk_encryption")]["reason"]
    assert "Access denied" in reason
    assert {s for c, s in got.items() if c != "endpoint.disk_encryption"} == {"pass"}


def test_a_host_echoing_the_password_in_an_error_never_gets_it_stored(tmp_path: Path) -> None:
    """A check that fails on the host with a message repeating the password Baluarte logged in
    with (as a careless script or a hostile host might): masked before it is kept."""
    state = copy.deepcopy(shipped_state("hardened"))
    state["output"]["checks"]["bitlocker.volumes"] = {
        "ok": False,
        "error": f"Get-BitLockerVolume : logon as {USER} with {CANARY} refused",
        "errorId": "HRESULT 0x80070005,Get-BitLockerVolume",
    }
    with lab(state, "ntlm-http") as server:
        write_inputs(tmp_path, {"pc-admin": (server, winrm_settings(server, "ntlm-http"))})
        result = check(tmp_path)
    reason = findings(result)[("pc-admin", "endpoint.disk_encryption")]["reason"]
    assert "with *** refused" in reason
    db = sqlite3.connect(tmp_path / "runs.db")
    dump = "\n".join(db.iterdump())
    db.close()
    assert CANARY not in dump


def test_the_password_never_reaches_store_or_reports(
    tmp_path: Path, office_ntlm: WindowsLab
) -> None:
    write_inputs(
        tmp_path, {"pc-recepcion": (office_ntlm, winrm_settings(office_ntlm, "ntlm-http"))}
    )
    result = check(tmp_path)
    assert_no_canary(result.stdout, result.stderr)
    db = sqlite3.connect(tmp_path / "runs.db")
    dump = "\n".join(db.iterdump())
    db.close()
    assert CANARY not in dump
    run_id = json.loads(result.stdout)["run"]["id"]
    report = baluarte(
        tmp_path, "report", str(run_id), "--format", "html", "-o", str(tmp_path / "r.html")
    )
    assert report.returncode == 0, report.stderr
    assert CANARY not in (tmp_path / "r.html").read_text()


def _sophos_primary(checks: dict[str, Any]) -> None:
    """Sophos protects the PC: Defender "Not running", Get-MpPreference failed, never scanned."""
    checks["defender.status"]["data"].update(
        ServiceStatus="Stopped",
        PreferenceError="Operation failed with the following error: 0x800106ba",
        AMRunningMode="Not running",
        AMServiceEnabled=False,
        AntivirusEnabled=False,
        RealTimeProtectionEnabled=False,
        IsTamperProtected=False,
        AntivirusSignatureLastUpdated="2026-10-01T06:10:31.0000000Z",
        QuickScanAge=4294967295,
        DisableRealtimeMonitoringPref=None,
        ExclusionPathCount=None,
        ExclusionProcessCount=None,
        ExclusionExtensionCount=None,
    )
    names = ("Sophos Endpoint Defense Service", "Sophos File Scanner Service")
    checks["sophos.presence"]["data"].update(
        Installed=True,
        Services=[{"Name": n, "Status": "Running", "StartType": "Automatic"} for n in names],
        Products=[{"DisplayName": "Sophos Endpoint Agent", "DisplayVersion": "2024.3.1.1"}],
        HealthOverall=1,
        HealthServices=1,
        HealthThreat=1,
        TamperProtectionEnabled=1,
        LastUpdateSuccess="2026-11-28T09:40:00.0000000Z",
        VirusDataVersion="2026112803",
    )


def _w32time_stopped(checks: dict[str, Any]) -> None:
    """A workgroup PC: W32Time (trigger-start) stopped, so w32tm was not asked."""
    checks["time.sync"]["data"].update(
        ServiceStatus="Stopped", StartType="Manual", Source=None, StatusText=[], Stratum=None
    )
    checks["time.sync"]["data"].update(LastSuccessfulSyncTime=None, LastSuccessfulSyncText=None)


@pytest.mark.parametrize(
    ("change", "expected", "words"),
    [
        (_sophos_primary, {}, ("endpoint.signatures_current", "last successful Sophos update")),
        (
            _w32time_stopped,
            {"logging.time_sync": "fail"},
            ("logging.time_sync", "W32Time) is Stopped (start type Manual)"),
        ),
    ],
    ids=["sophos-primary-defender-passive", "w32time-stopped"],
)
def test_healthy_variants_are_judged_without_error(
    tmp_path: Path, change: Any, expected: dict[str, str], words: tuple[str, str]
) -> None:
    state = copy.deepcopy(shipped_state("hardened"))
    change(state["output"]["checks"])
    with lab(state, "ntlm-http") as server:
        write_inputs(tmp_path, {"pc-admin": (server, winrm_settings(server, "ntlm-http"))})
        result = check(tmp_path)
    got = statuses(result, "pc-admin")
    assert {c: s for c, s in got.items() if s != "pass"} == expected, findings(result)
    control, text = words
    assert text in findings(result)[("pc-admin", control)]["observed"]
