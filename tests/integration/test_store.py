"""The run store on SQLite and on the PostgreSQL server at 127.0.0.1:5432 (marker ``postgres``)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from baluarte.errors import StoreError
from baluarte.findings import Finding, Severity, Status, WaiverRef
from baluarte.run import InputFile, RunKind, RunState
from baluarte.store import Store
from baluarte.store._migrate import HEAD, alembic_config
from baluarte.store.tables import metadata

REPO = Path(__file__).resolve().parents[2]
SHA_INV = "1" * 64
FILES = (
    InputFile(role="inventory", path="inventory/example.yaml", sha256=SHA_INV),
    InputFile(role="policy", path="policies/linux-baseline.yaml", sha256="2" * 64),
    InputFile(role="waivers", path="policies/waivers.yaml", sha256="3" * 64),
)


# -- backends -------------------------------------------------------------------------------


@pytest.fixture
def sqlite_path(tmp_path: Path) -> str:
    return str(tmp_path / "baluarte.db")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> str:
    """The store's location on each backend: a SQLite file path, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_path"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    s = Store.open(db)
    yield s
    s.close()


# -- sample data ----------------------------------------------------------------------------


def finding(device: str, control: str, status: Status, **kw: object) -> Finding:
    fields: dict[str, object] = {
        "client": "acme",
        "site": "madrid-hq",
        "device": device,
        "platform": "linux",
        "control": control,
        "policy": "linux-baseline",
        "status": status,
        "severity": Severity.HIGH,
    }
    fields.update(kw)
    return Finding.model_validate(fields)


def every_status() -> list[Finding]:
    """One finding per status, a waived one, and a fail judged under an expired waiver."""
    return [
        finding(
            "srv-files",
            "patching.security_updates_pending",
            Status.PASS,
            expected="max 0",
            observed="0",
            evidence="Listing... Done\n",
        ),
        finding(
            "srv-files",
            "patching.days_since_last_update",
            Status.FAIL,
            severity=Severity.MEDIUM,
            expected="max 14 days",
            observed="31 days",
            reason="last apt upgrade 31 days ago",
            evidence="Start-Date: 2026-10-01  09:12:44\nCommandline: apt-get -y upgrade\n«ñ»",
        ),
        finding(
            "srv-files",
            "patching.reboot_required",
            Status.WAIVED,
            severity=Severity.LOW,
            expected="reboot within 7 days",
            observed="pending 12 days",
            waiver=WaiverRef(
                reason="ERP vendor certifies kernel updates monthly",
                approved_by="María López (DPO, ACME)",
                ticket="ACME-1042",
                expires=date(2027, 1, 31),
            ),
        ),
        finding(
            "srv-files",
            "firewall.enabled",
            Status.FAIL,
            severity=Severity.CRITICAL,
            expected="enabled",
            observed="inactive",
            waiver=WaiverRef(
                reason="migration window",
                approved_by="IT lead",
                expires=date(2025, 1, 1),
                expired=True,
            ),
        ),
        finding(
            "fw-hq",
            "backup.last_success_age",
            Status.ERROR,
            platform="fortigate",
            policy=None,
            reason="unreachable: connection refused",
        ),
        finding(
            "pc-recepcion",
            "endpoint.installed",
            Status.NOT_APPLICABLE,
            platform="windows",
            severity=Severity.LOW,
            reason="no endpoint section in the policy",
        ),
    ]


def start(store: Store, *, scope: dict[str, str] | None = None, **kw: object) -> int:
    args: dict[str, object] = {
        "kind": RunKind.CHECK,
        "operator": "tecnico@msp",
        "tool_version": "0.1.0",
        "inventory_sha256": SHA_INV,
        "files": FILES,
        "scope": {"client": "acme"} if scope is None else scope,
        "devices_total": 3,
    }
    args.update(kw)
    return store.start_run(**args)  # type: ignore[arg-type]


# -- round trip -----------------------------------------------------------------------------


def test_run_with_every_status_reads_back_unchanged(store: Store) -> None:
    madrid = timezone(timedelta(hours=1))
    started = datetime(2026, 11, 3, 2, 0, 0, 123456, tzinfo=madrid)
    ended = started + timedelta(minutes=7, seconds=3)
    found = every_status()

    run_id = start(store, started_at=started)
    store.add_findings(run_id, found[:4])
    store.add_findings(run_id, found[4:])
    store.finish_run(run_id, ended_at=ended)

    record = store.get_run(run_id)
    assert record.findings == tuple(found)
    info = record.info
    assert (info.id, info.kind, info.state, info.incomplete) == (
        run_id,
        RunKind.CHECK,
        RunState.COMPLETE,
        False,
    )
    assert info.started_at == started and info.ended_at == ended
    assert info.started_at.utcoffset() == timedelta(0) and info.ended_at is not None
    assert info.ended_at.tzinfo is not None and info.ended_at.utcoffset() == timedelta(0)
    assert (info.operator, info.tool_version, info.inventory_sha256) == (
        "tecnico@msp",
        "0.1.0",
        SHA_INV,
    )
    assert info.files == FILES
    assert info.scope == {"client": "acme"}
    assert info.devices_total == 3
    assert record.counts() == {
        Status.PASS: 1,
        Status.FAIL: 2,
        Status.ERROR: 1,
        Status.NOT_APPLICABLE: 1,
        Status.WAIVED: 1,
    }


@pytest.mark.postgres
def test_sqlite_and_postgresql_read_back_the_same_run(sqlite_path: str, pg_url: str) -> None:
    started = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
    records = []
    for location in (sqlite_path, pg_url):
        with Store.open(location) as s:
            run_id = start(s, started_at=started)
            s.add_findings(run_id, every_status())
            s.finish_run(run_id, ended_at=started + timedelta(seconds=90))
            records.append(s.get_run(run_id))
    on_sqlite, on_postgresql = records
    assert on_sqlite == on_postgresql
    assert on_sqlite.findings == tuple(every_status())


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="timezone-aware"):
        start(store, started_at=datetime(2026, 11, 3, 2, 0))
    assert store.list_runs() == []


def test_bad_digest_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="SHA-256"):
        start(store, inventory_sha256="not-a-digest")


# -- listing --------------------------------------------------------------------------------


def test_list_runs_is_newest_first_and_filters_by_client(store: Store) -> None:
    day = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    # inserted out of time order: listing follows started_at, not insertion
    acme_old = start(store, started_at=day)
    everyone = start(store, scope={}, started_at=day + timedelta(days=2))
    acme_new = start(store, started_at=day + timedelta(days=1))
    beta = start(store, scope={"client": "beta"}, started_at=day + timedelta(days=3))
    store.add_findings(
        everyone, [finding("nas", "backup.last_success_age", Status.PASS, client="beta")]
    )

    assert [r.id for r in store.list_runs()] == [beta, everyone, acme_new, acme_old]
    assert [r.id for r in store.list_runs(limit=2)] == [beta, everyone]
    assert [r.id for r in store.list_runs(client="acme")] == [acme_new, acme_old]
    # a run over every client covers beta because it holds beta's findings
    assert [r.id for r in store.list_runs(client="beta")] == [beta, everyone]
    assert store.list_runs(client="nobody") == []
    assert store.latest_run_id() == beta
    assert all(r.incomplete for r in store.list_runs())


def test_empty_store_has_no_latest_run(store: Store) -> None:
    assert store.latest_run_id() is None
    assert store.list_runs() == []


# -- append-only ----------------------------------------------------------------------------


def test_finished_run_refuses_findings_and_a_second_finish(store: Store) -> None:
    run_id = start(store)
    store.add_findings(run_id, every_status()[:1])
    store.finish_run(run_id)
    ended = store.get_run(run_id).info.ended_at

    with pytest.raises(StoreError, match="append-only"):
        store.add_findings(run_id, every_status()[1:2])
    with pytest.raises(StoreError, match="append-only"):
        store.finish_run(run_id)

    record = store.get_run(run_id)
    assert record.findings == tuple(every_status()[:1])
    assert record.info.ended_at == ended


def test_unknown_run_is_an_error(store: Store) -> None:
    with pytest.raises(StoreError, match="no run 999"):
        store.get_run(999)
    with pytest.raises(StoreError, match="no run 999"):
        store.add_findings(999, every_status())
    with pytest.raises(StoreError, match="no run 999"):
        store.finish_run(999)


def test_concurrent_writers_keep_every_finding(db: str) -> None:
    stores = [Store.open(db) for _ in range(4)]
    run_id = start(stores[0], devices_total=40)
    errors: list[BaseException] = []

    def work(s: Store, worker: int) -> None:
        try:
            for n in range(10):
                device = f"dev-{worker}-{n}"
                s.add_findings(
                    run_id,
                    [
                        finding(device, "firewall.enabled", Status.PASS),
                        finding(device, "endpoint.installed", Status.FAIL),
                    ],
                )
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s, i)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = stores[0].get_run(run_id).findings
    assert len(got) == 80
    # each device's pair stays together, in the order it was added
    for first, second in zip(got[::2], got[1::2], strict=True):
        assert first.device == second.device
        assert (first.control, second.control) == ("firewall.enabled", "endpoint.installed")
    for s in stores:
        s.close()


# -- migrations -----------------------------------------------------------------------------


def test_open_creates_the_schema_from_empty_and_twice_is_fine(db: str) -> None:
    Store.open(db).close()
    with Store.open(db) as again:
        run_id = start(again)
    with Store.open(db) as third:
        assert third.latest_run_id() == run_id

    url = db if "://" in db else f"sqlite:///{db}"
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn)
            assert context.get_current_revision() == head
            # what the migrations built is exactly what tables.py describes
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_fast_path_head_is_alembics_head() -> None:
    # Store.open skips importing Alembic when the store is at HEAD: HEAD must be the real head
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


def test_schema_newer_than_this_baluarte_is_refused(sqlite_path: str) -> None:
    Store.open(sqlite_path).close()
    engine = sa.create_engine(f"sqlite:///{sqlite_path}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer than this Baluarte"):
        Store.open(sqlite_path)


# -- a killed run ---------------------------------------------------------------------------

_KILLED_RUN = """
import sys, time
from baluarte.findings import Finding
from baluarte.run import InputFile, RunKind
from baluarte.store import Store

store = Store.open(sys.argv[1])
run_id = store.start_run(
    kind=RunKind.CHECK, operator="cron", tool_version="0.1.0", inventory_sha256="1" * 64,
    files=[InputFile(role="inventory", path="inventory/example.yaml", sha256="1" * 64)],
    scope={"client": "acme"}, devices_total=3,
)
store.add_findings(run_id, [Finding.model_validate_json(line) for line in sys.argv[2:]])
print(run_id, flush=True)
time.sleep(3600)  # the next device never finishes
"""


def test_killed_run_is_incomplete_and_keeps_its_findings(db: str) -> None:
    first_device = [f for f in every_status() if f.device == "srv-files"]
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RUN, db, *(f.model_dump_json() for f in first_device)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line, child.stderr.read() if child.stderr else "child died"
        run_id = int(line)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    with Store.open(db) as store:
        (listed,) = store.list_runs()
        assert listed.id == run_id
        assert listed.state is RunState.RUNNING and listed.incomplete
        assert listed.ended_at is None
        assert store.get_run(run_id).findings == tuple(first_device)
        # the killed run can still be closed by a later clean-up, never extended past that
        store.finish_run(run_id)
        with pytest.raises(StoreError, match="append-only"):
            store.add_findings(run_id, first_device)


# -- locations and error messages -----------------------------------------------------------


def test_password_in_url_never_reaches_the_message() -> None:
    secret = "S3cret-Pa55"
    # port 1: connection refused at once, the driver's error carries the connection settings
    with pytest.raises(StoreError) as caught:
        Store.open(f"postgresql://baluarte:{secret}@127.0.0.1:1/runs")
    assert secret not in str(caught.value)
    assert "***" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__

    with pytest.raises(StoreError) as bad:
        Store.open(f"postgresql://baluarte:{secret}@[::1/runs")
    assert secret not in str(bad.value)


def test_default_location_is_env_var_then_baluarte_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BALUARTE_DB", raising=False)
    Store.open().close()
    assert (tmp_path / "baluarte.db").is_file()

    monkeypatch.setenv("BALUARTE_DB", str(tmp_path / "elsewhere.db"))
    with Store.open() as s:
        start(s)
    with Store.open(tmp_path / "elsewhere.db") as s:
        assert len(s.list_runs()) == 1


def test_unopenable_sqlite_file_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot"):
        Store.open(tmp_path / "missing-dir" / "baluarte.db")


def test_closed_store_refuses_use(sqlite_path: str) -> None:
    s = Store.open(sqlite_path)
    s.close()
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.list_runs()


def test_remediation_records_read_back_in_order_and_a_finished_run_refuses_more(
    store: Store,
) -> None:
    from baluarte.remediation import RemediationRecord, RemediationResult

    run_id = start(store, kind=RunKind.APPLY)
    records = [
        RemediationRecord(
            client="acme", site="hq", device="srv1", platform="linux",
            control="access.ssh_password_authentication", policy="linux-baseline",
            result=RemediationResult.APPLIED, before="PasswordAuthentication yes",
            action="write /etc/ssh/sshd_config.d/50-baluarte.conf", after="off",
            detail="sshd -t && systemctl reload ssh", verification=Status.PASS,
        ),
        RemediationRecord(
            client="acme", site="hq", device="srv1", platform="linux",
            control="firewall.enabled", result=RemediationResult.REFUSED,
            detail="would lock Baluarte out",
        ),
    ]  # fmt: skip
    store.add_remediations(run_id, records[:1])
    store.add_remediations(run_id, records[1:])
    store.finish_run(run_id)
    assert store.get_run(run_id).remediations == tuple(records)
    with pytest.raises(StoreError):
        store.add_remediations(run_id, records)


def test_remediation_records_take_their_verification_from_the_runs_recheck(store: Store) -> None:
    from baluarte.remediation import RemediationRecord, RemediationResult

    run_id = start(store, kind=RunKind.APPLY)
    store.add_remediations(
        run_id,
        [
            RemediationRecord(
                client="acme", site="madrid-hq", device="srv1", platform="linux",
                control="access.ssh_root_login", result=RemediationResult.APPLIED,
                before="PermitRootLogin yes", action="drop-in", detail="$ sshd -t",
            )
        ],
    )  # fmt: skip
    stored_before_recheck = store.get_run(run_id).remediations[0]
    assert stored_before_recheck.verification is None  # an interrupted apply says so
    store.add_findings(
        run_id,
        [finding("srv1", "access.ssh_root_login", Status.PASS, observed="PermitRootLogin no")],
    )
    store.finish_run(run_id)
    record = store.get_run(run_id).remediations[0]
    assert record.verification is Status.PASS and record.after == "PermitRootLogin no"


def test_complete_runs_newest_reads_only_the_last_ones_oldest_first(store: Store) -> None:
    ids = []
    for _ in range(4):
        run_id = start(store)
        store.finish_run(run_id)
        ids.append(run_id)
    assert [r.id for r in store.complete_runs(client="acme", newest=2)] == ids[-2:]
    assert [r.id for r in store.complete_runs(client="acme")] == ids
