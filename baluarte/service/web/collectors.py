"""The dashboard's "Collectors" page: each site collector the inventory declares, as the broker
says it is now (read when the page is asked for, waiting a few seconds at most).

Admins and technicians see it (they run the collectors); an auditor is refused (403), as on
the other pages about the provider's own machinery. A broker that is not configured, cannot be
reached or does not answer in time is said on the page, which still lists the collectors. A
heartbeat's version and host name are the collector's words: the template escapes them and
``finalize`` makes them inert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from baluarte.collectors.health import Age, CollectorStatus, state_code
from baluarte.errors import InputError, InputErrors
from baluarte.inventory import Collector
from baluarte.masking import mask_url_credentials
from baluarte.service.accounts import User
from baluarte.service.collectors import central_broker, served_sites, statuses
from baluarte.service.web.errors import PageError, PageRoute
from baluarte.service.web.render import page
from baluarte.service.web.session import require_user, service_of

__all__ = ["CollectorRow", "may_see_collectors", "router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

CurrentUser = Annotated[User, Depends(require_user)]


def may_see_collectors(user: User) -> bool:
    return user.role in ("admin", "technician")


@dataclass(frozen=True)
class CollectorRow:
    name: str
    description: str | None
    sites: tuple[tuple[str, str], ...]  # (client, site)
    # ok | silent | never_seen | not_provisioned | clock_ahead | unknown (no status read)
    state: str
    age: Age | None  # silent: for how long; clock_ahead: by how much
    last_seen: datetime | None
    seen_ago: Age | None
    version: str | None
    hostname: str | None
    queued: int | None
    consumers: int | None
    ignored: str | None  # why a message in its heartbeat queue was not believed


def _row(
    collector: Collector,
    status: CollectorStatus | None,
    sites: list[tuple[str, str]],
    now: datetime,
    silent_after: float,
) -> CollectorRow:
    if status is None:
        return CollectorRow(
            collector.name, collector.description, tuple(sites), "unknown",
            None, None, None, None, None, None, None, None,
        )  # fmt: skip
    state = state_code(status, now, after=silent_after)
    seen = status.last_seen
    age = None
    if state == "silent" and seen is not None:
        age = Age.of((now - seen).total_seconds())
    elif state == "clock_ahead" and seen is not None:
        age = Age.of((seen - now).total_seconds())
    return CollectorRow(
        name=collector.name,
        description=collector.description,
        sites=tuple(sites),
        state=state,
        age=age,
        last_seen=seen,
        seen_ago=Age.of((now - seen).total_seconds()) if seen is not None else None,
        version=status.version,
        hostname=status.hostname,
        queued=status.queued,
        consumers=status.consumers,
        ignored=status.problem if state != "not_provisioned" else None,
    )


@router.get("/collectors")
def collectors_page(request: Request, user: CurrentUser) -> Response:
    if not may_see_collectors(user):
        raise PageError(403, "forbidden")
    service = service_of(request)
    try:
        inventory = service.inputs().inventory
    except (InputError, InputErrors):
        raise PageError(503, "inputs") from None
    declared = list(inventory.collectors)
    found: list[CollectorStatus] | None = None
    problem: str | None = None  # "no_broker", "unreachable"
    detail: str | None = None
    broker_shown: str | None = None
    try:
        broker = central_broker(service.config)
        if broker is None:
            problem = "no_broker"
        else:
            broker_shown = f"{broker.host}:{broker.port}, vhost {broker.vhost}"
            if declared:
                found = statuses(broker, [c.name for c in declared])
    except InputError as exc:
        problem, detail = "unreachable", mask_url_credentials(exc.message)
    now = datetime.now(UTC)
    sites = served_sites(inventory)
    after = service.config.collector_silent_after
    rows = [
        _row(c, found[i] if found is not None else None, sites.get(c.name, []), now, after)
        for i, c in enumerate(declared)
    ]
    return page(
        request,
        "collectors.html.j2",
        rows=rows,
        problem=problem if declared else None,
        detail=detail,
        broker=broker_shown,
        silent_after=Age.of(after),
        read_at=now,
    )
