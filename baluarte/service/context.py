"""The running service: its configuration, database, inputs, checks and scheduler, in one place
that the web pages, the API and the scheduler share."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from baluarte.engine import CheckOptions, Inputs, check, load_inputs
from baluarte.run import RunRecord
from baluarte.service.checks import CheckRequest, CheckRunner, service_operator
from baluarte.service.collectors import collectors_for
from baluarte.service.config import ServeConfig
from baluarte.service.db import ServiceDb

if TYPE_CHECKING:
    from baluarte.service.scheduler import ComplianceScheduler

__all__ = ["Service", "default_holder"]

log = logging.getLogger("baluarte.service")


def default_holder() -> str:
    """How this process names itself in leases and check rows: host and service port."""
    return f"{socket.gethostname()}"


@dataclass(frozen=True)
class _Loaded:
    stamp: tuple[tuple[str, int, int], ...]
    inputs: Inputs


def _stamp(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    """Every input file's path, size and modification time: a change in any reloads them."""
    out: list[tuple[str, int, int]] = []
    for root in paths:
        found = sorted(root.rglob("*")) if root.is_dir() else [root]
        for p in found:
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


@dataclass
class Service:
    """Shared by every request and background thread of one ``serve`` process."""

    config: ServeConfig
    db: ServiceDb
    holder: str = field(default_factory=default_holder)
    # called after each run the service made: the posture cache, notifications
    after_run_hooks: list[Callable[[Service, RunRecord], None]] = field(default_factory=list)
    scheduler: ComplianceScheduler | None = None
    checks: CheckRunner = field(init=False)
    _loaded: _Loaded | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.checks = CheckRunner(
            self.db, self._run_check, holder=self.holder, after_run=self._after
        )

    def _paths(self) -> list[Path]:
        c = self.config
        return [*c.inventory_paths, c.policies_path, *([c.waivers_path] if c.waivers_path else [])]

    def inputs(self) -> Inputs:
        """Inventory, policies and waivers as the files say now (reloaded when one changes);
        raises InputError(s) when they do not load."""
        stamp = _stamp(self._paths())
        with self._lock:
            if self._loaded is not None and self._loaded.stamp == stamp:
                return self._loaded.inputs
        c = self.config
        # only the waiver file configured: never one found in whatever folder we started in
        inputs = load_inputs(
            c.inventory_paths, c.policies_path, c.waivers_path, default_waivers=False
        )
        with self._lock:
            self._loaded = _Loaded(stamp, inputs)
        return inputs

    def _run_check(self, request: CheckRequest, on_run: Callable[[int], None]) -> RunRecord:
        from baluarte.store import Store

        inputs = self.inputs()
        tags = list(request.tags) or None
        options = CheckOptions(
            client=request.client,
            site=request.site,
            device=request.device,
            tags=tags,
            policy=request.policy,
            parallel=self.config.parallel,
            command_timeout=self.config.timeout,
            artifacts=self.config.artifacts_path,
            scope=request.scope,
            operator=f"baluarte-serve@{self.holder}",
            operator_identity=service_operator(request),
        )
        # collector-bound devices go through the broker (refused here when there is none)
        collect = collectors_for(self.config, inputs, options)
        store = Store.open(self.config.db_location)  # one per check: runs may overlap
        try:
            return check(
                inputs, store, options, on_run=on_run, collect=collect(store) if collect else None
            )
        finally:
            store.close()

    def _after(self, run: RunRecord) -> None:
        for hook in self.after_run_hooks:
            try:
                hook(self, run)
            except Exception:
                log.exception("after run %s: %s", run.info.id, getattr(hook, "__name__", hook))

    def state(self) -> dict[str, Any]:
        """For /healthz: the store's and the scheduler's state."""
        store_ok = True
        try:
            with self.db.read() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception:
            store_ok = False
        return {
            "store": {"ok": store_ok, "backend": self.db.backend},
            "scheduler": self.scheduler.state() if self.scheduler is not None else None,
            "pid": os.getpid(),
        }

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        self.checks.close()
        self.db.close()
