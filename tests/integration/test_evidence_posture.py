"""The pack describes the client's posture, not its last run (issue 13's scenario, real CLI).

A full check of three devices (a Linux lab host, the FortiOS emulator in its small-office state
with an any-to-any accept rule, the WinRM lab PC), then ``apply --device pc-recepcion --yes``
(the usual one-device fix), then ``evidence export``: the summary, scope, top risks and
results describe every device as last observed, not the one-device apply that came last.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from baluarte.cli.demo import PASSWORD_VARIABLE, TOKEN_VARIABLE, WINDOWS_USER, lab_devices
from baluarte.evidence.keys import init_key
from baluarte.lab.fortigate import FortigateLab
from baluarte.lab.fortigate.shipped import shipped_state as fortigate_state
from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab
from baluarte.lab.windows import WindowsLab
from baluarte.lab.windows.shipped import shipped_state as windows_state
from tests.integration.cli import baluarte

ANY_ANY = "firewall.no_any_any_accept"
DEVICES = {"srv-oficina", "fw-oficina", "pc-recepcion"}


@dataclass(frozen=True)
class Scenario:
    root: Path
    check_id: int
    apply_id: int
    packs: dict[str, Path]  # lang → pack folder


def _pdf_text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, lab: LinuxHostLab) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("posture")
    host = lab.up("srv-oficina")
    token, password = secrets.token_hex(15), secrets.token_urlsafe(18)
    env = {TOKEN_VARIABLE: token, PASSWORD_VARIABLE: password}
    key = root / "keys" / "signing-key.pem"
    init_key(key)
    policies = root / "policies"
    policies.mkdir()
    for name in ("linux-baseline.yaml", "fortigate-baseline.yaml", "windows-baseline.yaml"):
        shutil.copy(Path("policies") / name, policies / name)
    (root / "waivers.yaml").write_text("waivers: []\n")
    with (
        _down(lab, host),
        FortigateLab(
            fortigate_state("small-office"),
            tokens={token: "baluarte-ro"},
            cert_dir=root / "fortigate",
        ) as firewall,
        WindowsLab(windows_state("office-pc"), users={WINDOWS_USER: password}, auth="ntlm") as pc,
    ):
        this = {
            "name": "srv-oficina",
            "platform": "linux",
            "address": host.address,
            "ssh": {
                "user": "root",
                "key": f"file:{lab.key_path}",
                "known_hosts": str(lab.known_hosts_path),
            },
        }
        inventory = {
            "clients": [
                {
                    "name": "demo",
                    "legal_name": "Demo Asesores S.L.",
                    "sites": [{"name": "lab", "devices": [this, *lab_devices(firewall, pc)]}],
                }
            ]
        }
        (root / "inventory.yaml").write_text(yaml.safe_dump(inventory, sort_keys=False))
        full = baluarte(root, "check", "--client", "demo", "--format", "json", env=env)
        assert full.returncode in (0, 1), full.stderr  # drift, never an unreadable device
        check_id = json.loads(full.stdout)["run"]["id"]
        fix = baluarte(
            root, "apply", "--device", "pc-recepcion", "--yes", "--format", "json", env=env
        )
        assert fix.returncode in (0, 1), fix.stderr
        apply_id = json.loads(fix.stdout)["run"]["run"]["id"]
    packs = {}
    for lang in ("es", "en"):
        out = root / f"pack-{lang}"
        export = baluarte(
            root, "evidence", "export", "--client", "demo", "-o", str(out),
            "--lang", lang, "--key", str(key),
        )  # fmt: skip
        assert export.returncode == 0, export.stderr
        packs[lang] = out
    yield Scenario(root, check_id, apply_id, packs)


@contextmanager
def _down(lab: LinuxHostLab, host: LinuxHost) -> Iterator[None]:
    try:
        yield
    finally:
        lab.down(host)


def _posture(s: Scenario) -> dict[str, Any]:
    doc = json.loads((s.packs["es"] / "results.json").read_text())
    # the last run is the one-device apply: alone it would describe one device of three
    assert [r["run"]["id"] for r in doc["runs"]][-2:] == [s.check_id, s.apply_id]
    assert {f["device"] for f in doc["runs"][-1]["findings"]} == {"pc-recepcion"}
    posture: dict[str, Any] = doc["posture"]
    return posture


def test_coverage_is_three_of_three_after_a_one_device_apply(scenario: Scenario) -> None:
    posture = _posture(scenario)
    assert (posture["devices_in_scope"], posture["devices_verified"]) == (3, 3)
    assert {d["device"]: d["state"] for d in posture["devices"]} == dict.fromkeys(
        DEVICES, "verified"
    )
    assert all(d["not_verified_reason"] is None for d in posture["devices"])
    # every device's controls as last observed: the PC from the apply's re-check, the others
    # from the full check
    runs = {f["device"]: set() for f in posture["findings"]}
    for f in posture["findings"]:
        runs[f["device"]].add(f["run_id"])
    assert runs == {
        "srv-oficina": {scenario.check_id},
        "fw-oficina": {scenario.check_id},
        "pc-recepcion": {scenario.apply_id},
    }
    # the percent counts all three devices: it is the posture's, not the apply run's
    apply_run = json.loads((scenario.packs["es"] / "results.json").read_text())["runs"][-1]
    assert posture["counts"]["pass"] > apply_run["summary"]["counts"]["pass"]
    # one trend point per day, never per run: both runs closed on the same day
    assert [t["runs"] for t in posture["trend"]] == [[scenario.check_id, scenario.apply_id]]


def test_the_earlier_critical_finding_is_still_a_top_risk(scenario: Scenario) -> None:
    posture = _posture(scenario)
    risk = [f for f in posture["findings"] if f["control"] == ANY_ANY]
    assert len(risk) == 1 and risk[0]["status"] == "fail" and risk[0]["severity"] == "critical"
    assert risk[0]["device"] == "fw-oficina" and risk[0]["run_id"] == scenario.check_id
    html = (scenario.packs["en"] / "report.html").read_text().replace("<wbr>", "")
    summary = html[
        html.index('id="summary"') : html.index("</section>", html.index('id="summary"'))
    ]
    # critical first among the key risks
    assert summary.index(ANY_ANY) < summary.index('class="sev sev-high"')
    assert f"run {scenario.check_id}" in summary


@pytest.mark.parametrize(
    ("lang", "coverage", "not_verified", "risks"),
    [
        (
            "es",
            "3 de 3 en el alcance",
            ("No verificado", "Inaccesible"),
            ("Riesgos principales", "Crítica", "Alta"),
        ),
        (
            "en",
            "3 of 3 in scope",
            ("Not checked", "Unreachable"),
            ("Key risks", "Critical", "High"),
        ),
    ],
)
def test_the_pdf_says_three_of_three_and_names_the_critical_risk(
    scenario: Scenario,
    lang: str,
    coverage: str,
    not_verified: tuple[str, ...],
    risks: tuple[str, str, str],
) -> None:
    text = _pdf_text(scenario.packs[lang] / "report.pdf")
    flat = " ".join(text.split())
    assert coverage in flat
    for state in not_verified:  # no device shown as not verified anywhere in the report
        assert state not in flat
    # the first key risk, before any high one: the critical any-to-any rule of the full check
    # (a table's cells come out interleaved, and a control id wraps in its cell)
    heading, critical, high = risks
    table = flat[flat.index(heading) :]
    first = table[: table.index(f" {high} ")]
    for piece in ("fw-oficina", "firewall.", "no_any_", critical):
        assert piece in first
