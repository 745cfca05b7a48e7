"""The armed-faults list every lab emulator shares; each lab defines its own ``Fault`` kinds.

A fault hits the requests its lab matches it to, ``times`` times (None: all), then disarms.
Tests arm and clear faults while the lab serves, so every change holds the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

__all__ = ["ArmedFaults", "CountedFault"]


class CountedFault(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def seconds(self) -> float: ...

    @property
    def times(self) -> int | None: ...

    hits: int


FaultT = TypeVar("FaultT", bound=CountedFault)


class ArmedFaults(Generic[FaultT]):
    """The faults armed on one lab; safe to change from tests while it serves."""

    def __init__(self) -> None:
        self._armed: list[FaultT] = []
        self._lock = threading.Lock()

    def add(self, fault: FaultT) -> FaultT:
        with self._lock:
            self._armed.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def _take(self, applies: Callable[[FaultT], bool]) -> tuple[float, FaultT | None]:
        """Seconds of latency to add, and the first failing fault that hits this request."""
        delay, failing = 0.0, None
        with self._lock:
            for fault in list(self._armed):
                if not applies(fault):
                    continue
                if fault.kind != "latency" and failing is not None:
                    continue
                self._hit(fault)
                if fault.kind == "latency":
                    delay += fault.seconds
                else:
                    failing = fault
        return delay, failing

    def _hit(self, fault: FaultT) -> None:
        """Count a hit; the caller holds the lock."""
        fault.hits += 1
        if fault.times is not None and fault.hits >= fault.times:
            self._armed.remove(fault)
