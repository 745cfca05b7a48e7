"""Issue 12, class 2: the store's history cannot be edited without trace.

A real history first, through the real CLI against the FortiOS emulator, every run signed with
the provider's key as it finishes (``$BALUARTE_SIGNING_KEY``): a check over every client (no
``--client``), an ``apply --yes``, a check of ``--client acme``, another check over every client.
Then each case edits a copy of the store directly — the SQLite file, or a PostgreSQL database —
as anyone with write access to it could: a finding fail → pass, a state flipped back to
``running``, a run hidden or deleted, hashes recomputed with Baluarte's own code (an attacker
without the key), runs re-signed with another key. ``runs --verify`` must exit 1 naming the
first broken link; ``evidence export`` (plain and ``--redact``) must refuse to sign it; and a
pack the attacker builds from it with a key of their own fails ``evidence verify --key``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from baluarte.evidence.keys import fingerprint, init_key
from baluarte.lab.fortigate import FortigateLab
from baluarte.store import Store
from tests.integration.cli import BIN, CANARY, baluarte
from tests.integration.test_apply_fortigate import inputs, office_state

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass(frozen=True)
class History:
    root: Path
    db: str
    key: Path  # the provider's signing key
    env: dict[str, str]
    runs: dict[str, int]  # "all", "apply", "acme", "all-again" → run id


def cli(history: History, *args: str, db: str | None = None) -> subprocess.CompletedProcess[str]:
    return baluarte(history.root, *args, db=db or history.db, env=history.env)


def verify(pack: Path, key: Path) -> subprocess.CompletedProcess[str]:
    """``baluarte evidence verify PACK --key KEY`` (it reads no store)."""
    args = [str(BIN), "evidence", "verify", str(pack), "--key", str(key)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module", params=BACKENDS)
def history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[History]:
    root = tmp_path_factory.mktemp(f"tamper-{request.param}")
    pg = None
    if request.param == "sqlite":
        db = str(root / "runs.db")
    else:
        pg = request.getfixturevalue("pg_server")
        name = f"baluarte_tamper_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"{pg}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        db = f"{pg}/{name}"
    key = root / "provider" / "signing-key.pem"
    init_key(key)
    history = History(root, db, key, {"BALUARTE_SIGNING_KEY": str(key)}, {})
    with FortigateLab(office_state(), tokens={CANARY: "baluarte-rw"}) as unit:
        inputs(root, unit)
        artifacts = ("--artifacts", str(root / "artifacts"))
        for name, args in (
            ("all", ("check", "--format", "json", *artifacts)),
            ("apply", ("apply", "--format", "json", "--yes", "--all", *artifacts)),
            ("acme", ("check", "--format", "json", "--client", "acme", *artifacts)),
            ("all-again", ("check", "--format", "json", *artifacts)),
        ):
            done = cli(history, *args)
            assert done.returncode in (0, 1), done.stderr[-2000:]
            listed = json.loads(cli(history, "runs", "--format", "json").stdout)
            history.runs[name] = listed[0]["id"]
            assert listed[0]["kind"] == args[0] and listed[0]["state"] == "complete"
    assert cli(history, "runs", "--verify").returncode == 0
    yield history
    if pg is not None:
        with psycopg.connect(f"{pg}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture
def tampered(history: History, tmp_path: Path) -> Iterator[str]:
    """A copy of the history's store, for one case to edit."""
    if "://" not in history.db:
        shutil.copy(history.db, tmp_path / "runs.db")
        yield str(tmp_path / "runs.db")
        return
    server, original = history.db.rsplit("/", 1)
    name = f"baluarte_copy_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{original}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sql(db: str, statement: str, **params: object) -> None:
    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)
    engine.dispose()


# -- what an attacker with write access to the store does ------------------------------------


def fail_to_pass(db: str, run_id: int) -> None:
    sql(
        db,
        "UPDATE findings SET status = 'pass' WHERE run_id = :r AND seq = "
        "(SELECT MIN(seq) FROM findings WHERE run_id = :r AND status = 'fail')",
        r=run_id,
    )


def recompute(db: str, run_id: int) -> None:
    """Every hash from ``run_id`` on recomputed with Baluarte's own code: a consistent chain."""
    with Store.open(db, signing_key=None) as store:
        ids = [link.run_id for link in store.chain()]
        previous = None
        for rid in ids[ids.index(run_id) :]:
            if previous is not None:
                sql(db, "UPDATE runs SET previous_sha256 = :p WHERE id = :r", p=previous, r=rid)
            previous = hashlib.sha256(store.canonical(rid)).hexdigest()
            sql(db, "UPDATE runs SET record_sha256 = :d WHERE id = :r", d=previous, r=rid)


def resign(db: str, run_id: int, key: Ed25519PrivateKey) -> None:
    with Store.open(db, signing_key=None) as store:
        ids = [link.run_id for link in store.chain()]
        for rid in ids[ids.index(run_id) :]:
            sql(
                db,
                "UPDATE runs SET record_signature = :s, signed_by = :f WHERE id = :r",
                s=key.sign(store.canonical(rid)).hex(),
                f=fingerprint(key.public_key()),
                r=rid,
            )


def strip_signatures(db: str, run_id: int) -> None:
    with Store.open(db, signing_key=None) as store:
        ids = [link.run_id for link in store.chain()]
    for rid in ids[ids.index(run_id) :]:
        sql(db, "UPDATE runs SET record_signature = NULL, signed_by = NULL WHERE id = :r", r=rid)


def flip(db: str, run_id: int) -> None:
    sql(db, "UPDATE runs SET state = 'running' WHERE id = :r", r=run_id)


def hide(db: str, run_id: int) -> None:
    sql(
        db,
        "UPDATE runs SET state = 'running', ended_at = NULL, chain_seq = NULL, "
        "previous_sha256 = NULL, record_sha256 = NULL WHERE id = :r",
        r=run_id,
    )


def delete(db: str, run_id: int) -> None:
    for table in ("findings", "remediations", "run_files"):
        sql(db, f"DELETE FROM {table} WHERE run_id = :r", r=run_id)
    sql(db, "DELETE FROM runs WHERE id = :r", r=run_id)


# case → (edit of the store copy, the run named first, what the first problem says)
Edit = Callable[[str, dict[str, int]], None]
CASES: dict[str, tuple[Edit, str, str]] = {
    "finding fail→pass in a run over every client": (
        lambda db, r: fail_to_pass(db, r["all"]), "all", "record edited"),
    "finding fail→pass in an apply run": (
        lambda db, r: fail_to_pass(db, r["apply"]), "apply", "record edited"),
    "fail→pass, hashes recomputed without the key": (
        lambda db, r: (fail_to_pass(db, r["all"]), recompute(db, r["all"])), "all",
        "its signature does not verify"),
    "fail→pass, recomputed, re-signed with another key": (
        lambda db, r: (fail_to_pass(db, r["acme"]), recompute(db, r["acme"]),
                       resign(db, r["acme"], Ed25519PrivateKey.generate())), "acme",
        "which is not a trusted key"),
    "a finished run flipped back to running": (
        lambda db, r: flip(db, r["apply"]), "apply", "stored as running"),
    "state flipped and chain columns cleared": (
        lambda db, r: hide(db, r["apply"]), "all", "a run is missing"),
    "state flipped, hashes recomputed without the key": (
        lambda db, r: (flip(db, r["apply"]), recompute(db, r["apply"])), "apply",
        "stored as running"),
    "a run deleted": (lambda db, r: delete(db, r["acme"]), "apply", "a run is missing"),
    "the newest run deleted, the run before recomputed": (
        lambda db, r: (delete(db, r["all-again"]), fail_to_pass(db, r["acme"]),
                       recompute(db, r["acme"])), "acme", "its signature does not verify"),
}  # fmt: skip


def first_named(line: str, run_id: int) -> bool:
    """The first broken link is the run, or the gap right after it."""
    return line.startswith(
        (f"chain broken at run {run_id}:", f"chain broken at between run {run_id} and")
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_edit_is_caught_by_runs_verify_and_export_refuses_to_sign_it(
    history: History, tampered: str, tmp_path: Path, case: str
) -> None:
    edit, first, says = CASES[case]
    edit(tampered, history.runs)
    verified = cli(history, "runs", "--verify", db=tampered)
    assert verified.returncode == 1, verified.stdout + verified.stderr
    head = verified.stderr.splitlines()[0]
    assert first_named(head, history.runs[first]), head
    assert says in head, head
    for extra in ((), ("--redact",)):
        out = tmp_path / f"pack{len(extra)}"
        exported = cli(
            history, "evidence", "export", "--client", "acme", "--key", str(history.key),
            "-o", str(out), *extra, db=tampered,
        )  # fmt: skip
        assert exported.returncode == 1, exported.stderr
        assert "chain broken at" in exported.stderr and "no pack written" in exported.stderr
        assert not out.exists()


def test_the_untouched_history_exports_a_pack_whose_run_signatures_verify(
    history: History, tmp_path: Path
) -> None:
    out = tmp_path / "pack"
    done = cli(history, "evidence", "export", "--client", "acme", "--key", str(history.key),
               "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    public = history.key.with_name("signing-key.pub.pem")
    verified = verify(out, public)
    assert verified.returncode == 0, verified.stdout
    assert "4 run records" in verified.stdout and "4 run signatures" in verified.stdout
    chain = json.loads((out / "chain.json").read_text())
    assert chain["runs"] == sorted(history.runs.values())  # with and without --client
    assert all(link["parts"] for link in chain["links"])


def test_an_attackers_own_pack_of_a_recomputed_history_fails_verify_with_the_providers_key(
    history: History, tampered: str, tmp_path: Path
) -> None:
    fail_to_pass(tampered, history.runs["all"])
    recompute(tampered, history.runs["all"])
    attacker = tmp_path / "attacker" / "signing-key.pem"
    init_key(attacker)
    # even the attacker's own export refuses while the provider's signatures are there…
    refused = cli(history, "evidence", "export", "--client", "acme", "--key", str(attacker),
                  "-o", str(tmp_path / "refused"), db=tampered)  # fmt: skip
    assert refused.returncode == 1 and "not a trusted key" in refused.stderr
    # …so they strip them, and sign the pack with their own key
    strip_signatures(tampered, history.runs["all"])
    out = tmp_path / "forged"
    done = cli(history, "evidence", "export", "--client", "acme", "--key", str(attacker),
               "-o", str(out), db=tampered)  # fmt: skip
    assert done.returncode == 0, done.stderr
    public = history.key.with_name("signing-key.pub.pem")
    verified = verify(out, public)
    assert verified.returncode == 1
    assert "is not the provider's key" in verified.stdout
    assert "note: run" in verified.stdout and "unsigned" in verified.stdout


def test_stripped_signatures_are_named_and_refused_where_every_run_is_signed(
    history: History, tampered: str, tmp_path: Path
) -> None:
    """The documented limit: without the key, an attacker can recompute and strip the
    signatures of the runs after an edit. The runs then show as unsigned after signed ones;
    ``--require-signed`` turns that into a broken chain."""
    fail_to_pass(tampered, history.runs["acme"])
    recompute(tampered, history.runs["acme"])
    strip_signatures(tampered, history.runs["acme"])
    lenient = cli(history, "runs", "--verify", db=tampered)
    assert lenient.returncode == 0, lenient.stderr
    tail = f"{history.runs['acme']}, {history.runs['all-again']}"
    assert f"after the last signed run, sealed by no signature: {tail}" in lenient.stdout
    strict = cli(history, "runs", "--verify", "--require-signed", db=tampered)
    assert strict.returncode == 1
    assert strict.stderr.startswith(f"chain broken at run {history.runs['acme']}: unsigned")
    refused = cli(history, "evidence", "export", "--client", "acme", "--key", str(history.key),
                  "--require-signed", "-o", str(tmp_path / "p"), db=tampered)  # fmt: skip
    assert refused.returncode == 1 and "unsigned, after signed runs" in refused.stderr
