"""Revision 0006 on SQLite and PostgreSQL: the operator's identity, each change's ticket and
approver, a waiver's approval date and compensating control reach the store and the sealed
record; a store sealed at revision 0005 upgrades with its chain intact; a format 1 record of a
run scoped to one client's device goes into that client's pack."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from baluarte.evidence.gather import gather
from baluarte.findings import Finding, Severity, Status, WaiverRef
from baluarte.operator import Operator
from baluarte.remediation import RemediationRecord, RemediationResult
from baluarte.run import InputFile, RunKind
from baluarte.store import Store
from baluarte.store._migrate import HEAD, alembic_config

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ANA = Operator(name="Ana García", email="ana.garcia@proveedor.es", role="técnica de sistemas")
WAIVER = WaiverRef(
    reason="vendor certifies kernels monthly",
    approved_by="María López",
    expires=date(2027, 1, 31),
    approved_on=date(2026, 10, 30),
    compensating_control="reinicio programado cada domingo",
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "runs.db")
    return str(request.getfixturevalue("pg_url"))


def finding(device: str, client: str = "acme", **kw: object) -> Finding:
    fields: dict[str, object] = {
        "client": client,
        "site": "hq",
        "device": device,
        "platform": "linux",
        "control": "patching.reboot_required",
        "status": Status.WAIVED,
        "severity": Severity.LOW,
        "evidence": f"uptime of {device}: 3 days",
        "waiver": WAIVER,
    }
    return Finding.model_validate({**fields, **kw})


def apply_run(
    store: Store,
    day: int,
    scope: dict[str, str],
    client: str = "acme",
    waiver: WaiverRef = WAIVER,
    **who: object,
) -> int:
    run_id = store.start_run(
        kind=RunKind.APPLY,
        operator="tecnico@portatil",
        tool_version="0.test",
        inventory_sha256="1" * 64,
        files=[InputFile(role="inventory", path="inventory.yaml", sha256="2" * 64)],
        scope=scope,
        devices_total=1,
        started_at=T0 + timedelta(days=day),
        operator_identity=who.get("identity"),  # type: ignore[arg-type]
    )
    change = RemediationRecord(
        client=client, site="hq", device="pc1", platform="linux", control="firewall.enabled",
        result=RemediationResult.APPLIED, before="inactive", action="ufw enable",
        ticket=who.get("ticket"), approved_by=who.get("approved_by"),  # type: ignore[arg-type]
    )  # fmt: skip
    store.add_remediations(run_id, [change])
    store.add_findings(run_id, [finding("pc1", client, waiver=waiver)])
    store.finish_run(run_id, ended_at=T0 + timedelta(days=day, minutes=5))
    return run_id


def test_the_new_values_reach_the_store_and_the_sealed_record(db: str) -> None:
    with Store.open(db, signing_key=None) as store:
        run_id = apply_run(
            store, 0, {"device": "pc1"}, identity=ANA, ticket="CHG-1042", approved_by="Luis Pérez"
        )
        got = store.get_run(run_id)
        sealed = store.sealed(run_id)
        assert store.verify_chain() == []
    assert got.info.operator_identity == ANA and got.info.operator == "tecnico@portatil"
    assert (got.remediations[0].ticket, got.remediations[0].approved_by) == (
        "CHG-1042",
        "Luis Pérez",
    )
    assert got.findings[0].waiver == WAIVER
    assert sealed is not None
    leaves = {p.name: {n: json.loads(v.value) for n, v in p.leaves.items()} for p in sealed.parts}
    assert leaves["info"]["operator_identity.name"] == "Ana García"
    assert leaves["info"]["operator_identity.email"] == "ana.garcia@proveedor.es"
    assert leaves["info"]["operator_identity.role"] == "técnica de sistemas"
    assert leaves["remediations/0"]["ticket"] == "CHG-1042"
    assert leaves["remediations/0"]["approved_by"] == "Luis Pérez"
    assert leaves["findings/0"]["waiver.approved_on"] == "2026-10-30"
    assert leaves["findings/0"]["waiver.compensating_control"] == "reinicio programado cada domingo"


def test_editing_a_ticket_behind_the_store_breaks_the_chain(db: str) -> None:
    with Store.open(db, signing_key=None) as store:
        run_id = apply_run(store, 0, {"device": "pc1"}, ticket="CHG-1", approved_by="Luis")
        engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE remediations SET ticket = 'CHG-2' WHERE run_id = :r"),
                         {"r": run_id})  # fmt: skip
        engine.dispose()
        assert store.verify_chain()[0].startswith(f"run {run_id}: record edited")


def test_a_store_sealed_at_0005_upgrades_with_its_chain_intact(db: str) -> None:
    from alembic import command

    with Store.open(db, signing_key=None) as store:
        # runs as revision 0005 stored them: none of the new values
        old = WAIVER.model_copy(update={"approved_on": None, "compensating_control": None})
        ids = [apply_run(store, d, {"client": "acme"}, waiver=old) for d in range(2)]
    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0005")  # the new columns are gone
    with engine.connect() as conn:
        assert "ticket" not in {c["name"] for c in sa.inspect(conn).get_columns("remediations")}
    engine.dispose()
    with Store.open(db, signing_key=None) as store:  # upgraded back to head on open
        later = apply_run(store, 2, {"client": "acme"}, identity=ANA, ticket="CHG-9")
        assert store.verify_chain() == []
        assert [link.run_id for link in store.chain()] == [*ids, later]
    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    engine.dispose()


def test_a_format_1_record_of_a_device_scoped_run_is_in_its_clients_pack(db: str) -> None:
    with Store.open(db, signing_key=None) as store:
        ours = apply_run(store, 0, {"device": "pc1"})  # --device: no client in its scope
        theirs = apply_run(store, 1, {"device": "pc1"}, client="globex")
        # as revision 0004 left them: the whole run hashed as one document, no salt
        engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
        previous = None
        for rid in (ours, theirs):
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE runs SET record_salt = NULL, chain_running = NULL, "
                                     "previous_sha256 = :p WHERE id = :r"), {"p": previous, "r": rid})  # fmt: skip
            previous = hashlib.sha256(store.canonical(rid)).hexdigest()
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE runs SET record_sha256 = :d WHERE id = :r"),
                             {"d": previous, "r": rid})  # fmt: skip
        engine.dispose()
        assert store.verify_chain() == [] and store.sealed(ours) is None
        gathered = gather(store, "acme", operator="auditor@pc")
    assert gathered.records[ours] == store_record(db, ours)
    assert ours not in gathered.record_notes
    assert gathered.records[theirs] is None  # another client's data: left out, saying why
    assert "not a run of this client alone" in gathered.record_notes[theirs]


def store_record(db: str, run_id: int) -> bytes:
    with Store.open(db, signing_key=None) as store:
        return store.canonical(run_id)
