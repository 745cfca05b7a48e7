"""``baluarte report --client C``: the client's posture over the period, not its last run
(issue 13, item 1: the same model as the evidence pack and ``history --posture``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from baluarte.findings import Finding, Severity, Status
from baluarte.run import InputFile, RunKind
from baluarte.store import Store

BIN = Path(sys.executable).parent / "baluarte"
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def _finding(device: str, control: str, status: Status, severity: Severity) -> Finding:
    return Finding(
        client="acme", site="hq", device=device, platform="linux", control=control,
        status=status, severity=severity, expected="e", observed=f"{device} {status}",
    )  # fmt: skip


def _run(store: Store, day: int, scope: dict[str, str], found: list[Finding]) -> int:
    run_id = store.start_run(
        kind=RunKind.CHECK,
        operator="noc@baluarte",
        tool_version="0.test",
        inventory_sha256="1" * 64,
        files=[InputFile(role="inventory", path="gone.yaml", sha256="2" * 64)],
        scope=scope,
        devices_total=len({f.device for f in found}),
        started_at=T0 + timedelta(days=day),
    )
    store.add_findings(run_id, found)
    store.finish_run(run_id, ended_at=T0 + timedelta(days=day, minutes=5))
    return run_id


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "runs.db"
    with Store.open(str(path), signing_key=None) as store:
        # a full check of two devices finds a critical failure on srv1 ...
        _run(store, 0, {"client": "acme"}, [
            _finding("srv1", "firewall.enabled", Status.FAIL, Severity.CRITICAL),
            _finding("srv2", "firewall.enabled", Status.PASS, Severity.CRITICAL),
        ])  # fmt: skip
        # ... then a run scoped to srv2 alone is the last one
        _run(store, 1, {"device": "srv2"}, [
            _finding("srv2", "firewall.enabled", Status.PASS, Severity.CRITICAL),
        ])  # fmt: skip
    return path


def _report(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), "report", "--db", str(path), *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=path.parent,
        env=os.environ | {"BALUARTE_SIGNING_KEY": str(path.parent / "keys" / "signing-key.pem")},
    )  # fmt: skip


def test_the_clients_report_is_its_posture_not_its_last_run(store_path: Path) -> None:
    done = _report(store_path, "--client", "acme", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["runs"] == [1, 2]
    posture = doc["posture"]
    assert (posture["devices_in_scope"], posture["devices_verified"]) == (2, 2)
    seen = {(f["device"], f["status"], f["run_id"]) for f in posture["findings"]}
    assert seen == {("srv1", "fail", 1), ("srv2", "pass", 2)}  # srv1 from the earlier run
    assert posture["compliance_percent"] == 50.0
    # the last run alone would say 100 %
    last = _report(store_path, "2", "--format", "json")
    assert json.loads(last.stdout)["summary"]["compliance_percent"] == 100.0


def test_the_clients_html_report_is_the_packs_in_its_language(store_path: Path) -> None:
    out = store_path.parent / "acme.html"
    done = _report(store_path, "--client", "acme", "--lang", "en", "-o", str(out))
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert (
        "srv1" in html
        and "Key risks" in html
        and "Devices verified</dt><dd>2 of 2 in scope" in html
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "give a RUN id"),
        (("1", "--client", "acme"), "not both"),
        (("1", "--from", "2026-11-01"), "--from and --to go with --client"),
        (("--client", "acme", "--to", "2026-11-31"), "'2026-11-31' is not a date"),
        (("--client", "nobody"), "no complete run of client 'nobody'"),
    ],
)
def test_wrong_use_is_a_clear_error(store_path: Path, args: tuple[str, ...], says: str) -> None:
    done = _report(store_path, *args)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr


def test_an_edited_history_is_refused(store_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{store_path}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE findings SET status = 'pass' WHERE device = 'srv1'"))
    engine.dispose()
    done = _report(store_path, "--client", "acme", "--format", "json")
    assert done.returncode == 1 and "chain broken at run 1" in done.stderr
    assert done.stdout == ""
