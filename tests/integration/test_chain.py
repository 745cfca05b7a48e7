"""The store's hash chain on SQLite and PostgreSQL: linking, tampering found, concurrency."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from baluarte.chain import verify_chain
from baluarte.findings import Finding, Severity, Status, WaiverRef
from baluarte.remediation import RemediationRecord, RemediationResult
from baluarte.run import InputFile, RunKind
from baluarte.store import Store
from baluarte.store._migrate import alembic_config

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FILES = (InputFile(role="policy", path="policies/linux.yaml", sha256="2" * 64),)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "baluarte.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    with Store.open(db) as s:
        yield s


def finding(device: str, status: Status, **kw: object) -> Finding:
    return Finding(
        client="acme", site="hq", device=device, platform="linux",
        control="access.ssh_root_login", policy="linux-baseline", status=status,
        severity=Severity.HIGH, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def run(store: Store, day: int, *, remediate: bool = False) -> int:
    started = T0 + timedelta(days=day)
    run_id = store.start_run(
        kind=RunKind.APPLY if remediate else RunKind.CHECK,
        operator="ana",
        tool_version="0.1.0",
        inventory_sha256="1" * 64,
        files=FILES,
        scope={"client": "acme"},
        devices_total=2,
        started_at=started,
    )
    if remediate:
        store.add_remediations(
            run_id,
            [
                RemediationRecord(
                    client="acme", site="hq", device="srv1", platform="linux",
                    control="access.ssh_root_login", result=RemediationResult.APPLIED,
                    before="PermitRootLogin yes", action="drop-in", detail="$ sshd -t",
                )
            ],
        )  # fmt: skip
    waiver = WaiverRef(reason="legacy", approved_by="dpo", expires=date(2027, 1, 1))
    store.add_findings(
        run_id,
        [
            finding("srv1", Status.FAIL, observed="PermitRootLogin yes — ñ"),
            finding("srv2", Status.WAIVED, waiver=waiver, evidence="line1\nline2"),
        ],
    )
    store.finish_run(run_id, ended_at=started + timedelta(minutes=3, microseconds=123))
    return run_id


def test_finished_runs_link_into_a_chain_in_finish_order(store: Store) -> None:
    ids = [run(store, d, remediate=d == 1) for d in range(3)]
    links = store.chain()
    assert [link.run_id for link in links] == ids
    assert links[0].previous_sha256 is None
    for before, after in itertools.pairwise(links):
        assert after.previous_sha256 == before.record_sha256
    for link in links:
        assert hashlib.sha256(store.canonical(link.run_id)).hexdigest() == link.record_sha256
    assert store.verify_chain() == []


def test_canonical_record_is_stable_sorted_compact_json_of_the_stored_run(db: str) -> None:
    with Store.open(db) as s:
        first = run(s, 0)
        second = run(s, 1, remediate=True)
        record = s.canonical(second)
        previous = s.chain()[0].record_sha256
    with Store.open(db) as s:  # recomputed from the rows by a new connection: same bytes
        assert s.canonical(second) == record
    doc = json.loads(record)
    assert (
        record
        == json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert doc["previous_sha256"] == previous
    assert doc["run"]["id"] == second and doc["run"]["started_at"] == "2026-11-03T09:00:00+00:00"
    assert doc["run"]["ended_at"] == "2026-11-03T09:03:00.000123+00:00"
    assert [f["device"] for f in doc["findings"]] == ["srv1", "srv2"]
    assert doc["findings"][1]["waiver"]["expires"] == "2027-01-01"
    # the remediation as stored, not completed from the re-check
    assert doc["remediations"][0]["verification"] is None
    assert first != second


def test_an_edited_finding_is_found_with_the_run_named(db: str, store: Store) -> None:
    ids = [run(store, d) for d in range(3)]
    expected = store.chain()[1].record_sha256
    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE findings SET status = 'pass' WHERE run_id = :r AND device = 'srv1'"),
            {"r": ids[1]},
        )
    engine.dispose()
    problems = store.verify_chain()
    assert len(problems) == 1
    assert problems[0].startswith(f"run {ids[1]}: record edited (sha256 ")
    assert f"expected {expected})" in problems[0]


def test_a_deleted_run_is_found_between_its_neighbours(db: str, store: Store) -> None:
    ids = [run(store, d, remediate=True) for d in range(4)]
    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
    with engine.begin() as conn:
        for table in ("findings", "remediations", "run_files"):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE run_id = :r"), {"r": ids[2]})
        conn.execute(sa.text("DELETE FROM runs WHERE id = :r"), {"r": ids[2]})
    engine.dispose()
    problems = store.verify_chain()
    assert len(problems) == 1
    assert problems[0].startswith(f"between run {ids[1]} and run {ids[3]}: a run is missing")


def test_deleting_the_first_runs_is_found(db: str, store: Store) -> None:
    ids = [run(store, d) for d in range(2)]
    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM findings WHERE run_id = :r"), {"r": ids[0]})
        conn.execute(sa.text("DELETE FROM run_files WHERE run_id = :r"), {"r": ids[0]})
        conn.execute(sa.text("DELETE FROM runs WHERE id = :r"), {"r": ids[0]})
    engine.dispose()
    assert store.verify_chain() == [
        f"run {ids[1]}: first in the chain but follows "
        f"{store.chain()[0].previous_sha256[:12]}…: the runs before it are missing"  # type: ignore[index]
    ]


def test_concurrent_finishes_keep_one_linear_chain(db: str) -> None:
    stores = [Store.open(db) for _ in range(4)]
    errors: list[BaseException] = []

    def work(s: Store, worker: int) -> None:
        try:
            for n in range(4):
                run(s, worker * 10 + n)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s, i)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    links = stores[0].chain()
    assert len(links) == 16 and len({link.run_id for link in links}) == 16
    assert stores[0].verify_chain() == []
    for s in stores:
        s.close()


def test_chain_for_a_period_starts_with_the_link_before_it(store: Store) -> None:
    ids = [run(store, d) for d in range(5)]
    start, end = T0 + timedelta(days=2), T0 + timedelta(days=3, hours=1)
    links = store.chain(start, end)
    assert [link.run_id for link in links] == ids[1:4]
    records = {link.run_id: store.canonical(link.run_id) for link in links}
    assert verify_chain(links, records) == []
    # a record the caller could not produce is named
    del records[ids[2]]
    assert verify_chain(links, records) == [f"run {ids[2]}: its record is missing (run deleted?)"]


def test_runs_finished_before_the_upgrade_stay_outside_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0002")
        conn.execute(
            sa.text(
                "INSERT INTO runs (kind, state, started_at, ended_at, operator, tool_version, "
                "inventory_sha256, scope, client, devices_total, findings_count) VALUES "
                "('check', 'complete', '2026-10-01 09:00:00', '2026-10-01 09:01:00', 'ana', "
                "'0.0.9', :sha, '{}', NULL, 0, 0)"
            ),
            {"sha": "1" * 64},
        )
    engine.dispose()
    with Store.open(path) as s:
        new = run(s, 0)
        assert [link.run_id for link in s.chain()] == [new]
        assert s.chain()[0].previous_sha256 is None
        assert s.verify_chain() == []
        with pytest.raises(Exception, match="not in the hash chain"):
            s.canonical(1)
