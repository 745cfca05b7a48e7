"""``baluarte apply``'s progress bar on standard error, when that is a terminal.

Phase by phase (checking, planning, applying, re-checking): devices done of the phase's total
and what failed so far — controls not passing while checking, changes not applied while
applying. It stands aside while the plan is printed, and is gone (transient) before the
report.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from rich.console import Console
from rich.progress import TaskID

from baluarte.cli.render import escape, progress_bar

__all__ = ["ApplyBar"]

T = TypeVar("T")

# What a device's failures count in each phase (baluarte.apply.ApplyProgress).
_FAILED = {
    "checking": "control(s) not passing",
    "applying": "change(s) not applied",
    "re-checking": "control(s) not passing",
}


class ApplyBar:
    """A ``baluarte.apply.ApplyProgress`` drawn as the one progress bar of long commands."""

    def __init__(self, console: Console, *, enabled: bool = True) -> None:
        self._bar = progress_bar("apply", console, disable=not enabled)
        self._task: TaskID | None = None
        self._phase = ""
        self._failures = 0

    def __enter__(self) -> ApplyBar:
        self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def phase(self, name: str, total: int) -> None:
        self._phase, self._failures = name, 0
        if self._task is None:
            self._task = self._bar.add_task(name, total=total)
        else:
            self._bar.reset(self._task, total=total, description=name)

    def device_done(self, key: str, failures: int) -> None:
        self._failures += failures
        counted = _FAILED.get(self._phase)
        so_far = f", {self._failures} {counted} so far" if counted else ""
        if self._task is not None:
            self._bar.update(
                self._task, advance=1, description=f"{self._phase}{so_far} (last: {escape(key)})"
            )

    def aside(self, show: Callable[[T], None]) -> Callable[[T], None]:
        """``show`` with the bar taken off the terminal while it prints (the plan)."""

        def shown(value: T) -> None:
            self._bar.stop()
            try:
                show(value)
            finally:
                self._bar.start()

        return shown
