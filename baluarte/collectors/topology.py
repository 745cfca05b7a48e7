"""What lives on the broker: exchanges and queues, declared by the central side only.

    tasks    central ─(default exchange, key = queue name)─▶ baluarte.collector.NAME ─▶ NAME
    results  collector ─▶ exchange baluarte.results (topic)
               key result.TOKEN.NAME ─▶ the run's own queue baluarte.run.TOKEN (exclusive)
               key heartbeat.NAME  ─▶ queue baluarte.heartbeat.NAME (holds the last one)
               unroutable (the run's queue is gone: the run is over)
                 ─▶ exchange baluarte.results.unrouted ─▶ queue baluarte.results.late

A collector has configure permission only on its task queue and write only on
``baluarte.results``: everything else here is declared with the central login (``collectors
provision`` and every dispatching run), and the collector publishes without declaring.
"""

from __future__ import annotations

from typing import Any

from kombu.entity import Exchange, Queue

from baluarte.collectors.names import RESULTS_EXCHANGE, queue_name

__all__ = [
    "LATE_QUEUE",
    "UNROUTED_EXCHANGE",
    "declare_central",
    "declare_collector",
    "heartbeat_key",
    "heartbeat_queue",
    "late_queue",
    "result_key",
    "results_exchange",
    "run_queue",
    "task_queue",
]

UNROUTED_EXCHANGE = "baluarte.results.unrouted"
LATE_QUEUE = "baluarte.results.late"
# Results nobody waits for any more are kept for the next run to record, but not without bound.
LATE_QUEUE_MAX = 10_000


def results_exchange() -> Exchange:
    # A result whose run has ended (its queue deleted) is not dropped: it goes to the alternate
    # exchange, so that it can be recorded as late.
    return Exchange(
        RESULTS_EXCHANGE,
        type="topic",
        durable=True,
        arguments={"alternate-exchange": UNROUTED_EXCHANGE},
    )


def _unrouted_exchange() -> Exchange:
    return Exchange(UNROUTED_EXCHANGE, type="fanout", durable=True)


def late_queue() -> Queue:
    return Queue(
        LATE_QUEUE,
        exchange=_unrouted_exchange(),
        durable=True,
        queue_arguments={"x-max-length": LATE_QUEUE_MAX},
    )


def task_queue(name: str) -> Queue:
    """Collector ``name``'s task queue, reached through the default exchange. Never declared
    through this (kombu would bind it, which the collector may not do): ``declare_collector``
    declares it."""
    return Queue(
        queue_name(name),
        exchange=Exchange(""),
        routing_key=queue_name(name),
        durable=True,
        no_declare=True,
    )


def heartbeat_key(name: str) -> str:
    return f"heartbeat.{name}"


def heartbeat_queue(name: str) -> Queue:
    """Holds collector ``name``'s newest heartbeat only: reading it tells when it was last seen."""
    return Queue(
        f"baluarte.heartbeat.{name}",
        exchange=results_exchange(),
        routing_key=heartbeat_key(name),
        durable=True,
        queue_arguments={"x-max-length": 1},
    )


def result_key(token: str, name: str) -> str:
    """Collector ``name``'s answers to run ``token``: the broker lets ``name`` publish with no
    other collector's name (``broker.routing_keys_for``)."""
    return f"result.{token}.{name}"


def run_queue(token: str) -> Queue:
    """One dispatching run's results: exclusive, so it goes when the run's connection does."""
    return Queue(
        f"baluarte.run.{token}",
        exchange=results_exchange(),
        routing_key=f"result.{token}.*",
        exclusive=True,
        auto_delete=True,
        durable=False,
    )


def declare_central(channel: Any) -> None:
    """The results exchange, its alternate and the late queue (idempotent)."""
    _unrouted_exchange()(channel).declare()
    results_exchange()(channel).declare()
    late_queue()(channel).declare()


def declare_collector(channel: Any, name: str) -> None:
    """Collector ``name``'s task and heartbeat queues, so tasks and heartbeats wait there
    before the collector's first start (a task sent to a missing queue would be dropped)."""
    channel.queue_declare(queue=queue_name(name), durable=True, auto_delete=False)
    heartbeat_queue(name)(channel).declare()
