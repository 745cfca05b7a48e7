"""Checks the service starts — from a schedule, the dashboard or the API — run in the background.

Each request is a ``service_checks`` row first (queued), so what was asked and by whom is
kept even if the process dies; a worker thread then runs the engine's ``check`` on its own
store connection, exactly as ``baluarte check`` does, and records the run it made. After the
run, ``after_run`` (the service's hook: posture cache, notifications) is called; its failure
is logged and never touches the run.

A process that stops mid-run leaves its run ``incomplete`` in the run store (as the CLI does)
and its row ``running``: the next start of a process with the same holder name marks such
rows ``interrupted``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import sqlalchemy as sa

from baluarte.errors import BaluarteError
from baluarte.interrupts import Interrupted
from baluarte.operator import Operator
from baluarte.run import RunRecord
from baluarte.service.db import ServiceDb
from baluarte.service.tables import service_checks

__all__ = ["CheckRequest", "CheckRunner", "CheckState", "ServiceCheck"]

log = logging.getLogger("baluarte.service.checks")

Origin = Literal["schedule", "dashboard", "api"]
CheckState = Literal["queued", "running", "done", "failed", "interrupted"]


@dataclass(frozen=True)
class CheckRequest:
    """What to check (the CLI's selectors) and who asked."""

    origin: Origin
    client: str | None = None
    site: str | None = None
    device: str | None = None
    tags: tuple[str, ...] = ()
    policy: str | None = None
    requested_by: str | None = None  # an account's name; None: a schedule
    schedule: str | None = None

    @property
    def scope(self) -> dict[str, str]:
        given = {
            "client": self.client,
            "site": self.site,
            "device": self.device,
            "policy": self.policy,
            "tags": ",".join(self.tags) if self.tags else None,
        }
        return {k: v for k, v in given.items() if v}


@dataclass(frozen=True)
class ServiceCheck:
    id: int
    origin: str
    schedule: str | None
    requested_by: str | None
    requested_at: datetime
    client: str | None
    site: str | None
    device: str | None
    state: str
    run_id: int | None
    started_at: datetime | None
    ended_at: datetime | None
    error: str | None


def _check(row: sa.RowMapping) -> ServiceCheck:
    return ServiceCheck(
        **{k: row[k] for k in ServiceCheck.__dataclass_fields__}  # same names as the columns
    )


# run(request, on_run) runs the engine's check and returns its record; the runner stays
# apart from how inputs are loaded (the service reloads them for each check)
RunCheck = Callable[[CheckRequest, Callable[[int], None]], RunRecord]
AfterRun = Callable[[RunRecord], None]


class CheckRunner:
    """At most ``workers`` checks at once; the rest wait queued, in order."""

    def __init__(
        self,
        db: ServiceDb,
        run: RunCheck,
        *,
        holder: str,
        after_run: AfterRun | None = None,
        workers: int = 2,
    ) -> None:
        self._db = db
        self._run = run
        self._after_run = after_run
        self._holder = holder
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check")
        self._lock = threading.Lock()
        self._closed = False

    def recover(self) -> int:
        """Mark this holder's checks left queued or running by a process that stopped as
        ``interrupted`` (their runs stay incomplete in the run store); how many."""
        with self._db.write() as conn:
            done = conn.execute(
                service_checks.update()
                .where(
                    service_checks.c.holder == self._holder,
                    service_checks.c.state.in_(("queued", "running")),
                )
                .values(
                    state="interrupted",
                    ended_at=datetime.now(UTC),
                    error="the service stopped before the check finished",
                )
            ).rowcount
        return int(done)

    def request(self, request: CheckRequest) -> int:
        """Queue a check; returns its id at once."""
        with self._lock:
            if self._closed:
                raise BaluarteError("the service is stopping: no new checks")
            with self._db.write() as conn:
                check_id = int(
                    conn.execute(
                        service_checks.insert()
                        .values(
                            origin=request.origin,
                            schedule=request.schedule,
                            requested_by=request.requested_by,
                            requested_at=datetime.now(UTC),
                            client=request.client,
                            site=request.site,
                            device=request.device,
                            tags=",".join(request.tags) if request.tags else None,
                            policy=request.policy,
                            state="queued",
                            holder=self._holder,
                        )
                        .returning(service_checks.c.id)
                    ).scalar_one()
                )
            self._pool.submit(self._execute, check_id, request)
        return check_id

    def _update(self, check_id: int, **values: object) -> None:
        with self._db.write() as conn:
            conn.execute(
                service_checks.update().where(service_checks.c.id == check_id).values(**values)
            )

    def _execute(self, check_id: int, request: CheckRequest) -> None:
        self._update(check_id, state="running", started_at=datetime.now(UTC))
        try:
            run = self._run(request, lambda run_id: self._update(check_id, run_id=run_id))
        except Interrupted as stop:  # the service is stopping: the run stays incomplete
            self._update(
                check_id,
                state="interrupted",
                ended_at=datetime.now(UTC),
                run_id=stop.run_id,
                error=f"the service stopped: {stop.done} of {stop.total} device(s) done",
            )
            return
        except BaluarteError as exc:  # bad inputs, an unreadable store: said, not raised
            log.warning("check %s failed: %s", check_id, exc)
            self._update(check_id, state="failed", ended_at=datetime.now(UTC), error=str(exc))
            return
        except Exception as exc:
            log.exception("check %s failed", check_id)
            self._update(
                check_id,
                state="failed",
                ended_at=datetime.now(UTC),
                error=f"{type(exc).__name__}: {exc}",
            )
            return
        self._update(check_id, state="done", ended_at=datetime.now(UTC), run_id=run.info.id)
        if self._after_run is not None:
            try:
                self._after_run(run)
            except Exception:  # the run is stored; what follows it must not undo that
                log.exception("after run %s", run.info.id)

    def get(self, check_id: int) -> ServiceCheck | None:
        with self._db.read() as conn:
            row = (
                conn.execute(sa.select(service_checks).where(service_checks.c.id == check_id))
                .mappings()
                .first()
            )
        return _check(row) if row else None

    def recent(
        self, *, limit: int = 50, clients: Sequence[str] | None = None
    ) -> list[ServiceCheck]:
        query = sa.select(service_checks).order_by(service_checks.c.id.desc()).limit(limit)
        if clients is not None:
            query = query.where(service_checks.c.client.in_(list(clients)))
        with self._db.read() as conn:
            rows = conn.execute(query).mappings().all()
        return [_check(r) for r in rows]

    def close(self, *, wait: bool = False) -> None:
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=True)


def service_operator(request: CheckRequest) -> Operator | None:
    """The person responsible for a run the service started: the account that asked."""
    if request.requested_by is None:
        return None
    return Operator(name=request.requested_by, role=f"via baluarte serve ({request.origin})")
