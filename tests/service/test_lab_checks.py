"""Checks of lab devices started through the API of a real ``baluarte serve`` process.

The FortiOS emulator (hostile names, real HTTPS, its own CA) and the WinRM lab are checked one
device at a time with ``POST /api/v1/checks``; each run's JSON report must say, control by
control, what ``baluarte check --format json`` of the same device says, and ``/metrics`` must
then show the client's compliance at its posture (both devices' newest findings).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.service._fixtures import POLICIES
from tests.service._labs import (
    CLIENT,
    FAILS,
    FIREWALL,
    PASSES,
    PC,
    SCRIPT,
    SITE,
    TECHNICIAN,
    LabClient,
    lab_client,
)
from tests.service._serve import BIN, serving

DEVICES = (FIREWALL, PC)
ENDED = {"done", "failed", "interrupted"}


@dataclass
class Checked:
    lab: LabClient
    url: str
    checks: dict[str, dict[str, Any]]  # device -> the API's last view of its check
    reports: dict[str, dict[str, Any]]  # device -> GET /api/v1/runs/{id}
    direct: dict[str, dict[str, Any]]  # device -> `baluarte check --format json`
    direct_codes: dict[str, int]
    metrics: str


def _wait(api: httpx.Client, url: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        check: dict[str, Any] = api.get(url).raise_for_status().json()
        if check["state"] in ENDED:
            return check
        assert time.monotonic() < deadline, f"the check did not end: {check}"
        time.sleep(0.2)


def _direct(lab: LabClient, device: str) -> subprocess.CompletedProcess[str]:
    """The same device checked by the command, into a store of its own."""
    return subprocess.run(
        [str(BIN), "check", "--client", CLIENT, "--site", SITE, "--device", device,
         "--format", "json", "--inventory", str(lab.inventory), "--policies", str(POLICIES),
         "--waivers", str(lab.waivers), "--db", str(lab.folder / "direct.db"),
         "--artifacts", str(lab.folder / "direct-artifacts")],
        capture_output=True, text=True, timeout=120, cwd=lab.folder,
    )  # fmt: skip


def _posture_metrics(url: str, timeout: float = 20) -> str:
    """/metrics once the client's posture counts both devices (it is rebuilt after each run)."""
    deadline = time.monotonic() + timeout
    while True:
        text = httpx.get(f"{url}/metrics", timeout=10).raise_for_status().text
        if _sample(text, "baluarte_devices_verified", client=CLIENT) == len(DEVICES):
            return text
        assert time.monotonic() < deadline, text
        time.sleep(0.2)


def _sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checked]:
    folder = tmp_path_factory.mktemp("lab-checks")
    with lab_client(folder, windows=True) as lab, serving(lab.config, folder, key=lab.key) as url:
        headers = {"Authorization": f"Bearer {lab.token}"}
        checks, reports, direct, codes = {}, {}, {}, {}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as api:
            for device in DEVICES:
                answer = api.post(
                    "/api/v1/checks", json={"client": CLIENT, "site": SITE, "device": device}
                )
                assert answer.status_code == 202, answer.text
                checks[device] = check = _wait(api, answer.json()["url"])
                if check["run_url"]:
                    reports[device] = api.get(check["run_url"]).raise_for_status().json()
                ran = _direct(lab, device)
                codes[device] = ran.returncode
                assert ran.stdout, ran.stderr
                direct[device] = json.loads(ran.stdout)
        yield Checked(lab, url, checks, reports, direct, codes, _posture_metrics(url))


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {f["control"]: f["status"] for f in report["findings"]}


@pytest.mark.parametrize("device", DEVICES)
def test_a_check_through_the_api_reports_what_the_command_reports(
    checked: Checked, device: str
) -> None:
    check = checked.checks[device]
    assert check["state"] == "done", check
    assert (check["origin"], check["requested_by"]) == ("api", TECHNICIAN)
    assert (check["client"], check["site"], check["device"]) == (CLIENT, SITE, device)
    report, direct = checked.reports[device], checked.direct[device]
    assert {d["device"] for d in report["devices"]} == {device}
    assert report["run"]["operator_identity"]["name"] == TECHNICIAN
    # the same inputs, read by the service as by the command
    assert report["run"]["inventory_sha256"] == direct["run"]["inventory_sha256"]
    service = _statuses(report)
    assert len(service) >= 15, service  # a whole baseline, not a stub
    assert service == _statuses(direct)
    # the device answered: statuses were judged, none is an error
    assert "error" not in service.values(), report["findings"]
    # the command exits as the findings say: some controls fail on both labs
    assert checked.direct_codes[device] == 1


def test_the_fortigate_passes_and_fails_as_its_state_holds(checked: Checked) -> None:
    report = checked.reports[FIREWALL]
    statuses = _statuses(report)
    assert {c for c, s in statuses.items() if s == "fail"} == set(FAILS)
    assert all(statuses[c] == "pass" for c in PASSES)
    by_control = {f["control"]: f for f in report["findings"]}
    # the intruding administrator is named in the finding, as the device named it
    assert SCRIPT in by_control["access.admin_accounts"]["observed"]


def test_metrics_show_the_clients_compliance_at_its_posture(checked: Checked) -> None:
    text = checked.metrics
    counts = {"pass": 0, "fail": 0, "error": 0}
    for report in checked.reports.values():
        for f in report["findings"]:
            if f["status"] in counts:
                counts[f["status"]] += 1
    expected = round(100 * counts["pass"] / sum(counts.values()), 1)
    assert _sample(text, "baluarte_compliance_percent", client=CLIENT) == pytest.approx(expected)
    assert _sample(text, "baluarte_devices_in_scope", client=CLIENT) == len(DEVICES)
    assert _sample(text, "baluarte_devices_not_verified", client=CLIENT) == 0
    for status, n in counts.items():
        found = _sample(text, "baluarte_posture_findings", client=CLIENT, status=status)
        assert found == n, (status, found)
    assert _sample(text, "baluarte_service_checks", state="done") == len(DEVICES)


def test_no_secret_of_the_labs_is_written_anywhere_but_their_files(checked: Checked) -> None:
    folder = checked.lab.folder
    kept = {folder / "fortigate.token", folder / "windows.password"}
    secrets = [p.read_text().encode() for p in kept]
    written = [p for p in folder.rglob("*") if p.is_file() and p not in kept]
    # the store, the log, the backups taken, the session key: all of what the service wrote
    assert {folder / "b.db", folder / "serve.log"} <= set(written)
    answers = (json.dumps(checked.reports) + json.dumps(checked.checks) + checked.metrics).encode()
    for secret in secrets:
        assert secret not in answers
        assert [p for p in written if secret in p.read_bytes()] == []
