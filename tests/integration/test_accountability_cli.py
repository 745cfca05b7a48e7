"""The real CLI refuses a malformed operator identity or change-control value before anything
runs: exit 2, the variable, option or file:line:column named, no traceback, no run stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from baluarte.store import Store

BIN = Path(sys.executable).parent / "baluarte"
INVENTORY = """\
clients:
  - name: acme
    legal_name: ACME Asesores S.L.
    sites:
      - name: hq
        devices:
          - name: srv1
            platform: linux
            address: 192.0.2.10
            ssh: {user: root}
"""


def run(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp / "inventory.yaml").write_text(INVENTORY)
    (tmp / "policies").mkdir(exist_ok=True)
    (tmp / "policies" / "p.yaml").write_text(
        "id: p\nversion: '1'\ntitle: P\napplies_to: {platform: linux}\n"
        'access:\n  ssh_root_login: {allowed: "no"}\n'
    )
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp)}
    cmd = [str(BIN), *args, "--inventory", str(tmp / "inventory.yaml"),
           "--policies", str(tmp / "policies"), "--db", str(tmp / "runs.db")]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, env={**base, **env}, cwd=tmp)


def no_run_stored(tmp: Path) -> bool:
    if not (tmp / "runs.db").exists():
        return True
    with Store.open(tmp / "runs.db", signing_key=None) as store:
        return store.latest_run_id() is None


@pytest.mark.parametrize("command", [("check",), ("apply", "--all", "--yes")])
def test_a_bad_operator_variable_stops_the_run_before_it_starts(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = run(tmp_path, *command, BALUARTE_OPERATOR="Ana <ana-at-proveedor>")
    assert result.returncode == 2, result.stderr
    assert "BALUARTE_OPERATOR" in result.stderr and "not an email address" in result.stderr
    assert "Traceback" not in result.stderr and no_run_stored(tmp_path)


def test_a_bad_operator_file_is_named_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "operator.yaml"
    path.write_text("name: Ana García\nrole: [técnica]\n")
    result = run(tmp_path, "check", BALUARTE_OPERATOR_FILE=str(path))
    assert result.returncode == 2 and f"{path}:2:" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and no_run_stored(tmp_path)


def test_a_ticket_must_be_one_line(tmp_path: Path) -> None:
    result = run(tmp_path, "apply", "--all", "--yes", "--ticket", "CHG\n1", "--approved-by", "L")
    assert result.returncode == 2 and "--ticket" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and no_run_stored(tmp_path)


def test_the_demo_records_the_person_responsible(tmp_path):
    # the demo is the first run a technician makes: it names them as every check does
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [str(Path(sys.executable).parent / "baluarte"), "demo", "-o", str(tmp_path / "out"),
         "--db", str(tmp_path / "demo.db")],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
        env=os.environ | {"BALUARTE_OPERATOR": "Ana García <ana@proveedor.es>, técnica"},
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-2000:]
    (report,) = (tmp_path / "out").glob("run-*.json")
    doc = json.loads(report.read_text(encoding="utf-8"))
    assert doc["run"]["operator_identity"] == {
        "name": "Ana García", "email": "ana@proveedor.es", "role": "técnica"
    }  # fmt: skip
