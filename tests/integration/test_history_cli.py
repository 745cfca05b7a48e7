"""`baluarte diff`, `baluarte history` and the report's drift, end to end on a real store."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from baluarte.findings import Finding, Severity, Status
from baluarte.run import RunKind
from baluarte.store import Store

from .cli import BIN

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
P, F, E = Status.PASS, Status.FAIL, Status.ERROR


def _finding(client: str, device: str, control: str, status: Status) -> Finding:
    return Finding(
        client=client, site="hq", device=device, platform="linux", control=control,
        status=status, severity=Severity.HIGH,
    )  # fmt: skip


def _run(store: Store, day: int, client: str, rows: list[tuple[str, str, Status]], *,
         finish: bool = True) -> int:  # fmt: skip
    run_id = store.start_run(
        kind=RunKind.CHECK, operator="ana", tool_version="0.1.0", inventory_sha256="1" * 64,
        files=(), scope={"client": client}, devices_total=2,
        started_at=T0 + timedelta(days=day),
    )  # fmt: skip
    store.add_findings(run_id, [_finding(client, d, c, s) for d, c, s in rows])
    if finish:
        store.finish_run(run_id, ended_at=T0 + timedelta(days=day, minutes=5))
    return run_id


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[int]]:
    path = str(tmp_path_factory.mktemp("history") / "baluarte.db")
    ssh, fw = "access.ssh_root_login", "firewall.enabled"
    with Store.open(path) as s:
        ids = [
            _run(s, 0, "acme", [("srv1", ssh, F), ("srv1", fw, P), ("pc1", ssh, P)]),
            _run(s, 1, "beta", [("srv9", ssh, F)]),
            _run(s, 2, "acme", [("srv1", ssh, F), ("srv1", fw, F), ("pc1", ssh, E)]),
            _run(s, 3, "acme", [("srv1", ssh, P), ("srv1", fw, F), ("pc1", ssh, F)]),
            _run(s, 4, "acme", [("srv1", ssh, P)], finish=False),  # killed part-way
        ]
    return path, ids


def baluarte(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BALUARTE_DB": db}
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_diff_names_each_change_with_its_streak(db: tuple[str, list[int]]) -> None:
    path, ids = db
    result = baluarte(path, "diff", str(ids[2]), str(ids[3]), "--format", "json")
    assert result.returncode == 0, result.stderr
    d = json.loads(result.stdout)
    assert d["from_run"] == ids[2]
    assert [(s["device"], s["control"]) for s in d["newly_failing"]] == [
        ("pc1", "access.ssh_root_login")
    ]
    (fixed,) = d["newly_passing"]
    # failing since run 3 (day 2) only: diff compares the two runs given
    assert fixed["failing_since"] == "2026-11-04T09:00:00+00:00"
    assert fixed["time_to_remediate_hours"] == 24.0
    assert [s["control"] for s in d["still_failing"]] == ["firewall.enabled"]
    text = baluarte(path, "diff", str(ids[2]), str(ids[3]))  # in a pipe: a change per line
    assert text.returncode == 0, text.stderr
    changes = [line.split("\t") for line in text.stdout.splitlines() if line[:1] != "#"]
    assert [(c[0], c[1], c[2]) for c in changes if c[0] == "newly_passing"] == [
        ("newly_passing", "acme/hq/srv1", "access.ssh_root_login")
    ]


def test_diff_of_an_unknown_run_exits_2(db: tuple[str, list[int]]) -> None:
    result = baluarte(db[0], "diff", str(db[1][0]), "999")
    assert result.returncode == 2 and "no run 999" in result.stderr


def test_history_is_complete_runs_of_the_client_oldest_first(db: tuple[str, list[int]]) -> None:
    path, ids = db
    result = baluarte(path, "history", "--client", "acme", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["run_id"] for r in rows] == [ids[0], ids[2], ids[3]]  # not beta's, not killed
    assert [r["compliance_percent"] for r in rows] == [66.7, 0.0, 33.3]
    text = baluarte(path, "history", "--client", "acme")
    assert text.returncode == 0 and "66.7 %" in text.stdout


def test_history_filters_by_control_device_and_dates(db: tuple[str, list[int]]) -> None:
    path, ids = db
    got = baluarte(
        path, "history", "--client", "acme", "--control", "access.ssh_root_login",
        "--device", "srv1", "--from", "2026-11-04", "--to", "2026-11-05", "--format", "json",
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    rows = json.loads(got.stdout)
    assert [(r["run_id"], r["compliance_percent"]) for r in rows] == [
        (ids[2], 0.0),
        (ids[3], 100.0),
    ]
    assert all(sum(r["counts"].values()) == 1 for r in rows)


def test_history_posture_is_per_day_each_control_as_last_observed(
    db: tuple[str, list[int]],
) -> None:
    path, ids = db
    result = baluarte(path, "history", "--client", "acme", "--posture", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = [(r["day"], r["compliance_percent"], r["runs"]) for r in json.loads(result.stdout)]
    # 3 Nov, a day without an acme run, keeps the posture of the day before; 4 Nov: pc1 could
    # not be read, so its pass of 2 Nov no longer stands (it would be stale): an error
    assert rows == [
        ("2026-11-02", 66.7, [ids[0]]),
        ("2026-11-03", 66.7, []),
        ("2026-11-04", 0.0, [ids[2]]),
        ("2026-11-05", 33.3, [ids[3]]),
    ]
    text = baluarte(path, "history", "--client", "acme", "--posture")
    assert text.returncode == 0 and "2026-11-04" in text.stdout and "2/2" in text.stdout
    alone = baluarte(path, "history", "--posture")
    assert alone.returncode == 2 and "--client" in alone.stderr


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday"])
def test_a_bad_date_exits_2_and_says_why(db: tuple[str, list[int]], bad: str) -> None:
    result = baluarte(db[0], "history", "--from", bad)
    assert result.returncode == 2
    assert "is not a date (allowed: YYYY-MM-DD)" in result.stderr


def test_report_has_drift_and_trend_from_the_clients_earlier_runs(
    db: tuple[str, list[int]], tmp_path: Path
) -> None:
    path, ids = db
    out = tmp_path / "r.json"
    result = baluarte(path, "report", str(ids[3]), "--format", "json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == "1.5"
    assert doc["drift"]["from_run"] == ids[2]
    (fixed,) = doc["drift"]["newly_passing"]
    assert fixed["failing_since"] == "2026-11-02T09:00:00+00:00"  # the streak began on day 0
    assert fixed["time_to_remediate_hours"] == 72.0
    assert [p["run_id"] for p in doc["trend"]["points"]] == [ids[0], ids[2], ids[3]]
    html = baluarte(path, "report", str(ids[3]), "--format", "html")
    assert html.returncode == 0 and "<svg" in html.stdout and "<script" not in html.stdout
