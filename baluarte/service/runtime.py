"""One ``baluarte serve`` process: the service assembled, its background threads, the server.

Start-up order: configuration (validated), database (migrated), checks left running by an
earlier process of this holder marked interrupted, the web server listening, then in the
background the posture cache brought up to date, the scheduler, the notification sender and,
with a broker and somewhere to tell, the watch over site collectors (``collector_watch``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from baluarte.interrupts import request_stop
from baluarte.run import RunRecord
from baluarte.service import snapshots
from baluarte.service.checks import CheckRequest
from baluarte.service.collector_watch import CollectorWatch, collector_watch
from baluarte.service.collectors import central_broker
from baluarte.service.config import Schedule, ServeConfig, load_config
from baluarte.service.context import Service
from baluarte.service.db import ServiceDb
from baluarte.service.executive import executive_reports, with_reports
from baluarte.service.notify import Notifier, run_changes
from baluarte.service.notify.collectors import collector_senders
from baluarte.service.scheduler import ComplianceScheduler
from baluarte.service.sla import response_targets

__all__ = ["Background", "build_service", "serve"]

log = logging.getLogger("baluarte.service")

NOTIFY_EVERY_SECONDS = 30.0
# how often the posture cache looks for runs stored by others (the CLI, another process)
CACHE_EVERY_SECONDS = 60.0


def refresh_after_run(service: Service, run: RunRecord) -> None:
    """The clients a run covered get their posture rebuilt at once."""
    clients = sorted({f.client for f in run.findings})
    snapshots.refresh(service, clients)


class Background:
    """Periodic jobs on daemon threads, stopped together."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def every(self, seconds: float, name: str, job: Callable[[], object]) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    job()
                except Exception:
                    log.exception("%s failed", name)
                self._stop.wait(seconds)

        thread = threading.Thread(target=loop, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


def _server_class() -> type[Any]:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn raises the signal it stopped on again once it has shut down, which would end
        the process before the service stops its scheduler and checks: not here. The process
        then ends normally (exit 0), as a service stopped on purpose should."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    return Server


def _refresh_stale(service: Service) -> None:
    snapshots.client_summaries(service, rebuild=True)


def notifying(notifier: Notifier) -> Callable[[Service, RunRecord], None]:
    """The after-run hook that tells each covered client's news (one message per client)."""

    def notify_after_run(service: Service, run: RunRecord) -> None:
        inputs = service.inputs()
        refs = inputs.inventory.devices()
        changes = run_changes(
            service.db,
            run,
            inputs.waivers,
            now=datetime.now(UTC),
            warn_days=service.config.notifications.waiver_warning_days,
            in_scope={(r.client_name, r.site_name, r.name): r.platform for r in refs},
            timezones={c.name: c.timezone for c in inputs.inventory.clients},
            devices=refs,
            targets=response_targets(service.config),
        )
        if changes:
            notifier.notify(changes)
            notifier.deliver_due()  # at once; what fails is retried by the loop

    return notify_after_run


def scheduled_check(service: Service) -> Callable[[Schedule, datetime], int | None]:
    """What the scheduler calls at a due time it claimed: queue the schedule's check."""

    def fire(schedule: Schedule, due_at: datetime) -> int | None:
        return service.checks.request(
            CheckRequest(
                origin="schedule",
                schedule=schedule.name,
                client=schedule.client_name,
                site=schedule.site,
                tags=tuple(schedule.tags or ()),
                policy=schedule.policy,
            )
        )

    return fire


def build_service(config: ServeConfig, *, holder: str) -> tuple[Service, Notifier]:
    db = ServiceDb.open(config.db_location)
    service = Service(config, db, holder=holder)
    notifier = Notifier.from_config(db, config)
    # the monthly executive report fires as a schedule (the leader only, each due time once)
    # and is mailed through the notifications' outbox
    reports = executive_reports(service, notifier)
    schedules = [*config.schedules, *([reports.schedule] if reports is not None else [])]
    if schedules:
        service.scheduler = ComplianceScheduler(
            db,
            schedules,
            config.timezone,
            with_reports(scheduled_check(service), reports),
            holder=holder,
        )
    service.after_run_hooks.append(refresh_after_run)
    if notifier.enabled:
        service.after_run_hooks.append(notifying(notifier))
        # a silent collector is told on channels of its own (any process may deliver them)
        notifier.senders.update(collector_senders(notifier.settings))
    return service, notifier


def serve(
    config_path: Path,
    *,
    host: str,
    port: int,
    secure_cookies: bool = True,
    log_level: str = "info",
) -> None:
    """Run the service until SIGINT/SIGTERM (uvicorn's handlers): runs in progress are left
    incomplete, as the CLI leaves them."""
    import socket

    import uvicorn

    from baluarte.service.app import create_app

    _Server = _server_class()

    config = load_config(config_path)
    service, notifier = build_service(config, holder=f"{socket.gethostname()}:{port}")
    background = Background()
    watch: CollectorWatch | None = None
    try:
        interrupted = service.checks.recover()
        if interrupted:
            log.warning("%d check(s) of an earlier process were left interrupted", interrupted)
        service.inputs()  # refuse to start on broken inputs: exit 2 with file:line:column
        central_broker(config)  # and on a broker: that does not resolve (exit 2)
        app = create_app(service, secure_cookies=secure_cookies)
        background.every(CACHE_EVERY_SECONDS, "posture-cache", lambda: _refresh_stale(service))
        if notifier.enabled:
            background.every(NOTIFY_EVERY_SECONDS, "notify", notifier.deliver_due)
        watch = collector_watch(service, notifier)
        if watch is not None:
            background.every(watch.every, "collector-watch", watch.tick)
        if service.scheduler is not None:
            service.scheduler.start()
        server = _Server(
            uvicorn.Config(app, host=host, port=port, log_level=log_level, server_header=False)
        )
        server.run()
    finally:
        if service.scheduler is not None:
            service.scheduler.stop()  # no new checks
        # checks in progress stop as a signalled `baluarte check` does: their runs stay
        # incomplete with what they stored, their rows say interrupted
        request_stop()
        background.stop()
        if watch is not None:
            watch.close()
        service.checks.close(wait=True)
        service.close()
