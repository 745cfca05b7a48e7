"""One time zone per client (issue 13, item 6), through the real CLI and the FortiOS emulator.

Client ``mx`` names ``timezone: America/Mexico_City`` (UTC-06:00, no summer time since 2022);
client ``es`` names none and gets Europe/Madrid (UTC+01:00 in winter). Each is checked, then
its run's JSON and HTML reports, ``show``, ``history`` and its evidence pack's PDF are read:
every time is in the client's zone with that offset. An unknown zone is refused at load.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from baluarte.lab.fortigate import FortigateLab
from tests.integration.cli import baluarte
from tests.integration.fortigate_client import fortigate_device, fortigate_inputs, fortigate_lab

OFFSET = {"mx": "(-06:00)", "es": "(+01:00)"}
ZONE = {"mx": "America/Mexico_City", "es": "Europe/Madrid"}


@dataclass(frozen=True)
class Setup:
    root: Path
    runs: dict[str, int]  # client → its check's run id
    key: Path


def _inventory(firewall: FortigateLab) -> dict[str, object]:
    def client(name: str, **extra: str) -> dict[str, object]:
        sites = [{"name": "hq", "devices": [fortigate_device(firewall, f"fw-{name}")]}]
        return {"name": name, "legal_name": f"{name} S.A.", **extra, "sites": sites}

    return {"clients": [client("mx", timezone=ZONE["mx"]), client("es")]}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("timezone")
    env, key = fortigate_inputs(root)
    with fortigate_lab(root, env) as firewall:
        inventory = _inventory(firewall)
        (root / "inventory.yaml").write_text(yaml.safe_dump(inventory, sort_keys=False))
        runs = {}
        for name in ("mx", "es"):
            check = baluarte(root, "check", "--client", name, "--format", "json", env=env)
            assert check.returncode in (0, 1), check.stderr
            doc = json.loads(check.stdout)
            assert doc["timezone"]["name"] == ZONE[name]
            runs[name] = doc["run"]["id"]
    yield Setup(root, runs, key)


@pytest.mark.parametrize("client", ["mx", "es"])
def test_the_json_report_keeps_utc_and_names_the_zone(setup: Setup, client: str) -> None:
    out = baluarte(setup.root, "report", str(setup.runs[client]), "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["timezone"] == {
        "name": ZONE[client],
        "utc_offset": OFFSET[client].strip("()"),
        "source": "inventory",
    }
    assert doc["run"]["started_at"].endswith("+00:00")  # stored times stay UTC


@pytest.mark.parametrize("client", ["mx", "es"])
def test_the_html_report_shows_times_in_the_zone(setup: Setup, client: str) -> None:
    out = baluarte(setup.root, "report", str(setup.runs[client]))
    assert out.returncode == 0, out.stderr
    run = out.stdout[out.stdout.index('id="run"') :]
    run = run[: run.index("</section>")]
    assert OFFSET[client] in run and f"{ZONE[client]} (UTC{OFFSET[client].strip('()')})" in run
    other = OFFSET["es" if client == "mx" else "mx"]
    assert other not in out.stdout and "UTC+00:00" not in out.stdout


@pytest.mark.parametrize("client", ["mx", "es"])
def test_show_and_history_print_the_clients_zone(setup: Setup, client: str) -> None:
    show = baluarte(setup.root, "show", str(setup.runs[client]))
    assert show.returncode == 0, show.stderr
    assert OFFSET[client] in show.stdout and ZONE[client] in show.stdout
    history = baluarte(setup.root, "history", "--client", client)
    assert history.returncode == 0, history.stderr
    flat = " ".join(history.stdout.split())
    assert OFFSET[client] in flat and ZONE[client] in flat


@pytest.mark.parametrize("client", ["mx", "es"])
def test_the_pack_pdf_shows_every_time_in_the_zone(setup: Setup, client: str) -> None:
    out = setup.root / f"pack-{client}"
    export = baluarte(
        setup.root, "evidence", "export", "--client", client, "-o", str(out),
        "--lang", "en", "--key", str(setup.key),
    )  # fmt: skip
    assert export.returncode == 0, export.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["timezone"] == ZONE[client]
    assert {r["timezone"]["name"] for r in results["runs"]} == {ZONE[client]}
    pdf = subprocess.run(
        ["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True
    )
    assert pdf.returncode == 0, pdf.stderr
    flat = " ".join(pdf.stdout.split())
    assert f"{ZONE[client]}, with the UTC offset" in flat
    assert OFFSET[client] in flat
    assert OFFSET["es" if client == "mx" else "mx"] not in flat


def test_an_unknown_zone_is_refused_with_its_place_and_a_suggestion(setup: Setup) -> None:
    root = setup.root / "bad"
    root.mkdir()
    shutil.copytree(setup.root / "policies", root / "policies")
    shutil.copy(setup.root / "waivers.yaml", root / "waivers.yaml")
    text = (setup.root / "inventory.yaml").read_text()
    (root / "inventory.yaml").write_text(text.replace("America/Mexico_City", "America/Mexico_Cty"))
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "America/Mexico_City" in s)
    out = baluarte(root, "validate")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert f"inventory.yaml:{line}:" in out.stderr
    assert "unknown time zone 'America/Mexico_Cty'" in out.stderr
    assert "did you mean 'America/Mexico_City'?" in out.stderr
