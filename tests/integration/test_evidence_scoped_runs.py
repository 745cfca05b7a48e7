"""The normal workflow, end to end through the CLI on two lab Windows PCs: a full check, then a
one-device apply under change control, then `evidence export` and `evidence verify`.

Every run of the period is in the pack (the scoped apply's record in runs/, verified), every
evidence hash the pack cites resolves to a record inside it, and what auditors ask for — the
operator's identity, the change's ticket and approver, a waiver's approval date and
compensating control, the client's inventory completeness — reaches the sealed records and
the report. A pack edited to cite evidence no record holds fails verification, naming it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from baluarte.evidence.keys import load_private_key
from baluarte.evidence.record import seal_part
from baluarte.evidence.verify import verify_pack
from baluarte.lab.windows import WindowsLab
from baluarte.lab.windows.shipped import shipped_state
from tests.integration.cli import BIN, CANARY, assert_no_canary, baluarte
from tests.integration.test_apply_windows import office
from tests.integration.test_check_windows import USER, winrm_settings, write_inputs
from tests.integration.test_evidence_pack import resign

OPERATOR = "Ana García <ana.garcia@proveedor.es>, técnica de sistemas"
ATTESTATION = "Inventario revisado con el cliente el 30/11/2026"
COMPENSATING = "cifrado de la carpeta de clientes con EFS"
WAIVERS = f"""\
waivers:
  - control: endpoint.disk_encryption
    client: acme
    devices: [pc2]
    reason: portátil sustituido en enero
    approved_by: María López
    approved_on: 2026-11-02
    compensating_control: {COMPENSATING}
    expires: 2027-01-31
"""


@dataclass(frozen=True)
class Scenario:
    root: Path
    pack: Path
    key: Path
    apply_run: int
    refused: subprocess.CompletedProcess[str]
    verified: subprocess.CompletedProcess[str]


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = baluarte(root, *args, env={"BALUARTE_OPERATOR": OPERATOR})
    assert_no_canary(result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("scoped")
    key = root / "keys" / "signing-key.pem"
    saved = os.environ.get("BALUARTE_SIGNING_KEY")
    os.environ["BALUARTE_SIGNING_KEY"] = str(key)  # the CLI signs runs and packs with it
    try:
        with (
            WindowsLab(shipped_state("office-pc"), users={USER: CANARY}, auth="ntlm") as pc1,
            WindowsLab(shipped_state("office-pc"), users={USER: CANARY}, auth="ntlm") as pc2,
        ):
            write_inputs(
                root,
                {
                    "pc1": (pc1, winrm_settings(pc1, "ntlm-http")),
                    "pc2": (pc2, winrm_settings(pc2, "ntlm-http")),
                },
            )
            inventory = root / "inventory.yaml"
            inventory.write_text(
                inventory.read_text().replace(
                    "    legal_name: ACME Asesores S.L.\n",
                    "    legal_name: ACME Asesores S.L.\n"
                    "    change_control: {require_ticket: true}\n"
                    f"    declared_devices: 3\n    inventory_attestation: {ATTESTATION}\n",
                )
            )
            (root / "waivers.yaml").write_text(WAIVERS)
            office(pc1, baluarte_rule=True)
            made = subprocess.run([str(BIN), "keys", "init"], capture_output=True, text=True)
            assert made.returncode == 0, made.stderr
            checked = cli(root, "check", "--format", "json")
            assert checked.returncode == 1, checked.stderr
            refused = cli(root, "apply", "--device", "pc1", "--yes")
            applied = cli(root, "apply", "--device", "pc1", "--yes", "--ticket", "CHG-1042",
                          "--approved-by", "Luis Pérez", "--format", "json")  # fmt: skip
            assert applied.returncode in (0, 1), applied.stderr
            run_id = json.loads(applied.stdout)["run"]["run"]["id"]
        exported = cli(root, "evidence", "export", "--client", "acme", "-o", str(root / "pack"))
        assert exported.returncode == 0, exported.stderr
        verified = subprocess.run(
            [str(BIN), "evidence", "verify", str(root / "pack")], capture_output=True, text=True
        )
        yield Scenario(root, root / "pack", key, run_id, refused, verified)
    finally:
        if saved is None:
            os.environ.pop("BALUARTE_SIGNING_KEY", None)
        else:
            os.environ["BALUARTE_SIGNING_KEY"] = saved


def parts(pack: Path, run_id: int) -> dict[str, dict[str, Any]]:
    """The run's disclosed parts, leaf name → value, whichever form the parts file takes."""
    doc = json.loads((pack / f"runs/{run_id:03d}.parts.json").read_text())
    if "salt" in doc:  # a run wholly the client's: its fields, each leaf's salt derived
        salt = bytes.fromhex(doc["salt"])
        built = [seal_part(salt, p["part"], p["fields"]) for p in doc["parts"]]
        return {b.name: {n: json.loads(leaf.value) for n, leaf in b.leaves.items()} for b in built}
    return {
        p["part"]: {n: json.loads(leaf["value"]) for n, leaf in p["leaves"].items()}
        for p in doc["parts"]
    }


def test_the_scoped_apply_run_is_in_the_pack_and_verifies(scenario: Scenario) -> None:
    pack = scenario.pack
    chain = json.loads((pack / "chain.json").read_text())
    assert (
        scenario.apply_run in chain["runs"] and len(chain["runs"]) == 2
    )  # the refusal stored none
    link = next(x for x in chain["links"] if x["run_id"] == scenario.apply_run)
    assert link["record"] == f"runs/{scenario.apply_run:03d}.json"
    assert (pack / link["record"]).is_file() and (pack / link["parts"]).is_file()
    assert "why_no_record" not in link
    assert scenario.verified.returncode == 0, scenario.verified.stdout + scenario.verified.stderr
    result = verify_pack(pack)
    assert result.ok, result.problems
    assert result.citations_checked > 0 and result.signatures_checked == 2


def test_every_cited_evidence_hash_resolves_to_a_record_in_the_pack(scenario: Scenario) -> None:
    html = (scenario.pack / "report.html").read_text()
    cited = re.findall(r'data-evidence="([0-9a-f]{64})" data-run="(\d+)"', html)
    assert {int(run) for _, run in cited} >= {scenario.apply_run}
    proven = {
        (run_id, digest)
        for run_id in json.loads((scenario.pack / "chain.json").read_text())["runs"]
        for part in parts(scenario.pack, run_id).values()
        if isinstance(part.get("evidence"), str)
        for digest in [hashlib.sha256(part["evidence"].encode()).hexdigest()]
    }
    assert {(int(run), digest) for digest, run in cited} <= proven


def test_change_control_refuses_apply_without_ticket_and_records_it_with_one(
    scenario: Scenario,
) -> None:
    refused = scenario.refused
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "--ticket" in refused.stderr and "change_control.require_ticket" in refused.stderr
    changes = [p for name, p in parts(scenario.pack, scenario.apply_run).items()
               if name.startswith("remediations/")]  # fmt: skip
    assert changes and {(c["ticket"], c["approved_by"]) for c in changes} == {
        ("CHG-1042", "Luis Pérez")
    }


def test_operator_waiver_approval_and_completeness_reach_records_and_report(
    scenario: Scenario,
) -> None:
    for run_id in json.loads((scenario.pack / "chain.json").read_text())["runs"]:
        info = parts(scenario.pack, run_id)["info"]
        assert (info["operator_identity.name"], info["operator_identity.email"],
                info["operator_identity.role"]) == (
            "Ana García", "ana.garcia@proveedor.es", "técnica de sistemas")  # fmt: skip
    results = json.loads((scenario.pack / "results.json").read_text(encoding="utf-8"))
    assert [r["run"]["operator_identity"] for r in results["runs"]] == [
        {"name": "Ana García", "email": "ana.garcia@proveedor.es", "role": "técnica de sistemas"}
    ] * len(results["runs"])
    waived = [p for p in parts(scenario.pack, 1).values() if p.get("waiver.approved_on")]
    assert {(p["waiver.approved_on"], p["waiver.compensating_control"]) for p in waived} == {
        ("2026-11-02", COMPENSATING)
    }
    inventory = json.loads((scenario.pack / "inventory.json").read_text())
    assert (inventory["declared_devices"], inventory["inventory_attestation"]) == (3, ATTESTATION)
    html = (scenario.pack / "report.html").read_text()
    assert "Ana García &lt;ana.garcia@proveedor.es&gt;, técnica de sistemas" in html
    assert "3 dispositivos declarados, 2 en el inventario." in html and ATTESTATION in html
    assert f"Control compensatorio:</em> {COMPENSATING}" in html


@pytest.fixture
def copy(scenario: Scenario, tmp_path: Path) -> Path:
    out = tmp_path / "pack"
    shutil.copytree(scenario.pack, out)
    return out


def test_a_pack_citing_evidence_no_record_holds_fails_naming_it(
    scenario: Scenario, copy: Path
) -> None:
    html = (copy / "report.html").read_text()
    cited = re.search(r'data-evidence="([0-9a-f]{64})"', html)
    assert cited is not None
    forged = "f" * 64
    (copy / "report.html").write_text(html.replace(cited.group(1), forged, 1))
    resign(copy, load_private_key(scenario.key))  # whoever edited it had the pack key
    result = verify_pack(copy)
    assert any(forged[:12] in p and "report.html" in p for p in result.problems), result.problems
    shown = subprocess.run([str(BIN), "evidence", "verify", str(copy)], capture_output=True,
                           text=True)  # fmt: skip
    assert shown.returncode != 0 and forged[:12] in shown.stdout + shown.stderr


def test_a_pack_without_the_scoped_runs_record_fails(scenario: Scenario, copy: Path) -> None:
    run_id = scenario.apply_run
    chain = json.loads((copy / "chain.json").read_text())
    for link in chain["links"]:
        if link["run_id"] == run_id:  # passed off as a record the pack could not hold
            link.update(format=1, record=None, parts=None, signature=None,
                        why_no_record="not included")  # fmt: skip
    (copy / "chain.json").write_text(json.dumps(chain))
    for name in (f"{run_id:03d}.json", f"{run_id:03d}.json.sig", f"{run_id:03d}.parts.json"):
        (copy / "runs" / name).unlink()
    resign(copy, load_private_key(scenario.key))
    result = verify_pack(copy)
    assert not result.ok
    assert any(f"run {run_id}" in p for p in result.problems), result.problems


def test_a_redacted_pack_names_neither_the_operator_nor_the_approvers(scenario: Scenario) -> None:
    out = scenario.root / "redacted"
    exported = cli(scenario.root, "evidence", "export", "--client", "acme", "--redact",
                   "-o", str(out))  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    texts = [p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*") if p.is_file()]
    pdf = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    for name in ("Ana García", "ana.garcia", "Luis Pérez", "María López", "García", "Pérez"):
        assert not any(name in text for text in [*texts, pdf]), name
    result = verify_pack(out)
    assert result.ok and result.citations_checked > 0, result.problems
