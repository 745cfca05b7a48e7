"""How a run reaches its devices: through site collectors when a selected device's site names
one. Light to import: the broker's libraries load only when a run goes through collectors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from baluarte.plan import DevicePlan

if TYPE_CHECKING:
    from baluarte.collectors.broker import BrokerUrl
    from baluarte.engine import Collect
    from baluarte.store import Store

__all__ = ["dispatch_for"]


def dispatch_for(
    plans: Sequence[DevicePlan], broker: Callable[[], BrokerUrl], *, deadline: float
) -> Callable[[Store], Collect] | None:
    """``engine.check``'s ``collect`` for a run of ``plans`` with a given store, when a device's
    site names a collector (``broker()`` is asked now, before any run starts, and raises
    InputError when there is none); None: every device is reached directly."""
    if not any(p.ref.collector for p in plans):
        return None
    url = broker()

    def make(store: Store) -> Collect:
        from baluarte.collectors.dispatch import late_recorder, through_collectors

        return through_collectors(url, deadline=deadline, record_late=late_recorder(store))

    return make
