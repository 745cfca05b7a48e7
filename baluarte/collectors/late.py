"""Answers that came after their run had ended: kept beside that run, changing nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from baluarte.collectors.dispatch import LateAnswer, RecordLate
from baluarte.errors import StoreError

if TYPE_CHECKING:
    from baluarte.store import Store

__all__ = ["late_recorder"]


def late_recorder(store: Store) -> RecordLate:
    """Late answers are kept beside the run they were for, when this store holds that run and
    the run had the device (another installation's run of the same number is not ours)."""

    def record(late: LateAnswer) -> None:
        try:
            run = store.get_run(late.run)
        except StoreError:
            return
        if not any(f"{f.client}/{f.site}/{f.device}" == late.device for f in run.findings):
            return
        store.add_late_result(
            late.run,
            device=late.device,
            collector=late.collector,
            received_at=late.received_at,
            sent_at=late.sent_at,
            outcome=late.outcome,
            detail=late.detail,
        )

    return record
