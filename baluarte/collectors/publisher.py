"""What a collector sends: answers and heartbeats, to ``baluarte.results`` only.

One connection of the collector's own (Celery's is busy consuming), one publish at a time,
each confirmed by the broker (a refused or lost message raises instead of vanishing), with the
AMQP ``user_id`` RabbitMQ checks against the login: the central side trusts it to say which
collector sent it. Nothing is declared: the collector has no configure permission there.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from baluarte.collectors.broker import BrokerUrl, connection, why_failed
from baluarte.collectors.names import RESULTS_EXCHANGE, broker_user

__all__ = ["PublishFailed", "ResultsPublisher"]

_TIMEOUT = 10.0


class PublishFailed(Exception):
    """A message the broker did not take (refused, or not confirmed in time)."""


class ResultsPublisher:
    """Publishes as collector ``name``; a connection the broker dropped is made again once."""

    def __init__(self, broker: BrokerUrl, name: str, *, timeout: float = _TIMEOUT) -> None:
        self._broker = broker
        self._user = broker_user(name)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._conn: Any = None

    def publish(self, body: str, routing_key: str) -> None:
        """``body`` (JSON text) under ``routing_key``, confirmed; PublishFailed when it was not."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    self._publish(body, routing_key)
                    return
                except Exception as exc:
                    self._close()
                    if attempt == 2:
                        raise PublishFailed(f"not sent to the broker: {why_failed(exc)}") from None

    def _publish(self, body: str, routing_key: str) -> None:
        if self._conn is None:
            conn = connection(
                self._broker,
                connect_timeout=self._timeout,
                transport_options={"max_retries": 0, "confirm_publish": True},
            )
            self._conn = conn
            conn.ensure_connection(max_retries=0)
        producer = self._conn.Producer(auto_declare=False)
        producer.publish(
            body,
            exchange=RESULTS_EXCHANGE,  # by name: declaring it would be refused
            routing_key=routing_key,
            declare=[],
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,  # persistent: survives a broker restart while queued
            user_id=self._user,
            confirm_timeout=self._timeout,
        )

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to release
                conn.release()
