"""Late results in the run store, on SQLite and PostgreSQL: a collector's answer that came after
its run ended is recorded as given, listed in the order received, and leaves the run's findings,
its sealed record and the hash chain as they were."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from baluarte.errors import StoreError
from baluarte.evidence.keys import init_key, load_private_key
from baluarte.evidence.seal import trusted_keys
from baluarte.findings import Finding, Severity, Status
from baluarte.run import LateOutcome, LateResult, RunKind
from baluarte.store import Store
from baluarte.store.store import Checked

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOSTILE = "\x1b[2J[bold]boom[/bold]\tcol\nline 2 \u202e"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "baluarte.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    with Store.open(db, signing_key=None) as s:
        yield s


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Ed25519PrivateKey, dict[str, Ed25519PublicKey]]:
    path = tmp_path / "keys" / "signing-key.pem"
    init_key(path)
    return load_private_key(path), trusted_keys(folder=path.parent)


def finished_run(store: Store, day: int = 0) -> int:
    started = T0 + timedelta(days=day)
    run_id = store.start_run(
        kind=RunKind.CHECK, operator="ana", tool_version="0.1.0", inventory_sha256="1" * 64,
        files=(), scope={"client": "acme"}, devices_total=1, started_at=started,
    )  # fmt: skip
    found = Finding(
        client="acme", site="hq", device="srv1", platform="linux",
        control="access.ssh_root_login", status=Status.FAIL, severity=Severity.HIGH,
        observed="PermitRootLogin yes",
    )  # fmt: skip
    store.add_findings(run_id, [found])
    store.finish_run(run_id, ended_at=started + timedelta(minutes=5))
    return run_id


def late(store: Store, run_id: int, minutes: int, **kw: object) -> None:
    fields: dict[str, object] = {
        "device": "acme/hq/srv1",
        "collector": "acme-hq",
        "received_at": T0 + timedelta(minutes=minutes),
        "sent_at": None,
        "outcome": "facts",
        "detail": "facts for 3 domains",
    }
    store.add_late_result(run_id, **(fields | kw))  # type: ignore[arg-type]


def test_late_results_read_back_as_given_in_the_order_received(store: Store) -> None:
    run_id = finished_run(store)
    other = finished_run(store, day=1)
    madrid = timezone(timedelta(hours=1))
    late(store, run_id, 9, outcome=LateOutcome.ERROR, detail=HOSTILE, collector="acme-hq\x1b]0;")
    late(store, run_id, 7, sent_at=datetime(2026, 11, 2, 10, 6, 30, tzinfo=madrid))
    late(store, other, 8, outcome="refused", detail="job refused: unknown policy")

    assert store.late_results(run_id) == [
        LateResult(
            run_id=run_id, device="acme/hq/srv1", collector="acme-hq",
            sent_at=datetime(2026, 11, 2, 9, 6, 30, tzinfo=UTC),
            received_at=T0 + timedelta(minutes=7), outcome=LateOutcome.FACTS,
            detail="facts for 3 domains",
        ),
        # the collector's text is kept exactly as it came: only what shows it makes it inert
        LateResult(
            run_id=run_id, device="acme/hq/srv1", collector="acme-hq\x1b]0;", sent_at=None,
            received_at=T0 + timedelta(minutes=9), outcome=LateOutcome.ERROR, detail=HOSTILE,
        ),
    ]  # fmt: skip
    (refused,) = store.late_results(other)
    assert refused.outcome is LateOutcome.REFUSED
    assert refused.received_at.tzinfo is not None and refused.received_at.utcoffset() == timedelta()
    # never a finding
    assert [f.control for f in store.get_run(run_id).findings] == ["access.ssh_root_login"]
    assert store.late_results(finished_run(store, day=2)) == []


def test_unknown_run_bad_outcome_and_naive_times_are_refused(store: Store) -> None:
    run_id = finished_run(store)
    with pytest.raises(StoreError, match="no run 999"):
        late(store, 999, 1)
    with pytest.raises(StoreError, match="no run 999"):
        store.late_results(999)
    with pytest.raises(StoreError, match="outcome is one of facts, error, refused"):
        late(store, run_id, 1, outcome="pass")
    with pytest.raises(StoreError, match="received_at must be timezone-aware"):
        late(store, run_id, 1, received_at=datetime(2026, 11, 2, 9, 1))
    with pytest.raises(StoreError, match="sent_at must be timezone-aware"):
        late(store, run_id, 1, sent_at=datetime(2026, 11, 2, 9, 1))
    assert store.late_results(run_id) == []


def test_a_sealed_run_keeps_its_seal_and_the_chain_verifies_after_late_results(
    db: str, keys: tuple[Ed25519PrivateKey, dict[str, Ed25519PublicKey]]
) -> None:
    key, trusted = keys
    with Store.open(db, signing_key=key) as s:
        ids = [finished_run(s, day) for day in range(3)]
        record = s.canonical(ids[1])
        (links_before, seals_before) = (s.chain(), s.seals(ids))
        for minutes in (6, 7):
            late(s, ids[1], minutes, detail=HOSTILE)
        late(s, ids[2], 30, outcome="error", detail="timed out")

        assert s.canonical(ids[1]) == record  # the record rebuilt from its rows: unchanged
        assert (s.chain(), s.seals(ids)) == (links_before, seals_before)
        rebuilt = s.check_chain(trusted)  # every record rebuilt from its rows, and signed
        assert rebuilt.problems == [] and rebuilt.signed == ids
        checked: dict[int, Checked] = {}
        tagged = s.check_chain(trusted, signing_key=key, checked=checked)
        assert tagged.problems == []
        # each verified tag still holds for the rows as stored: taken as sealed, not rebuilt
        assert all(c.sealed is None and c.retag is None for c in checked.values())
        assert s.verify_chain() == []
        # a later run still finishes into the chain after them
        after = finished_run(s, day=3)
        assert s.check_chain(trusted).signed == [*ids, after]
        assert len(s.late_results(ids[1])) == 2


def test_a_running_run_takes_late_results_and_still_finishes_into_the_chain(store: Store) -> None:
    run_id = store.start_run(
        kind=RunKind.CHECK, operator="ana", tool_version="0.1.0", inventory_sha256="1" * 64,
        files=(), scope={}, devices_total=1, started_at=T0,
    )  # fmt: skip
    late(store, run_id, 2)
    store.finish_run(run_id, ended_at=T0 + timedelta(minutes=3))
    assert store.verify_chain() == []
    assert [r.received_at for r in store.late_results(run_id)] == [T0 + timedelta(minutes=2)]
