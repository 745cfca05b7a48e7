"""The store's hash chain on SQLite and PostgreSQL: linking, sealed records, run signatures,
tampering found (edits, state flips, deleted and recomputed runs), concurrency."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from baluarte.chain import verify_chain
from baluarte.evidence.keys import init_key, load_private_key
from baluarte.evidence.record import Sealed
from baluarte.evidence.seal import trusted_keys
from baluarte.findings import Finding, Severity, Status, WaiverRef
from baluarte.remediation import RemediationRecord, RemediationResult
from baluarte.run import InputFile, RunKind, RunRecord
from baluarte.secrets import SecretRef
from baluarte.store import Store
from baluarte.store._chain import unsigned_after_signed
from baluarte.store._migrate import alembic_config
from baluarte.store.store import Checked

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


def test_record_is_compact_json_of_hashes_that_prove_each_field(db: str) -> None:
    with Store.open(db) as s:
        first = run(s, 0)
        second = run(s, 1, remediate=True)
        record = s.canonical(second)
        sealed = s.sealed(second)
        previous = s.chain()[0].record_sha256
    with Store.open(db) as s:  # recomputed from the rows by a new connection: same bytes
        assert s.canonical(second) == record
    assert sealed is not None and sealed.record == record
    doc = json.loads(record)
    assert record == json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    assert doc["format"] == "baluarte-run-record/2"
    assert doc["previous_sha256"] == previous and doc["running"] == []
    assert doc["run"] == {
        "id": second,
        "kind": "apply",
        "state": "complete",
        "started_at": "2026-11-03T09:00:00+00:00",
        "ended_at": "2026-11-03T09:03:00.000123+00:00",
    }
    # no field of the run is in the record itself: only one hash per part
    assert b"ana" not in record and b"srv1" not in record
    assert len(doc["parts"]["findings"]) == 2 and len(doc["parts"]["remediations"]) == 1
    parts = {p.name: p for p in sealed.parts}
    status = parts["findings/0"].leaves["status"]
    # a leaf, a part and the record, each checkable with sha256sum
    assert status.value == '"fail"' and len(status.salt) == 32
    assert hashlib.sha256(f"{status.salt}\n{status.value}".encode()).hexdigest() == status.sha256
    listing = "".join(
        f"{leaf.sha256}  {name}\n" for name, leaf in sorted(parts["findings/0"].leaves.items())
    )
    assert hashlib.sha256(listing.encode()).hexdigest() == doc["parts"]["findings"][0]
    assert parts["findings/1"].leaves["waiver.approved_by"].value == '"dpo"'
    assert parts["findings/0"].leaves["observed"].value == '"PermitRootLogin yes \\u2014 \\u00f1"'
    # the remediation as stored, not completed from the re-check
    assert parts["remediations/0"].leaves["verification"].value == "null"
    assert {"operator", "scope.client", "files.0.path"} <= set(parts["info"].leaves)
    assert first != second


def test_salts_differ_per_run_so_equal_findings_hash_differently(store: Store) -> None:
    a, b = run(store, 0), run(store, 1)
    da = json.loads(store.canonical(a))["parts"]["findings"]
    db_ = json.loads(store.canonical(b))["parts"]["findings"]
    assert da[0] != db_[0]  # same finding, different run: a withheld value cannot be matched


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


# -- state, runs left running, signatures ---------------------------------------------------


def sql(db: str, statement: str, **params: object) -> None:
    """Edit the store behind Baluarte's back, as anyone with write access to it could."""
    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)
    engine.dispose()


def recompute_from(db: str, store: Store, run_id: int) -> None:
    """An attacker without the key: recompute the hashes of ``run_id`` and every later link
    with Baluarte's own code, so the chain is consistent again."""
    ids = [link.run_id for link in store.chain()]
    previous = None
    for rid in ids[ids.index(run_id) :]:
        if previous is not None:
            sql(db, "UPDATE runs SET previous_sha256 = :p WHERE id = :r", p=previous, r=rid)
        previous = hashlib.sha256(store.canonical(rid)).hexdigest()
        sql(db, "UPDATE runs SET record_sha256 = :d WHERE id = :r", d=previous, r=rid)


def test_a_finished_run_flipped_back_to_running_is_found(db: str, store: Store) -> None:
    ids = [run(store, d) for d in range(3)]
    sql(db, "UPDATE runs SET state = 'running' WHERE id = :r", r=ids[1])
    problems = store.verify_chain()
    assert problems[0] == (
        f"run {ids[1]}: stored as running, but the chain holds it as complete (its state was "
        "changed after it finished)"
    )
    assert problems[1].startswith(f"run {ids[1]}: record edited")  # the state is in the record
    # hiding it whole (state and chain columns) leaves a hole between its neighbours
    sql(
        db,
        "UPDATE runs SET chain_seq = NULL, previous_sha256 = NULL, record_sha256 = NULL "
        "WHERE id = :r",
        r=ids[1],
    )
    assert (
        store.verify_chain()
        == [
            f"between run {ids[0]} and run {ids[2]}: a run is missing (run {ids[2]} follows "
            f"{store.chain()[1].previous_sha256[:12]}…, run {ids[0]} ends in "  # type: ignore[index]
            f"{store.chain()[0].record_sha256[:12]}…)"
        ]
    )


def start(store: Store, day: int) -> int:
    return store.start_run(
        kind=RunKind.CHECK,
        operator="ana",
        tool_version="0.1.0",
        inventory_sha256="1" * 64,
        files=FILES,
        scope={},
        devices_total=1,
        started_at=T0 + timedelta(days=day),
    )


def test_a_run_left_running_is_named_once_and_cannot_vanish_or_pass_as_complete(
    db: str, store: Store
) -> None:
    killed = start(store, 0)  # interrupted: never finished
    store.add_findings(killed, [finding("srv1", Status.FAIL)])
    first, second = run(store, 1), run(store, 2)
    assert json.loads(store.canonical(first))["running"] == [killed]
    assert json.loads(store.canonical(second))["running"] == []  # named once only
    assert store.verify_chain() == []
    # passed off as complete (so a report would show it) without a place in the chain
    sql(db, "UPDATE runs SET state = 'complete', ended_at = NULL WHERE id = :r", r=killed)
    assert store.verify_chain() == [
        f"run {killed}: named as running by run {first}'s record, now complete but not in the "
        "hash chain"
    ]
    # deleted
    for table in ("findings", "run_files"):
        sql(db, f"DELETE FROM {table} WHERE run_id = :r", r=killed)
    sql(db, "DELETE FROM runs WHERE id = :r", r=killed)
    assert store.verify_chain() == [
        f"run {killed}: named as running by run {first}'s record, but missing from the store "
        "(deleted?)"
    ]


def test_a_run_still_running_finishes_into_the_chain_later(store: Store) -> None:
    slow = start(store, 0)
    quick = run(store, 1)
    store.add_findings(slow, [finding("srv1", Status.PASS)])
    store.finish_run(slow, ended_at=T0 + timedelta(days=1, hours=1))
    assert [link.run_id for link in store.chain()] == [quick, slow]
    assert json.loads(store.canonical(quick))["running"] == [slow]
    assert store.verify_chain() == []


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Ed25519PrivateKey, dict[str, Ed25519PublicKey]]:
    path = tmp_path / "keys" / "signing-key.pem"
    init_key(path)
    return load_private_key(path), trusted_keys(folder=path.parent)


def test_signed_runs_verify_and_an_attacker_without_the_key_is_found(
    db: str, keys: tuple[Ed25519PrivateKey, dict[str, Ed25519PublicKey]]
) -> None:
    key, trusted = keys
    with Store.open(db, signing_key=key) as s:
        ids = [run(s, d) for d in range(4)]
        seals = s.seals(ids)
        check = s.check_chain(trusted)
        assert check.problems == [] and check.signed == ids and check.unsigned == []
        assert {seals[i].signed_by for i in ids} == set(trusted)
        record = s.canonical(ids[1])
        assert key.public_key().verify(seals[ids[1]].signature, record) is None  # type: ignore[arg-type,func-returns-value]
        # fail → pass, and every hash recomputed with Baluarte's own code
        sql(
            db,
            "UPDATE findings SET status = 'pass' WHERE run_id = :r AND device = 'srv1'",
            r=ids[1],
        )
        recompute_from(db, s, ids[1])
        assert s.verify_chain() == []  # the hashes alone no longer tell…
        broken = s.check_chain(trusted).problems  # …the signatures do
        assert [p.split(":")[0] for p in broken] == [f"run {i}" for i in ids[1:]]
        assert "its signature does not verify with SHA256:" in broken[0]
        # re-signed with the attacker's own key
        other = Ed25519PrivateKey.generate()
        for rid in ids[1:]:
            sql(
                db,
                "UPDATE runs SET record_signature = :s, signed_by = 'SHA256:00' WHERE id = :r",
                s=other.sign(s.canonical(rid)).hex(),
                r=rid,
            )
        assert "which is not a trusted key" in s.check_chain(trusted).problems[0]
        # signatures stripped: unsigned and sealed by nothing — and broken when required
        sql(
            db, "UPDATE runs SET record_signature = NULL, signed_by = NULL WHERE id <> :r", r=ids[0]
        )
        check = s.check_chain(trusted)
        assert check.problems == [] and check.signed == ids[:1]
        assert check.unsealed == ids[1:]
        assert [p.split(":")[0] for p in unsigned_after_signed(check)] == [
            f"run {i}" for i in ids[1:]
        ]


def test_a_run_finished_without_the_key_is_unsigned_and_sealed_by_the_next_signed_one(
    db: str, keys: tuple[Ed25519PrivateKey, dict[str, Ed25519PublicKey]]
) -> None:
    key, trusted = keys
    with Store.open(db, signing_key=None) as s:
        unsigned = [run(s, 0), run(s, 1)]
    with Store.open(db, signing_key=key) as s:
        signed = run(s, 2)
        check = s.check_chain(trusted)
    assert check.problems == [] and check.signed == [signed]
    assert check.unsigned == unsigned and check.unsealed == []
    assert unsigned_after_signed(check) == []
    with Store.open(db, signing_key=None) as s:
        tail = run(s, 3)
        check = s.check_chain(trusted)
        assert check.problems == [] and check.unsealed == [tail]
        assert s.check_chain().unchecked == [signed]  # no trusted key: not checked, not broken


def test_the_provider_key_signs_by_default_when_it_is_here(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "provider" / "signing-key.pem"
    monkeypatch.setenv("EVIDENCE_PASS", "correct horse")
    init_key(path, SecretRef.parse("env:EVIDENCE_PASS"))
    monkeypatch.setenv("BALUARTE_SIGNING_KEY", str(path))
    monkeypatch.delenv("BALUARTE_SIGNING_PASSPHRASE", raising=False)
    with Store.open(db) as s:
        locked = run(s, 0)  # encrypted, no passphrase given: kept, unsigned, said so
        assert "run not signed: the signing key" in caplog.text
        assert "correct horse" not in caplog.text
        monkeypatch.setenv("BALUARTE_SIGNING_PASSPHRASE", "env:EVIDENCE_PASS")
        opened = run(s, 1)
        seals = s.seals([locked, opened])
        check = s.check_chain(trusted_keys())
    assert seals[locked].signature is None and seals[opened].signature is not None
    assert check.problems == [] and check.signed == [opened] and check.unsigned == [locked]


def test_format_1_records_chained_before_the_upgrade_still_verify(db: str, store: Store) -> None:
    old = [run(store, 0), run(store, 1)]
    # as revision 0004 left them: the whole run hashed as one document, no salt
    previous = None
    for rid in old:
        sql(db, "UPDATE runs SET record_salt = NULL, chain_running = NULL, "
            "previous_sha256 = :p WHERE id = :r", p=previous, r=rid)  # fmt: skip
        previous = hashlib.sha256(store.canonical(rid)).hexdigest()
        sql(db, "UPDATE runs SET record_sha256 = :d WHERE id = :r", d=previous, r=rid)
    new = run(store, 2)
    assert json.loads(store.canonical(old[1]))["findings"][0]["device"] == "srv1"  # format 1
    assert store.seals(old)[old[0]].format == 1 and store.sealed(old[0]) is None
    assert store.chain()[-1].previous_sha256 == previous and store.seals([new])[new].format == 2
    assert store.verify_chain() == []
    sql(db, "UPDATE findings SET status = 'pass' WHERE run_id = :r", r=old[0])
    assert store.verify_chain()[0].startswith(f"run {old[0]}: record edited")


# -- verified tags: a check with the provider's key rebuilds only what changed ---------------


@pytest.fixture
def rebuilt(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the runs whose record the store rebuilds from their rows (seal is wrapped,
    not replaced: every record is still the real one)."""
    import baluarte.store.store as store_module

    seen: list[int] = []
    real = store_module.seal

    def counted(run: RunRecord, **kw: Any) -> Sealed:
        seen.append(run.info.id)
        return real(run, **kw)

    monkeypatch.setattr(store_module, "seal", counted)
    return seen


def test_a_check_with_the_key_takes_tagged_runs_as_stored_and_rebuilds_any_changed(
    db: str, keys: tuple[Ed25519PrivateKey, dict[str, Ed25519PublicKey]], rebuilt: list[int]
) -> None:
    key, trusted = keys
    with Store.open(db, signing_key=key) as s:
        ids = [run(s, d, remediate=d == 1) for d in range(3)]
        records = {i: s.canonical(i) for i in ids}
        rebuilt.clear()
        checked: dict[int, Checked] = {}
        check = s.check_chain(trusted, signing_key=key, checked=checked)
        assert check.problems == [] and check.signed == ids
        assert rebuilt == []  # every run taken by its stored record, its tag holding
        assert {i: c.record for i, c in checked.items()} == records
        assert s.check_chain(trusted).problems == [] and rebuilt == ids  # without the key: all
        # a finding edited behind the store's back: that run's tag fails, it is rebuilt, and
        # the edit found as before
        rebuilt.clear()
        sql(db, "UPDATE findings SET status = 'pass' WHERE run_id = :r AND device = 'srv1'",
            r=ids[1])  # fmt: skip
        problems = s.check_chain(trusted, signing_key=key).problems
        assert rebuilt == [ids[1]]
        assert problems[0].startswith(f"run {ids[1]}: record edited")
        assert {p.split(":")[0] for p in problems} == {f"run {ids[1]}"}  # its signature too
        # …and with every hash recomputed by Baluarte's own code: the signatures tell
        recompute_from(db, s, ids[1])
        broken = s.check_chain(trusted, signing_key=key).problems
        assert [p.split(":")[0] for p in broken] == [f"run {i}" for i in ids[1:]]


def test_a_stored_record_or_tag_changed_is_found_or_rebuilt_never_trusted(
    db: str, keys: tuple[Ed25519PrivateKey, dict[str, Ed25519PublicKey]], rebuilt: list[int]
) -> None:
    key, trusted = keys
    with Store.open(db, signing_key=key) as s:
        ids = [run(s, d) for d in range(3)]
        # the stored record of run 2 replaced by run 1's: its tag still holds, its hash not
        engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE runs SET record = :b WHERE id = :r"),
                {"b": s.canonical(ids[0]), "r": ids[1]},
            )
        engine.dispose()
        problems = s.check_chain(trusted, signing_key=key).problems
        assert problems[0].startswith(f"run {ids[1]}: record edited")
        # a tag made with another key: the run is rebuilt (found intact) and the tag remade
        sql(db, "UPDATE runs SET record = NULL WHERE id = :r", r=ids[1])
        other = Ed25519PrivateKey.generate()
        with Store.open(db, signing_key=other) as forger:
            forged = run(forger, 3)
        rebuilt.clear()
        checked: dict[int, Checked] = {}
        check = s.check_chain(trusted | _trusted(other), signing_key=key, checked=checked)
        assert check.problems == [] and rebuilt == [ids[1], forged]
        assert [i for i, c in checked.items() if c.retag] == [ids[1], forged]
        s.keep_tags(checked)  # what an export does after a check that holds
        rebuilt.clear()
        assert s.check_chain(trusted | _trusted(other), signing_key=key).problems == []
        assert rebuilt == []


def test_runs_finished_without_the_key_are_tagged_after_a_check_with_it(
    db: str, keys: tuple[Ed25519PrivateKey, dict[str, Ed25519PublicKey]], rebuilt: list[int]
) -> None:
    key, trusted = keys
    with Store.open(db, signing_key=None) as s:
        ids = [run(s, d) for d in range(2)]
        rebuilt.clear()
        checked: dict[int, Checked] = {}
        assert s.check_chain(trusted, signing_key=key, checked=checked).problems == []
        assert rebuilt == ids
        s.keep_tags(checked)
        rebuilt.clear()
        assert s.check_chain(trusted, signing_key=key).problems == [] and rebuilt == []
        # a tag kept is no pass for a later edit
        sql(db, "UPDATE findings SET observed = 'x' WHERE run_id = :r", r=ids[0])
        assert (
            s.check_chain(trusted, signing_key=key)
            .problems[0]
            .startswith(f"run {ids[0]}: record edited")
        )


def _trusted(key: Ed25519PrivateKey) -> dict[str, Ed25519PublicKey]:
    from baluarte.evidence.keys import fingerprint

    return {fingerprint(key.public_key()): key.public_key()}
