"""What crosses the broker: a collection task (central → collector) and a result (collector →
central). The devices' own documents inside them are ``wire``'s; secrets never travel: a device
carries its credential references, which the collector resolves."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = ["TASK_NAME", "CollectTask", "Outcome", "Result"]

# The Celery task's name: the only one a collector runs.
TASK_NAME = "baluarte.collect"

Outcome = Literal["facts", "error", "refused", "nothing"]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CollectTask(_Doc):
    """Collect these devices for run ``run`` and send each answer to ``result.TOKEN``."""

    schema_: Literal[1] = Field(default=1, alias="schema")
    token: str = Field(pattern=r"^[0-9a-f]{32}$")  # the dispatching run's own, random
    run: int
    collector: str  # the collector it was sent to
    deadline: AwareDatetime  # after this nobody waits for the answer
    command_timeout: float = Field(gt=0)
    restore_test: bool = False
    devices: tuple[dict[str, Any], ...]  # wire.plan_document each


class Result(_Doc):
    """One device's answer. ``outcome``: facts (``document`` is wire.collected_document), error
    (wire.error_document), refused (``reason``: not this collector's device) or nothing to
    collect."""

    schema_: Literal[1] = Field(default=1, alias="schema")
    token: str = Field(pattern=r"^[0-9a-f]{32}$")
    run: int
    device: str  # client/site/device
    collector: str
    version: str  # the collector's Baluarte version
    sent_at: datetime
    outcome: Outcome
    document: dict[str, Any] | None = None
    reason: str | None = None
