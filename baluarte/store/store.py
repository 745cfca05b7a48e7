"""The run store: every Run and its Findings, append-only, in SQLite or PostgreSQL.

A run is written as it happens: ``start_run`` commits a RUNNING row at once, each
``add_findings`` commits on its own, ``finish_run`` marks it COMPLETE. A run killed part-way
therefore stays RUNNING (``incomplete``) with every finding it had stored.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal, NamedTuple, NoReturn

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from baluarte.chain import canonical_record, record_sha256
from baluarte.errors import StoreError
from baluarte.evidence.record import Sealed, seal
from baluarte.findings import Finding
from baluarte.history import ChainLink
from baluarte.operator import Operator
from baluarte.remediation import RemediationRecord, with_verification
from baluarte.run import InputFile, LateOutcome, LateResult, RunInfo, RunKind, RunRecord, RunState
from baluarte.store import _rows
from baluarte.store._chain import ChainCheck, ChainRow, check
from baluarte.store._engine import WRITE, connect, translate_errors
from baluarte.store._migrate import upgrade
from baluarte.store._url import resolve
from baluarte.store._verified import rows_sha256, tag, tag_holds, tag_key
from baluarte.store.tables import findings, late_results, remediations, run_files, runs

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from baluarte.evidence.seal import TrustedKeys

__all__ = ["ChainCheck", "Checked", "RecordSeal", "Store"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
# pg_advisory_xact_lock key serialising finish_run (differs from the migration lock's)
_CHAIN_LOCK = 0x62616C76
# Store.open's signing_key: look for the provider's key (baluarte.evidence.seal) at each finish
DEFAULT_KEY: Literal["default"] = "default"


@dataclass(frozen=True)
class RecordSeal:
    """How a chained run's record is held: its format and the provider's signature, if any."""

    run_id: int
    format: int  # 1: the whole run hashed as one document; 2: sealed parts (evidence/record.py)
    signature: bytes | None
    signed_by: str | None  # the signing key's fingerprint


class Checked(NamedTuple):
    """A chained run's record as ``Store.check_chain`` checked it."""

    record: bytes  # the bytes its record_sha256 and signature cover
    sealed: Sealed | None  # rebuilt from its rows (None: format 1, or taken as tagged)
    salt: str | None  # the run's record salt (hex; None: format 1)
    retag: str | None  # rebuilt with the key given and matching: the tag to keep for it


class _Stored(NamedTuple):
    run: RunRecord  # remediation records without their derived verification
    row: sa.RowMapping
    rows_sha256: str  # baluarte/store/_verified.py


class Store:
    """The run store. Open it with ``Store.open``; every method raises only StoreError."""

    def __init__(
        self, url: sa.URL, signing_key: Ed25519PrivateKey | Literal["default"] | None = DEFAULT_KEY
    ) -> None:
        self._url = url
        self._engine = connect(url)
        self._closed = False
        self._signing_key = signing_key
        self._remembered: dict[int, _Stored] | None = None

    @classmethod
    def open(
        cls,
        db: str | Path | None = None,
        *,
        signing_key: Ed25519PrivateKey | Literal["default"] | None = DEFAULT_KEY,
    ) -> Store:
        """Open (creating and migrating to the newest schema if needed) the run store.

        ``db``: a SQLite file path, or an SQLAlchemy URL (anything containing ``://``;
        ``postgresql://`` uses psycopg 3). ``None``: ``$BALUARTE_DB``, else ``./baluarte.db``.
        ``signing_key``: what signs each run's record when it finishes; by default the
        provider's key when there is one here (``baluarte keys init``), None: never sign.
        """
        url = resolve(db)
        with translate_errors("cannot open the run store", url):
            store = cls(url, signing_key)
        try:
            with translate_errors("cannot migrate the run store", url):
                upgrade(store._engine)
        except BaseException:
            store.close()
            raise
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def location(self) -> str:
        """Where the store is, password hidden: fit for logs and reports."""
        return self._url.render_as_string(hide_password=True)

    # -- writing ----------------------------------------------------------------------------

    def start_run(
        self,
        *,
        kind: RunKind,
        operator: str,
        tool_version: str,
        inventory_sha256: str,
        files: Sequence[InputFile],
        scope: Mapping[str, str],
        devices_total: int,
        started_at: datetime | None = None,
        operator_identity: Operator | None = None,
    ) -> int:
        """Record a new RUNNING run with its inputs; committed at once. Returns its id.

        ``operator``: the account (user@host); ``operator_identity``: the person responsible."""
        started = _aware(started_at, "started_at")
        digest = _sha256(inventory_sha256, "inventory")
        files = [f.model_copy(update={"sha256": _sha256(f.sha256, f.path)}) for f in files]
        if devices_total < 0:
            raise StoreError(f"devices_total must not be negative, got {devices_total}")
        scope = dict(scope)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in scope.items()):
            raise StoreError("a run's scope maps selector names to strings")
        row = {
            "kind": RunKind(kind).value,
            "state": RunState.RUNNING.value,
            "started_at": started,
            "ended_at": None,
            "operator": operator,
            "operator_name": operator_identity.name if operator_identity else None,
            "operator_email": operator_identity.email if operator_identity else None,
            "operator_role": operator_identity.role if operator_identity else None,
            "tool_version": tool_version,
            "inventory_sha256": digest,
            "scope": scope,
            "client": scope.get("client"),
            "devices_total": devices_total,
            "findings_count": 0,
        }
        with self._write("cannot start a run") as conn:
            key = conn.execute(sa.insert(runs).values(row)).inserted_primary_key
            assert key is not None  # a single-row INSERT always reports its key
            run_id = int(key[0])
            if files:
                conn.execute(
                    sa.insert(run_files),
                    [_rows.file_row(run_id, i, f) for i, f in enumerate(files)],
                )
        return run_id

    def add_findings(self, run_id: int, findings_: Sequence[Finding]) -> None:
        """Append findings to a RUNNING run, in order; one transaction, committed at once."""
        with self._write(f"cannot add findings to run {run_id}") as conn:
            # Claims positions and locks the run row (PostgreSQL) in one statement, so
            # concurrent writers get disjoint positions and a finished run is refused.
            claimed = conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id, runs.c.state == RunState.RUNNING.value)
                .values(findings_count=runs.c.findings_count + len(findings_))
            )
            if claimed.rowcount != 1:
                self._refuse(conn, run_id, "add findings to")
            total = conn.execute(
                sa.select(runs.c.findings_count).where(runs.c.id == run_id)
            ).scalar_one()
            first = int(total) - len(findings_)
            if findings_:
                conn.execute(
                    sa.insert(findings),
                    [_rows.finding_row(run_id, first + i, f) for i, f in enumerate(findings_)],
                )

    def add_remediations(self, run_id: int, records: Sequence[RemediationRecord]) -> None:
        """Append remediation records to a RUNNING apply run, in order; committed at once."""
        with self._write(f"cannot add remediations to run {run_id}") as conn:
            # Locks the run row (PostgreSQL) and refuses a finished run, like add_findings.
            claimed = conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id, runs.c.state == RunState.RUNNING.value)
                .values(state=RunState.RUNNING.value)
            )
            if claimed.rowcount != 1:
                self._refuse(conn, run_id, "add remediations to")
            first = conn.execute(
                sa.select(sa.func.count()).where(remediations.c.run_id == run_id)
            ).scalar_one()
            if records:
                conn.execute(
                    sa.insert(remediations),
                    [
                        _rows.remediation_row(run_id, int(first) + i, r)
                        for i, r in enumerate(records)
                    ],
                )

    def add_late_result(
        self,
        run_id: int,
        *,
        device: str,
        collector: str,
        received_at: datetime,
        sent_at: datetime | None,
        outcome: str,
        detail: str,
    ) -> None:
        """Record a collector's answer that came after run ``run_id`` ended; committed at once.

        Allowed whatever the run's state, finished and sealed too: a late result is never a
        finding and no part of the run's record, so its seal and the chain stay as they were.
        ``device``: the client/site/device key; ``outcome``: facts, error or refused; the
        collector's text is stored as given (untrusted: shown inert).
        """
        if outcome not in set(LateOutcome):
            allowed = ", ".join(LateOutcome)
            raise StoreError(f"a late result's outcome is one of {allowed}, got {outcome!r}")
        row = {
            "run_id": run_id,
            "device": device,
            "collector": collector,
            "sent_at": None if sent_at is None else _aware(sent_at, "sent_at"),
            "received_at": _aware(received_at, "received_at"),
            "outcome": LateOutcome(outcome).value,
            "detail": detail,
        }
        with self._write(f"cannot record a late result for run {run_id}") as conn:
            # SQLite enforces no foreign key here: the run is looked up on every backend
            if conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first() is None:
                raise StoreError(f"no run {run_id} in {self.location}")
            conn.execute(sa.insert(late_results).values(row))

    def finish_run(self, run_id: int, ended_at: datetime | None = None) -> None:
        """Mark a RUNNING run COMPLETE and seal it into the hash chain, in one transaction.

        Its record (format 2, ``baluarte/evidence/record.py``) holds its state and the previous
        record's hash, names the runs still running that no record named yet, and is signed
        with the provider's key when there is one. A finished run cannot be finished again.
        """
        ended = _aware(ended_at, "ended_at")
        key = self._key()  # read before the write lock is taken
        with self._write(f"cannot finish run {run_id}") as conn:
            if conn.dialect.name == "postgresql":
                # two runs finishing at once take chain positions one after the other (SQLite's
                # BEGIN IMMEDIATE already serialises writers)
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
            # First, so the run row is locked and no finding can be added after it is hashed.
            done = conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id, runs.c.state == RunState.RUNNING.value)
                .values(state=RunState.COMPLETE.value, ended_at=ended)
            )
            if done.rowcount != 1:
                self._refuse(conn, run_id, "finish")
            last = conn.execute(
                sa.select(runs.c.chain_seq, runs.c.record_sha256)
                .where(runs.c.chain_seq.is_not(None))
                .order_by(runs.c.chain_seq.desc())
                .limit(1)
            ).first()
            seq = 1 if last is None else int(last.chain_seq) + 1
            previous = None if last is None else str(last.record_sha256)
            # runs still running (or killed) that no record named yet: deleting one later, or
            # passing it off as complete, breaks the chain
            running = [
                int(i)
                for i in conn.execute(
                    sa.select(runs.c.id).where(
                        runs.c.state == RunState.RUNNING.value,
                        runs.c.chain_named_by.is_(None),
                        runs.c.id != run_id,
                    )
                ).scalars()
            ]
            stored = self._stored(conn, run_id)
            salt = secrets.token_bytes(32)
            sealed = seal(stored.run, salt=salt, previous=previous, running=running)
            signature, signed_by, verified = None, None, None
            if key is not None:
                from baluarte.evidence.keys import fingerprint

                signature = key.sign(sealed.record).hex()
                signed_by = fingerprint(key.public_key())
                verified = tag(
                    tag_key(key),
                    run_id,
                    sealed.sha256,
                    previous,
                    salt.hex(),
                    running,
                    stored.rows_sha256,
                )
            conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id)
                .values(
                    chain_seq=seq,
                    previous_sha256=previous,
                    record_sha256=sealed.sha256,
                    record_salt=salt.hex(),
                    chain_running=running,
                    record_signature=signature,
                    signed_by=signed_by,
                    record=sealed.record,
                    verified_tag=verified,
                )
            )
            if running:
                conn.execute(
                    sa.update(runs).where(runs.c.id.in_(running)).values(chain_named_by=run_id)
                )

    # -- reading ----------------------------------------------------------------------------

    def list_runs(self, *, limit: int = 50, client: str | None = None) -> list[RunInfo]:
        """The newest ``limit`` runs, newest first.

        ``client``: only runs scoped to that client or holding a finding for it (a run over
        every client covers each of them).
        """
        if limit < 1:
            raise StoreError(f"limit must be at least 1, got {limit}")
        query = sa.select(runs).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
        if client is not None:
            covers = sa.exists().where(findings.c.client == client, findings.c.run_id == runs.c.id)
            query = query.where(sa.or_(runs.c.client == client, covers))
        with self._read("cannot list runs") as conn:
            rows = conn.execute(query).mappings().all()
            files = self._files(conn, [r["id"] for r in rows])
        return [_rows.run_info(r, files.get(r["id"], [])) for r in rows]

    def get_run(self, run_id: int) -> RunRecord:
        """One run with all its findings, in the order they were added."""
        with self._read(f"cannot read run {run_id}") as conn:
            stored = self._stored(conn, run_id).run
        return stored.model_copy(
            update={"remediations": with_verification(stored.remediations, stored.findings)}
        )

    def stored_run(self, run_id: int) -> RunRecord:
        """One run as its record seals it: remediation records without their verification."""
        with self._read(f"cannot read run {run_id}") as conn:
            return self._stored(conn, run_id).run

    def complete_runs(
        self,
        *,
        client: str | None = None,
        start: datetime | None = None,
        before: datetime | None = None,
        newest: int | None = None,
    ) -> list[RunInfo]:
        """COMPLETE runs that started in ``[start, before)``, oldest first.

        ``client``: as in ``list_runs`` (scoped to it, or holding a finding for it).
        ``newest``: only the last N of them (a report's history, not the whole store).
        """
        query = (
            sa.select(runs)
            .where(runs.c.state == RunState.COMPLETE.value)
            .order_by(runs.c.started_at.desc(), runs.c.id.desc())
        )
        if newest is not None:
            query = query.limit(max(0, newest))
        if start is not None:
            query = query.where(runs.c.started_at >= _aware(start, "start"))
        if before is not None:
            query = query.where(runs.c.started_at < _aware(before, "before"))
        if client is not None:
            covers = sa.exists().where(findings.c.client == client, findings.c.run_id == runs.c.id)
            query = query.where(sa.or_(runs.c.client == client, covers))
        with self._read("cannot list runs") as conn:
            rows = list(reversed(conn.execute(query).mappings().all()))
            files = self._files(conn, [r["id"] for r in rows])
        return [_rows.run_info(r, files.get(r["id"], [])) for r in rows]

    def client_findings(self, client: str, *, start: datetime) -> list[RunRecord]:
        """The client's COMPLETE runs started at or after ``start``, oldest first, each holding
        only the client's findings (no remediations): what posture is drawn from, in two
        queries whatever the number of runs (a run over every client is not read whole)."""
        start = _aware(start, "start")
        covers = sa.exists().where(findings.c.client == client, findings.c.run_id == runs.c.id)
        query = (
            sa.select(runs)
            .where(
                runs.c.state == RunState.COMPLETE.value,
                runs.c.started_at >= start,
                sa.or_(runs.c.client == client, covers),
            )
            .order_by(runs.c.started_at, runs.c.id)
        )
        with self._read(f"cannot read the runs of {client}") as conn:
            rows = conn.execute(query).mappings().all()
            ids = [r["id"] for r in rows]
            by_run: dict[int, list[Finding]] = {i: [] for i in ids}
            if ids:
                found = conn.execute(
                    sa.select(findings)
                    .where(findings.c.client == client, findings.c.run_id >= min(ids))
                    .order_by(findings.c.run_id, findings.c.seq)
                ).mappings()
                for f in found:
                    if f["run_id"] in by_run:
                        by_run[f["run_id"]].append(_rows.finding_from_row(f))
        return [
            RunRecord(info=_rows.run_info(r, []), findings=tuple(by_run[r["id"]])) for r in rows
        ]

    def finished_since(self, chain_seq: int) -> list[tuple[int, int, str | None]]:
        """Runs finished after the one at ``chain_seq`` in finish order: (run id, chain_seq,
        client scope or None for a run over several clients), in finish order."""
        query = (
            sa.select(runs.c.id, runs.c.chain_seq, runs.c.client)
            .where(runs.c.chain_seq > chain_seq)
            .order_by(runs.c.chain_seq)
        )
        with self._read("cannot list runs") as conn:
            return [(r.id, r.chain_seq, r.client) for r in conn.execute(query)]

    def run_clients(self, run_id: int) -> list[str]:
        """The clients a run holds findings for."""
        query = sa.select(findings.c.client).where(findings.c.run_id == run_id).distinct()
        with self._read(f"cannot read run {run_id}") as conn:
            return sorted(conn.execute(query).scalars())

    def late_results(self, run_id: int) -> list[LateResult]:
        """The late results recorded for a run (``add_late_result``), in the order received."""
        query = (
            sa.select(late_results)
            .where(late_results.c.run_id == run_id)
            .order_by(late_results.c.received_at, late_results.c.id)
        )
        with self._read(f"cannot read the late results of run {run_id}") as conn:
            if conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first() is None:
                raise StoreError(f"no run {run_id} in {self.location}")
            rows = conn.execute(query).mappings().all()
            # inside: a row this Baluarte cannot read is a StoreError too
            return [
                LateResult.model_validate({k: v for k, v in r.items() if k != "id"}) for r in rows
            ]

    # -- the hash chain ---------------------------------------------------------------------

    def chain(self, start: datetime | None = None, end: datetime | None = None) -> list[ChainLink]:
        """The chained runs, in chain (finish) order, started within ``[start, end]``.

        The stretch is contiguous (from the first run started at or after ``start`` to the last
        started at or before ``end``) and begins with the link just before it, so a reader can
        see it continues the chain.
        """
        query = sa.select(
            runs.c.id,
            runs.c.started_at,
            runs.c.ended_at,
            runs.c.previous_sha256,
            runs.c.record_sha256,
        ).where(runs.c.chain_seq.is_not(None))
        with self._read("cannot read the hash chain") as conn:
            rows = conn.execute(query.order_by(runs.c.chain_seq)).all()
        links = [
            ChainLink(
                run_id=int(r.id),
                started_at=r.started_at,
                ended_at=r.ended_at,
                previous_sha256=r.previous_sha256,
                record_sha256=str(r.record_sha256),
            )
            for r in rows
        ]
        begin = _aware(start, "start") if start is not None else None
        finish = _aware(end, "end") if end is not None else None
        inside = [
            i
            for i, link in enumerate(links)
            if (begin is None or link.started_at >= begin)
            and (finish is None or link.started_at <= finish)
        ]
        if not inside:
            return []
        return links[max(inside[0] - 1, 0) : inside[-1] + 1]

    def canonical(self, run_id: int) -> bytes:
        """The record of a chained run, recomputed from its rows as stored now: the bytes its
        ``record_sha256`` and signature cover (format 2, or format 1 for runs chained before
        the store sealed records)."""
        with self._read(f"cannot read run {run_id}") as conn:
            record, _ = self._record(conn, run_id)
        return record

    def sealed(self, run_id: int) -> Sealed | None:
        """A chained run's record with its parts and their salts (None: a format 1 record)."""
        with self._read(f"cannot read run {run_id}") as conn:
            _, sealed = self._record(conn, run_id)
        return sealed

    def seals(self, run_ids: Sequence[int]) -> dict[int, RecordSeal]:
        """Format and signature of each chained run among ``run_ids``."""
        query = sa.select(
            runs.c.id, runs.c.record_salt, runs.c.record_signature, runs.c.signed_by
        ).where(runs.c.id.in_(list(run_ids)), runs.c.chain_seq.is_not(None))
        with self._read("cannot read the hash chain") as conn:
            rows = conn.execute(query).all()
        return {
            int(r.id): RecordSeal(
                run_id=int(r.id),
                format=1 if r.record_salt is None else 2,
                signature=_signature_bytes(r.record_signature),
                signed_by=r.signed_by,
            )
            for r in rows
        }

    def check_chain(
        self,
        keys: TrustedKeys | None = None,
        *,
        signing_key: Ed25519PrivateKey | None = None,
        checked: dict[int, Checked] | None = None,
    ) -> ChainCheck:
        """Check the store's whole hash chain: each record against its hash and signature (with
        ``keys``, the trusted public keys; without, signatures are left unchecked), each link
        against the one before, each chained run still complete, each run a record named as
        running still there. Problems come in chain order: the first is the first broken link.

        ``signing_key``: the provider's key; a run whose verified tag holds for its rows as
        stored now is checked by its stored record instead of being rebuilt
        (``baluarte/store/_verified.py``). ``checked`` receives each record as it was checked,
        so an export packs exactly what was checked without rebuilding it a second time.
        """
        key = None if signing_key is None else tag_key(signing_key)
        columns = (
            runs.c.id,
            runs.c.state,
            runs.c.ended_at,
            runs.c.chain_seq,
            runs.c.previous_sha256,
            runs.c.record_sha256,
            runs.c.record_salt,
            runs.c.chain_running,
            runs.c.record_signature,
            runs.c.signed_by,
        )
        with self._read("cannot read the hash chain") as conn:
            every = conn.execute(sa.select(*columns)).all()
            chained = sorted(
                (r for r in every if r.chain_seq is not None), key=lambda r: r.chain_seq
            )
            rows = [
                ChainRow(
                    run_id=int(r.id),
                    state=str(r.state),
                    previous_sha256=r.previous_sha256,
                    record_sha256=str(r.record_sha256),
                    sealed=r.record_salt is not None,
                    running=tuple(int(i) for i in (r.chain_running or ())),
                    signature=r.record_signature,
                    signed_by=r.signed_by,
                )
                for r in chained
            ]

            def record(run_id: int) -> bytes | None:
                try:
                    found = self._checked(conn, run_id, key)
                except StoreError:
                    return None
                if checked is not None:
                    checked[run_id] = found
                return found.record

            first = chained[0].ended_at if chained else None
            unchained = sorted(
                int(r.id)
                for r in every
                if chained
                and r.chain_seq is None
                and r.state == RunState.COMPLETE.value
                and (r.ended_at is None or first is None or r.ended_at >= first)
            )
            return check(
                rows,
                record,
                states={int(r.id): str(r.state) for r in every},
                unchained=unchained,
                keys=keys,
            )

    def keep_tags(self, checked: Mapping[int, Checked]) -> None:
        """Keep the record and verified tag of runs a check with the provider's key rebuilt and
        found intact (finished before revision 0007, or without the key): the next check with
        the key takes them as they are. Only where the chain still holds that record."""
        with self._write("cannot keep verified tags") as conn:
            for run_id, found in checked.items():
                if found.retag is None:
                    continue
                conn.execute(
                    sa.update(runs)
                    .where(runs.c.id == run_id, runs.c.record_sha256 == record_sha256(found.record))
                    .values(record=found.record, verified_tag=found.retag)
                )

    @contextmanager
    def remembering(self) -> Iterator[None]:
        """Within: each complete run is read from the database once. An export checks every
        run's record and then packs the period's runs: it packs the very rows it checked, and
        a quarter's hundred thousand findings are not read twice. Runs are append-only once
        complete, so nothing remembered goes stale."""
        self._remembered = {}
        try:
            yield
        finally:
            self._remembered = None

    def verify_chain(self) -> list[str]:
        """Every problem in the store's whole hash chain (empty: intact); signatures unchecked."""
        return self.check_chain().problems

    def latest_run_id(self) -> int | None:
        """The id of the newest run (the first ``list_runs`` would show), or None."""
        query = sa.select(runs.c.id).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(1)
        with self._read("cannot read the latest run") as conn:
            found = conn.execute(query).scalar()
        return None if found is None else int(found)

    def close(self) -> None:
        """Release the store's connections. Closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    # -- helpers ----------------------------------------------------------------------------

    @contextmanager
    def _write(self, doing: str) -> Iterator[Connection]:
        self._check_open()
        with (
            translate_errors(doing, self._url),
            self._engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def _read(self, doing: str) -> Iterator[Connection]:
        self._check_open()
        with translate_errors(doing, self._url), self._engine.connect() as conn, conn.begin():
            yield conn

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the run store {self.location} is closed")

    def _refuse(self, conn: Connection, run_id: int, doing: str) -> NoReturn:
        state = conn.execute(sa.select(runs.c.state).where(runs.c.id == run_id)).scalar()
        if state is None:
            raise StoreError(f"no run {run_id} in {self.location}")
        raise StoreError(f"cannot {doing} run {run_id}: it is {state}, and runs are append-only")

    def _stored(self, conn: Connection, run_id: int) -> _Stored:
        """A run as stored (remediation records without their derived verification)."""
        memo = self._remembered
        if memo is not None and run_id in memo:
            return memo[run_id]
        first = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
        if first is None:
            raise StoreError(f"no run {run_id} in {self.location}")
        row = first._mapping
        files = conn.execute(
            sa.select(run_files).where(run_files.c.run_id == run_id).order_by(run_files.c.position)
        ).all()
        found = conn.execute(
            sa.select(findings).where(findings.c.run_id == run_id).order_by(findings.c.seq)
        ).all()
        done = conn.execute(
            sa.select(remediations)
            .where(remediations.c.run_id == run_id)
            .order_by(remediations.c.seq)
        ).all()
        record = RunRecord(
            info=_rows.run_info(row, [f._mapping for f in files]),
            findings=tuple(_rows.finding_from_row(f._mapping) for f in found),
            remediations=tuple(_rows.remediation_from_row(r._mapping) for r in done),
        )
        stored = _Stored(record, row, rows_sha256(list(row.items()), files, found, done))
        if memo is not None and row["state"] == RunState.COMPLETE.value:
            memo[run_id] = stored
        return stored

    def _checked(self, conn: Connection, run_id: int, key: bytes | None) -> Checked:
        """A chained run's record: as stored when its verified tag holds for ``key`` and its
        rows as they are now, else rebuilt from its rows."""
        stored = self._stored(conn, run_id)
        row = stored.row
        salt = row["record_salt"]
        expected = None
        if key is not None and row["record_sha256"] is not None and salt is not None:
            expected = tag(
                key,
                run_id,
                row["record_sha256"],
                row["previous_sha256"],
                salt,
                [int(i) for i in row["chain_running"] or ()],
                stored.rows_sha256,
            )
            if row["record"] is not None and tag_holds(row["verified_tag"], expected):
                return Checked(bytes(row["record"]), None, salt, None)
        record, sealed = self._record(conn, run_id)
        intact = expected is not None and record_sha256(record) == row["record_sha256"]
        return Checked(record, sealed, salt, expected if intact else None)

    def _record(self, conn: Connection, run_id: int) -> tuple[bytes, Sealed | None]:
        stored, row, _ = self._stored(conn, run_id)
        if row["record_sha256"] is None:
            raise StoreError(
                f"run {run_id} is not in the hash chain: it is {row['state']}, or it finished "
                "before the store had one"
            )
        if row["record_salt"] is None:  # chained before records were sealed: format 1
            return canonical_record(stored, row["previous_sha256"]), None
        try:
            salt = bytes.fromhex(row["record_salt"])
        except ValueError:
            raise StoreError(f"run {run_id}: its record salt is not hex") from None
        sealed = seal(
            stored,
            salt=salt,
            previous=row["previous_sha256"],
            running=[int(i) for i in row["chain_running"] or ()],
        )
        return sealed.record, sealed

    def _key(self) -> Ed25519PrivateKey | None:
        if isinstance(self._signing_key, str):  # DEFAULT_KEY
            from baluarte.evidence.seal import run_signing_key

            return run_signing_key()
        return self._signing_key

    @staticmethod
    def _files(conn: Connection, run_ids: list[int]) -> dict[int, list[sa.RowMapping]]:
        by_run: dict[int, list[sa.RowMapping]] = {}
        if not run_ids:
            return by_run
        query = (
            sa.select(run_files)
            .where(run_files.c.run_id.in_(run_ids))
            .order_by(run_files.c.run_id, run_files.c.position)
        )
        for f in conn.execute(query).mappings():
            by_run.setdefault(f["run_id"], []).append(f)
        return by_run


def _aware(value: datetime | None, name: str) -> datetime:
    if value is None:
        return datetime.now(UTC)
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(f"{name} must be timezone-aware, got {value.isoformat()}")
    return value.astimezone(UTC)


def _signature_bytes(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""  # not hex: shown as a signature that does not verify


def _sha256(value: str, what: str) -> str:
    digest = value.lower()
    if not _SHA256.fullmatch(digest):
        raise StoreError(f"the SHA-256 of {what} is not 64 hex digits: {value!r}")
    return digest
