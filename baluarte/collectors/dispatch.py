"""The central side of site collectors: a run's devices bound to a collector are sent to its
queue as Celery tasks; the rest are collected directly; answers are yielded as they arrive.

Handed to ``engine.check`` as its ``collect``, so evaluation, waivers and the store stay as
they are. What a collector sends is untrusted: an answer counts only when RabbitMQ's validated
``user_id`` is the login of the collector the device is bound to, its token is this run's, and
the device is one this run sent and has not been answered yet (delivery is at least once: a
repeated answer is dropped). A device not answered by the deadline is ``error``; answers that
come later are recorded as late (``record_late``) and change nothing.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from baluarte.collected import Collected, CollectOptions
from baluarte.collectors.broker import BrokerUrl, open_connection
from baluarte.collectors.messages import TASK_NAME, CollectTask, Result
from baluarte.collectors.names import broker_user, queue_name
from baluarte.collectors.topology import (
    declare_central,
    declare_collector,
    late_queue,
    run_queue,
    task_queue,
)
from baluarte.engine import Collect, PlanResult, collect_plans, collector_domains
from baluarte.errors import DeviceError, StoreError, TimedOut
from baluarte.interrupts import requested
from baluarte.plan import DevicePlan
from baluarte.run import LateOutcome, LateResult
from baluarte.text import inert

if TYPE_CHECKING:
    from baluarte.store import Store

__all__ = ["DEFAULT_DEADLINE", "RecordLate", "late_recorder", "through_collectors"]

log = logging.getLogger("baluarte.dispatch")

DEFAULT_DEADLINE = 600.0
# A collector's answer is a few hundred kB at most (a FortiGate with many policies): anything
# far bigger is not an answer.
MAX_RESULT_BYTES = 32 * 1024 * 1024
# Devices per task: a collector's own --parallel bounds the hosts it works on at once, and each
# task starts the collector's SSH worker anew, so a run sends each collector few, large tasks.
TASK_DEVICES = 500


RecordLate = Callable[[LateResult], None]


def through_collectors(
    broker: BrokerUrl,
    *,
    deadline: float = DEFAULT_DEADLINE,
    batch: int = TASK_DEVICES,
    record_late: RecordLate | None = None,
) -> Collect:
    """``engine.check``'s ``collect``: collector-bound devices through the broker, the others
    directly. Without collector-bound devices nothing touches the broker."""

    def collect(
        plans: Sequence[DevicePlan], options: CollectOptions, run_id: int
    ) -> Iterator[PlanResult]:
        queued = [p for p in plans if p.ref.collector and _has_work(p)]
        if not queued:
            yield from collect_plans(plans, options)
            return
        direct = [p for p in plans if p not in queued]
        run = _Dispatch(broker, run_id, options, deadline, record_late)
        yield from run.collect(queued, direct, batch)

    return collect


def late_recorder(store: Store) -> RecordLate:
    """Late answers are kept beside the run they were for, when this store holds that run and
    the run had the device (another installation's run of the same number is not ours)."""

    def record(late: LateResult) -> None:
        try:
            run = store.get_run(late.run_id)
        except StoreError:
            return
        if any(f"{f.client}/{f.site}/{f.device}" == late.device for f in run.findings):
            store.add_late_result(late.run_id, **late.model_dump(exclude={"run_id"}))

    return record


def _has_work(device_plan: DevicePlan) -> bool:
    return bool(device_plan.domains() & set(collector_domains(device_plan.ref.platform)))


class _Dispatch:
    def __init__(
        self,
        broker: BrokerUrl,
        run_id: int,
        options: CollectOptions,
        deadline: float,
        record_late: RecordLate | None,
    ) -> None:
        self.broker = broker
        self.run_id = run_id
        self.options = options
        self.deadline = deadline
        self.record_late = record_late
        self.token = secrets.token_hex(16)
        self.waiting: dict[str, DevicePlan] = {}  # device key → plan, until answered
        self.answered: set[str] = set()  # a second answer for these is a redelivery: dropped
        self.answers: queue.Queue[PlanResult] = queue.Queue()

    def collect(
        self, queued: list[DevicePlan], direct: list[DevicePlan], batch: int
    ) -> Iterator[PlanResult]:
        ends = time.monotonic() + self.deadline
        with open_connection(self.broker) as conn:
            channel = conn.channel()
            declare_central(channel)
            for name in sorted({p.ref.collector for p in queued if p.ref.collector}):
                declare_collector(channel, name)
            mine = run_queue(self.token)(channel)
            mine.declare()
            self._record_earlier_late(conn)
            consumer = conn.Consumer(
                [mine], callbacks=[self._on_message], accept=["json"], no_ack=True
            )
            consumer.consume()
            self.waiting = {p.ref.key: p for p in queued}
            self._send(conn, queued, batch, datetime.now(UTC) + timedelta(seconds=self.deadline))
            direct_left = self._start_direct(direct)
            while True:
                if requested() is not None:
                    return
                while not self.answers.empty():
                    item = self.answers.get()
                    if item[1] is _DIRECT_DONE:
                        direct_left = False
                    else:
                        yield _checked(item)
                if not self.waiting and not direct_left:
                    break
                remaining = ends - time.monotonic()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    conn.drain_events(timeout=min(0.2, remaining))
            for item in self._unanswered(conn, direct_left):
                yield item
            self.past_deadline = True
            self._drain_now(conn)  # what came meanwhile is late
            consumer.cancel()

    # -- sending ---------------------------------------------------------------------------

    def _send(self, conn: Any, queued: list[DevicePlan], batch: int, deadline: datetime) -> None:
        """Celery's task messages, published on the run's own connection."""
        from celery import Celery

        from baluarte.collectors.wire import plan_document

        app = Celery("baluarte-central", set_as_current=False)
        app.conf.update(
            task_create_missing_queues=False, task_send_sent_event=False, task_serializer="json"
        )
        by_collector: dict[str, list[DevicePlan]] = {}
        for device_plan in queued:
            assert device_plan.ref.collector is not None
            by_collector.setdefault(device_plan.ref.collector, []).append(device_plan)
        producer = conn.Producer(auto_declare=False)
        for name, plans in by_collector.items():
            for start in range(0, len(plans), max(1, batch)):
                task = CollectTask(
                    token=self.token,
                    run=self.run_id,
                    collector=name,
                    deadline=deadline,
                    command_timeout=self.options.command_timeout,
                    restore_test=self.options.restore_test,
                    devices=tuple(plan_document(p) for p in plans[start : start + batch]),
                )
                app.send_task(
                    TASK_NAME,
                    args=[task.model_dump(mode="json", by_alias=True)],
                    queue=task_queue(name),
                    routing_key=queue_name(name),
                    exchange="",
                    expires=deadline,  # a collector that starts later does not do it
                    producer=producer,
                    retry=False,
                )

    def _start_direct(self, direct: list[DevicePlan]) -> bool:
        if not direct:
            return False

        def run() -> None:
            try:
                for item in collect_plans(direct, self.options):
                    self.answers.put(item)
            except BaseException as exc:  # raised again on the run's own thread
                failed: Any = _Failed(exc)
                self.answers.put((direct[0], failed, ()))
            finally:
                self.answers.put((direct[0], _DIRECT_DONE, ()))

        threading.Thread(target=run, name="collect-direct", daemon=True).start()
        return True

    # -- receiving -------------------------------------------------------------------------

    past_deadline = False

    def _on_message(self, body: Any, message: Any) -> None:
        received = datetime.now(UTC)
        got = self._accept(body, message)
        if got is None:
            return
        result, device_plan = got
        if result.device in self.answered:
            log.info("a second answer for %s (a task delivered again) was dropped", result.device)
            return
        if self.past_deadline or device_plan is None:
            self._late(result, received)
            return
        self.waiting.pop(result.device)
        self.answered.add(result.device)
        domains = collector_domains(device_plan.ref.platform)
        self.answers.put((device_plan, self._outcome(result), domains))

    def _accept(self, body: Any, message: Any) -> tuple[Result, DevicePlan | None] | None:
        """The result if it may be believed (``None`` plan: nobody waits for it any more)."""
        if len(message.body or b"") > MAX_RESULT_BYTES:
            log.warning("an answer of %d bytes was dropped", len(message.body))
            return None
        try:
            result = Result.model_validate(body)
        except ValueError:
            log.warning("a message that is not a collector's answer was dropped")
            return None
        if result.token != self.token or result.run != self.run_id:
            return None
        sender = message.properties.get("user_id")
        device_plan = self.waiting.get(result.device)
        expected = device_plan.ref.collector if device_plan else result.collector
        if sender != broker_user(expected or ""):
            # another collector's login speaking for this device: not believed
            log.warning(
                "an answer for %s sent by %r, not by collector %r, was dropped",
                inert(result.device),
                inert(str(sender)),
                expected,
            )
            return None
        return result, device_plan

    def _outcome(self, result: Result) -> Collected | DeviceError | None:
        from baluarte.collectors.wire import collected_from_document, error_from_document

        who = f"collector {result.collector}"
        try:
            if result.outcome == "facts":
                return collected_from_document(result.document)
            if result.outcome == "error":
                return error_from_document(result.document)
        except ValueError as exc:
            return DeviceError(f"{who} sent an answer that is not valid: {inert(str(exc))}")
        if result.outcome == "refused":
            return DeviceError(f"{who} refused the device: {inert(result.reason or '')}")
        return None

    def _unanswered(self, conn: Any, direct_left: bool) -> Iterator[PlanResult]:
        if direct_left:  # direct devices are bounded by their own time-outs, not the deadline
            while True:
                item = self.answers.get()
                if item[1] is _DIRECT_DONE:
                    break
                yield _checked(item)
        if not self.waiting:
            return
        seen = _last_seen(conn, {p.ref.collector or "" for p in self.waiting.values()})
        for key, device_plan in list(self.waiting.items()):
            name = device_plan.ref.collector or ""
            why = TimedOut(
                f"collector {name} did not answer within {self.deadline:g} s;"
                f" last seen {seen.get(name, 'never')}"
            )
            del self.waiting[key]
            yield device_plan, why, collector_domains(device_plan.ref.platform)

    def _drain_now(self, conn: Any) -> None:
        while True:
            try:
                conn.drain_events(timeout=0.05)
            except TimeoutError:
                return

    # -- late answers ----------------------------------------------------------------------

    def _late(self, result: Result, received: datetime) -> None:
        late = _late_of(result, received)
        if self.record_late is not None and late is not None:
            self.record_late(late)

    def _record_earlier_late(self, conn: Any) -> None:
        """Answers to runs that had ended when they came (parked in the late queue)."""
        if self.record_late is None:
            return
        channel = conn.channel()
        try:
            q = late_queue()(channel)
            while (message := q.get(no_ack=False, accept=["json"])) is not None:
                try:
                    result = Result.model_validate(message.decode())
                except ValueError:
                    message.ack()
                    continue
                late = _late_of(result, datetime.now(UTC))
                sender = message.properties.get("user_id")
                if late is not None and sender == broker_user(result.collector):
                    self.record_late(late)
                message.ack()
        finally:
            channel.close()


_DIRECT_DONE: Any = object()


class _Failed:
    """The direct collection's own failure (not a device's), carried to the run's thread."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _checked(item: PlanResult) -> PlanResult:
    failed: Any = item[1]
    if isinstance(failed, _Failed):
        raise failed.exc
    return item


def _late_of(result: Result, received: datetime) -> LateResult | None:
    if result.outcome == "nothing":  # never sent for a device with nothing to collect
        return None
    detail = result.reason or ""
    if result.outcome == "facts" and isinstance(result.document, dict):
        facts = result.document.get("facts")
        detail = f"facts for {len(facts) if isinstance(facts, dict) else 0} domain(s)"
    elif result.outcome == "error" and isinstance(result.document, dict):
        detail = str(result.document.get("message", ""))
    return LateResult(
        run_id=result.run,
        device=inert(result.device),
        collector=inert(result.collector),
        sent_at=result.sent_at if result.sent_at.tzinfo else None,
        received_at=received,
        outcome=LateOutcome(result.outcome),
        detail=inert(detail)[:500],
    )


def _last_seen(conn: Any, names: set[str]) -> dict[str, str]:
    """When each collector last sent a heartbeat (read on the run's connection)."""
    try:
        from baluarte.collectors.health import read_status_on

        found = read_status_on(conn, sorted(names))
    except Exception:  # the answer is about the devices: a failed look-up says less, no more
        return {}
    out: dict[str, str] = {}
    for status in found:
        if status.last_seen is not None:
            out[status.name] = status.last_seen.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return out
