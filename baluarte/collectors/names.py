"""A collector's name and the broker names made from it: its queue, its RabbitMQ user."""

from __future__ import annotations

import re

__all__ = [
    "COLLECTOR_NAME",
    "NAME_RULE",
    "RESULTS_EXCHANGE",
    "broker_user",
    "is_collector_name",
    "queue_name",
]

# Lower case only: the name becomes part of a queue and a user name, where case would let
# "Madrid" and "madrid" be two identities people read as one.
COLLECTOR_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
NAME_RULE = "lower-case letters, digits and '-', starting with a letter or digit, at most 63"
# Every collector publishes results and heartbeats here; the central side binds its own queue.
RESULTS_EXCHANGE = "baluarte.results"


def is_collector_name(value: str) -> bool:
    return COLLECTOR_NAME.fullmatch(value) is not None


def queue_name(name: str) -> str:
    """The only queue collector ``name`` consumes (tasks reach it through the default exchange)."""
    return f"baluarte.collector.{name}"


def broker_user(name: str) -> str:
    """Collector ``name``'s RabbitMQ user."""
    return f"baluarte-collector-{name}"
