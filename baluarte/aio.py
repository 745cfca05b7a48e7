"""Run an async function over many items in a background event loop, yielding as each finishes.

Collectors and executors are plain iterators (the engine stays synchronous); the FortiOS work
behind them is asyncio. ``stream`` bridges the two: one event loop in a worker thread, at most
``parallel`` items at once, results handed to the caller's thread as they come, and the loop's
work cancelled if the caller stops iterating early.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

__all__ = ["stream"]

T = TypeVar("T")
R = TypeVar("R")


def stream(
    items: Sequence[T], work: Callable[[T], Awaitable[R]], *, parallel: int
) -> Iterator[tuple[T, R]]:
    """``(item, await work(item))`` for every item, in the order they finish."""
    if not items:
        return
    done: queue.Queue[tuple[T, R] | BaseException | None] = queue.Queue()
    runner = _Runner()

    def thread_main() -> None:
        try:
            asyncio.run(runner.run(items, work, parallel, done.put))
        except BaseException as exc:  # handed to the caller's thread
            done.put(exc)
        finally:
            done.put(None)

    thread = threading.Thread(target=thread_main, name="baluarte-aio", daemon=True)
    thread.start()
    try:
        while (item := done.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        runner.cancel()  # the caller stopped early: do not leave work running
        thread.join()


class _Runner:
    """The event loop side of ``stream``; ``cancel`` may be called from any thread."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._cancelled = False
        self._lock = threading.Lock()

    async def run(
        self,
        items: Sequence[T],
        work: Callable[[T], Awaitable[R]],
        parallel: int,
        emit: Callable[[tuple[T, R]], None],
    ) -> None:
        slots = asyncio.Semaphore(max(1, parallel))

        async def one(item: T) -> None:
            async with slots:
                result = await work(item)
            emit((item, result))

        with self._lock:
            if self._cancelled:
                return
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
        await asyncio.gather(*(one(i) for i in items))

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._loop is not None and self._task is not None and not self._task.done():
                self._loop.call_soon_threadsafe(self._task.cancel)
