"""The site collector: a Celery worker that consumes only its own queue, collects the devices
each task names with the engine's platform collectors, and publishes each device's answer to
``baluarte.results``.

It holds no policy logic and no store: what it sends is what the devices answered (the
``Collected`` documents), never verdicts. Secrets are resolved here, from the collector's own
environment, files and keyring (``--secrets`` adds a file of NAME=VALUE lines read as ``env:``),
and never sent. A task for a device whose site is not bound to this collector is refused.

Delivery is at least once: a task is acknowledged only when all its answers were published
(``acks_late``), so a collector killed mid-task (kill -9) leaves it in the queue for the next
start; answers may then come twice, and the central side keeps the first.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from baluarte import __version__
from baluarte.collected import Collected, CollectOptions
from baluarte.collectors.broker import BrokerUrl, open_connection, ssl_options
from baluarte.collectors.messages import TASK_NAME, CollectTask, Outcome, Result
from baluarte.collectors.names import queue_name
from baluarte.collectors.publisher import PublishFailed, ResultsPublisher
from baluarte.collectors.topology import result_key, task_queue
from baluarte.errors import DeviceError
from baluarte.plan import DevicePlan
from baluarte.transports.ssh import prestart

__all__ = ["Collector", "check_login"]

log = logging.getLogger("baluarte.collector")


class Collector:
    """Collector ``name`` on ``broker``: ``run()`` blocks, consuming until stopped."""

    def __init__(
        self,
        name: str,
        broker: BrokerUrl,
        *,
        concurrency: int = 1,
        parallel: int = 20,
        artifacts: Path = Path("baluarte-artifacts"),
    ) -> None:
        self.name = name
        self.broker = broker
        self.concurrency = concurrency
        self.parallel = parallel
        self.artifacts = artifacts
        self._publisher = ResultsPublisher(broker, name)
        self.app = self._celery()

    def _celery(self) -> Any:
        from celery import Celery
        from celery.exceptions import Reject

        app = Celery(f"baluarte-collector-{self.name}", set_as_current=False)
        app.conf.update(
            broker_url=self.broker.secret_url,
            broker_use_ssl=ssl_options(self.broker),
            broker_connection_retry_on_startup=True,
            broker_connection_max_retries=None,  # a site's link comes back: keep trying
            task_queues=[task_queue(self.name)],
            task_default_queue=queue_name(self.name),
            task_create_missing_queues=False,
            # nothing but its own queue on the broker: no pidbox, no event exchange
            worker_enable_remote_control=False,
            worker_send_task_events=False,
            task_send_sent_event=False,
            task_acks_late=True,
            task_reject_on_worker_lost=True,
            worker_prefetch_multiplier=1,
            task_ignore_result=True,
            accept_content=["json"],
            task_serializer="json",
            worker_hijack_root_logger=False,
            worker_cancel_long_running_tasks_on_connection_loss=False,
        )

        @app.task(name=TASK_NAME, acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
        def collect(task: dict[str, Any]) -> None:
            try:
                self.handle(task)
            except PublishFailed as exc:
                # back to the queue (until the task expires): answers sent so far may come
                # again, and the central side keeps one per device
                raise Reject(str(exc), requeue=True) from None

        return app

    def run(self) -> None:
        from celery.apps.worker import Worker

        worker = Worker(
            app=self.app,
            hostname=f"{self.name}@{socket.gethostname()}",
            pool_cls="threads",
            concurrency=self.concurrency,
            queues=[queue_name(self.name)],
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            quiet=True,
            loglevel="WARNING",
        )
        try:
            worker.start()
        finally:
            self._publisher.close()

    # -- one task --------------------------------------------------------------------------

    def handle(self, raw: Any) -> None:
        """Collect a task's devices; every device gets exactly one answer published."""
        from baluarte.collectors.wire import plan_from_document

        try:
            task = CollectTask.model_validate(raw)
        except ValueError as exc:
            # nobody can be answered without a valid token: dropped, and said here
            log.warning("a task that is not a collection task was dropped: %s", _first(exc))
            return
        plans: list[DevicePlan] = []
        for index, doc in enumerate(task.devices):
            try:
                device_plan = plan_from_document(doc)
            except ValueError as exc:
                key = _key_of(doc) or f"device #{index + 1} of the task"
                self._answer(task, key, "error", reason=f"the task's device is malformed: {exc}")
                continue
            refusal = self._refusal(task, device_plan)
            if refusal:
                log.warning("refused %s: %s", device_plan.ref.key, refusal)
                self._answer(task, device_plan.ref.key, "refused", reason=refusal)
                continue
            plans.append(device_plan)
        if not plans:
            return
        log.info("collecting %d device(s) for run %d", len(plans), task.run)
        options = CollectOptions(
            parallel=self.parallel,
            command_timeout=task.command_timeout,
            restore_test=task.restore_test,
            artifacts=self.artifacts,
        )
        for device_plan, result in _collect(plans, options):
            self._send(task, device_plan, result)
        log.info("answered %d device(s) for run %d", len(plans), task.run)
        if any(p.ref.platform == "linux" for p in plans):
            prestart()  # the next task's SSH worker starts now, not when that task comes

    def _refusal(self, task: CollectTask, device_plan: DevicePlan) -> str | None:
        ref = device_plan.ref
        if task.collector != self.name:
            return f"the task was meant for collector '{task.collector}', not '{self.name}'"
        if ref.collector != self.name:
            bound = f"collector '{ref.collector}'" if ref.collector else "no collector"
            return (
                f"its site {ref.client_name}/{ref.site_name} is bound to {bound},"
                f" not to this collector '{self.name}'"
            )
        return None

    def _send(
        self, task: CollectTask, device_plan: DevicePlan, result: Collected | DeviceError | None
    ) -> None:
        from baluarte.collectors.wire import collected_document, error_document

        key = device_plan.ref.key
        if result is None:
            self._answer(task, key, "nothing")
            return
        try:
            if isinstance(result, DeviceError):
                self._answer(task, key, "error", document=error_document(result))
            else:
                self._answer(task, key, "facts", document=collected_document(result))
        except ValueError as exc:  # facts this version cannot write: said, the task goes on
            reason = f"the collector could not write the device's answer: {_first(exc)}"
            self._answer(task, key, "error", document={"kind": "BadAnswer", "message": reason})

    def _answer(
        self,
        task: CollectTask,
        device: str,
        outcome: Outcome,
        *,
        document: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        result = Result(
            token=task.token,
            run=task.run,
            device=device,
            collector=self.name,
            version=__version__,
            sent_at=datetime.now(UTC),
            outcome=outcome,
            document=document,
            reason=reason,
        )
        self._publisher.publish(
            result.model_dump_json(by_alias=True), result_key(result.token, self.name)
        )


def _collect(
    plans: list[DevicePlan], options: CollectOptions
) -> Iterator[tuple[DevicePlan, Collected | DeviceError | None]]:
    from baluarte.engine import collect_plans

    for device_plan, result, _domains in collect_plans(plans, options):
        yield device_plan, result


def check_login(broker: BrokerUrl, name: str) -> None:
    """Log in once before starting, so wrong credentials or a wrong vhost are said plainly
    (Celery alone would retry for ever). Raises InputError."""
    open_connection(
        broker,
        refused=f"collector '{name}''s login or vhost",
        hint="check the URL in the collector's secret file, or provision it again"
        f" ('baluarte collectors provision {name}' on the broker)",
    ).release()


def _key_of(doc: Any) -> str | None:
    try:
        key = doc["key"]
    except (TypeError, KeyError):
        return None
    return key if isinstance(key, str) and key.count("/") == 2 else None


def _first(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
