"""The JSON API for integrations (``/api/v1``), ``/healthz`` and ``/metrics``.

Every ``/api/v1`` endpoint takes a bearer token (``baluarte tokens create``) and answers as the
token's account: an auditor sees only their clients, read-only; a technician or an admin may
start checks. ``/healthz`` and ``/metrics`` need no token: a load balancer and Prometheus read
them; ``/metrics`` names every client with its posture figures, so expose the service's port
only where that may be read (bind to 127.0.0.1 or a management network, or filter the path
at the reverse proxy).

Client figures are the client's posture (``snapshots``), never its last run.

A run that covered several clients is shown to an auditor with only their clients' findings
(and remediations): its report is drawn from those alone, its earlier runs' too, and it says
nothing of the other clients — not their devices' count nor the input files' paths (which may
name them). Such a report is marked with the header ``X-Baluarte-View: filtered``. A run with
no finding of theirs does not exist for them (404).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Coroutine, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from baluarte.errors import BaluarteError, InputError, StoreError
from baluarte.run import RunInfo, RunRecord
from baluarte.service import accounts, audit, snapshots
from baluarte.service.accounts import User
from baluarte.service.checks import CheckRequest, ServiceCheck
from baluarte.service.context import Service
from baluarte.store.tables import findings as findings_table
from baluarte.store.tables import runs as runs_table

__all__ = [
    "CheckAccepted",
    "CheckIn",
    "CheckOut",
    "ClientList",
    "ClientOut",
    "Health",
    "RunList",
    "RunOut",
    "current_user",
    "router",
    "run_clients",
    "visible_run",
]

log = logging.getLogger("baluarte.service.api")

API = "/api/v1"
FILTERED_HEADER = "X-Baluarte-View"
MAX_LIMIT = 500
# run ids are 32-bit integers in the store: larger ones are refused before a query
MAX_ID = 2**31 - 1

# an inventory name (client, site, device, tag, policy id)
Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class _Route(APIRoute):
    """The store or the inputs failing mid-request is the service's trouble, not the caller's:
    503 with a short reason (the detail, which may name the store's host, goes to the log)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except StoreError:
                log.exception("%s %s: the store failed", request.method, request.url.path)
                return JSONResponse({"detail": "the store cannot be read now"}, status_code=503)
            except InputError:
                log.exception("%s %s: the inputs do not load", request.method, request.url.path)
                return JSONResponse(
                    {"detail": "the service's inventory, policies or waivers do not load now"},
                    status_code=503,
                )

        return guarded


router = APIRouter(route_class=_Route)


# -- models -----------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClientOut(_Model):
    """A client's posture: each in-scope device and control as last observed."""

    client: str
    legal_name: str
    timezone: str = Field(description="IANA zone the client's times are shown in")
    compliance_percent: float | None = Field(
        description="pass / (pass + fail + error) at the posture; null when nothing is judged"
    )
    trend: list[float | None] = Field(description="the posture's compliance at each day's end")
    devices_in_scope: int
    devices_verified: int
    devices_not_verified: int = Field(description="never read, or unreadable at their last try")
    counts: dict[str, int] = Field(description="the posture's findings per status")
    new_drift: int = Field(description="controls that passed at the previous posture, fail now")
    expiring_waivers: int
    open_drift: int = Field(description="controls failing now")
    overdue: int = Field(description="failing controls past their response target")
    recurring: int = Field(description="failing controls that failed on the device not long ago")
    last_run_id: int | None = Field(description="the newest run in the posture")
    last_run_at: datetime | None
    computed_at: datetime
    stale: bool = Field(description="a newer run covers the client: being rebuilt")
    runs_url: str


class ClientList(_Model):
    clients: list[ClientOut]


class RunOut(_Model):
    id: int
    kind: str = Field(description="check or apply")
    state: str = Field(description="complete, or running (also a run that was cut short)")
    started_at: datetime
    ended_at: datetime | None
    operator: str
    scope: dict[str, str] = Field(description="the selectors given: client, site, device, …")
    devices_total: int | None = Field(
        description="devices in scope; null when the run also covered clients hidden from you"
    )
    clients: list[str] = Field(description="the clients of its findings you may see")
    report_url: str


class RunList(_Model):
    runs: list[RunOut]


class CheckIn(_Model):
    """What to check: a client, optionally narrowed as ``baluarte check`` narrows it."""

    client: Name
    site: Name | None = None
    device: Name | None = None
    tags: list[Name] = Field(default_factory=list, max_length=32)
    policy: Name | None = None


class CheckAccepted(_Model):
    id: int
    state: str
    url: str


class CheckOut(_Model):
    id: int
    state: str = Field(description="queued, running, done, failed or interrupted")
    origin: str = Field(description="schedule, dashboard or api")
    schedule: str | None
    requested_by: str | None
    requested_at: datetime
    client: str | None
    site: str | None
    device: str | None
    run_id: int | None
    run_url: str | None
    started_at: datetime | None
    ended_at: datetime | None
    error: str | None
    url: str


class Health(_Model):
    status: Literal["ok", "unavailable"]
    store: dict[str, Any]
    scheduler: dict[str, Any] | None


# -- who asks ---------------------------------------------------------------------------------

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A token made by `baluarte tokens create --user NAME` (blt_…)",
)


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The account of the request's bearer token, else 401."""
    if credentials is None:
        raise _unauthorized("a bearer token is needed: Authorization: Bearer blt_…")
    user = accounts.user_for_token(_service(request).db, credentials.credentials)
    if user is None:
        raise _unauthorized("the token is unknown or revoked", error="invalid_token")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


# -- clients ----------------------------------------------------------------------------------


@router.get(f"{API}/clients", response_model=ClientList, tags=["clients"])
def list_clients(request: Request, user: CurrentUser) -> ClientList:
    """The clients you may see, each with its posture figures."""
    summaries = snapshots.client_summaries(_service(request), rebuild=True)
    return ClientList(
        clients=[
            # every figure of the summary the API describes, as the summary has it
            ClientOut(
                **{k: v for k, v in asdict(s).items() if k in ClientOut.model_fields},
                runs_url=f"{API}/runs?client={s.client}",
            )
            for s in summaries
            if user.can_see(s.client)
        ]
    )


# -- runs -------------------------------------------------------------------------------------


def run_clients(service: Service, run_ids: Sequence[int]) -> dict[int, set[str]]:
    """The clients each run covers: its findings' clients and the client it was scoped to."""
    out: dict[int, set[str]] = {i: set() for i in run_ids}
    if not run_ids:
        return out
    with service.db.read() as conn:
        for run_id, client in conn.execute(
            sa.select(findings_table.c.run_id, findings_table.c.client)
            .where(findings_table.c.run_id.in_(list(run_ids)))
            .distinct()
        ):
            out[int(run_id)].add(str(client))
        for run_id, client in conn.execute(
            sa.select(runs_table.c.id, runs_table.c.client).where(
                runs_table.c.id.in_(list(run_ids)), runs_table.c.client.is_not(None)
            )
        ):
            out[int(run_id)].add(str(client))
    return out


def _only(run: RunRecord, clients: Collection[str]) -> RunRecord:
    """``run`` as someone who sees only ``clients`` may see it (see the module's note)."""
    found = tuple(f for f in run.findings if f.client in clients)
    devices = {(f.client, f.site, f.device) for f in found}
    info = run.info.model_copy(update={"devices_total": len(devices), "files": ()})
    return RunRecord(
        info=info,
        findings=found,
        remediations=tuple(r for r in run.remediations if r.client in clients),
    )


def visible_run(run: RunRecord, user: User) -> tuple[RunRecord, bool] | None:
    """The run as ``user`` may see it, and whether it was filtered; None: not theirs at all."""
    if user.clients is None:
        return run, False
    covered = {f.client for f in run.findings} | {r.client for r in run.remediations}
    if client := run.info.scope.get("client"):
        covered.add(client)
    mine = set(user.clients)
    if not covered & mine:
        return None
    if covered <= mine:
        return run, False
    return _only(run, mine), True


def _run_out(info: RunInfo, clients: set[str], user: User) -> RunOut:
    shown = sorted(c for c in clients if user.can_see(c))
    return RunOut(
        id=info.id,
        kind=str(info.kind),
        state=str(info.state),
        started_at=info.started_at,
        ended_at=info.ended_at,
        operator=info.operator,
        scope=dict(info.scope),
        devices_total=info.devices_total if len(shown) == len(clients) else None,
        clients=shown,
        report_url=f"{API}/runs/{info.id}",
    )


@router.get(f"{API}/runs", response_model=RunList, tags=["runs"])
def list_runs(
    request: Request,
    user: CurrentUser,
    client: Annotated[Name | None, Query(description="only runs covering this client")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> RunList:
    """The newest runs you may see, newest first."""
    service = _service(request)
    store = service.db.store
    if client is not None and not user.can_see(client):
        raise HTTPException(404, f"no client named {client!r}")
    if user.clients is None:
        found = store.list_runs(limit=limit, client=client)
    else:
        merged: dict[int, RunInfo] = {}
        for name in [client] if client is not None else user.clients:
            for info in store.list_runs(limit=limit, client=name):
                merged[info.id] = info
        found = sorted(merged.values(), key=lambda i: (i.started_at, i.id), reverse=True)[:limit]
    covered = run_clients(service, [i.id for i in found])
    return RunList(runs=[_run_out(i, covered[i.id], user) for i in found])


def _exists(service: Service, run_id: int) -> bool:
    with service.db.read() as conn:
        return (
            conn.execute(sa.select(runs_table.c.id).where(runs_table.c.id == run_id)).first()
            is not None
        )


@router.get(
    f"{API}/runs/{{run_id}}",
    tags=["runs"],
    responses={
        200: {
            "description": "The run's JSON report, as `baluarte check --format json` prints it "
            "(docs/report-schema.md)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        404: {"description": "No such run, or none you may see"},
    },
)
def run_report(
    request: Request,
    user: CurrentUser,
    run_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
) -> JSONResponse:
    """One run's JSON report: findings, drift and trend against the earlier runs of its scope."""
    from baluarte.history import earlier_runs
    from baluarte.timezones import run_zone
    from reports.json_report import report_dict

    service = _service(request)
    store = service.db.store
    if not _exists(service, run_id):
        raise HTTPException(404, f"no run {run_id}")
    stored = store.get_run(run_id)
    seen = visible_run(stored, user)
    if seen is None:
        raise HTTPException(404, f"no run {run_id}")
    run, filtered = seen
    history = earlier_runs(store, stored)
    if user.clients is not None:
        # an auditor's trend and drift are drawn from their clients' findings alone
        mine = set(user.clients)
        history = [h for h in (_only(r, mine) for r in history) if h.findings]
    # the zone is read from the run's input files, which a filtered view leaves out: from the
    # stored run with the visible findings (so the zone is that of the clients shown)
    zone = run_zone(
        stored.model_copy(update={"findings": run.findings, "remediations": run.remediations})
    )
    doc = report_dict(run, history=history, timezone=zone)
    headers = {FILTERED_HEADER: "filtered"} if filtered else None
    return JSONResponse(doc, headers=headers)


# -- checks -----------------------------------------------------------------------------------


def _check_out(check: ServiceCheck) -> CheckOut:
    return CheckOut(
        id=check.id,
        state=check.state,
        origin=check.origin,
        schedule=check.schedule,
        requested_by=check.requested_by,
        requested_at=check.requested_at,
        client=check.client,
        site=check.site,
        device=check.device,
        run_id=check.run_id,
        run_url=f"{API}/runs/{check.run_id}" if check.run_id is not None else None,
        started_at=check.started_at,
        ended_at=check.ended_at,
        error=check.error,
        url=f"{API}/checks/{check.id}",
    )


def _selection_problem(service: Service, body: CheckIn) -> str | None:
    """Why the selectors select nothing to check (None: they do), as ``baluarte check`` says."""
    from baluarte.plan import plan

    inputs = service.inputs()
    if body.policy is not None and inputs.policies.get(body.policy) is None:
        known = sorted(p.id for p in inputs.policies.policies)
        from baluarte.validation import did_you_mean

        return f"no policy named '{body.policy}'{did_you_mean(body.policy, known)}"
    try:
        plans = plan(
            inputs.inventory,
            inputs.policies,
            client=body.client,
            site=body.site,
            device=body.device,
            tags=body.tags or None,
            policy=body.policy,
        )
    except InputError as exc:
        return exc.message
    if not plans:
        return "no device of the client matches the selectors"
    return None


@router.post(
    f"{API}/checks",
    status_code=202,
    response_model=CheckAccepted,
    tags=["checks"],
    responses={
        403: {"description": "An auditor cannot start checks"},
        422: {"description": "Unknown client, site, device, tag or policy"},
    },
)
def start_check(request: Request, body: CheckIn, user: CurrentUser) -> CheckAccepted:
    """Start a check of a client (or of a site, device, tags or policy of it) in the background;
    follow it at the returned ``url``."""
    if not user.can_start_checks:
        raise HTTPException(403, "an auditor cannot start checks")
    service = _service(request)
    problem = _selection_problem(service, body)
    if problem is not None:
        raise HTTPException(422, problem)
    check = CheckRequest(
        origin="api",
        client=body.client,
        site=body.site,
        device=body.device,
        tags=tuple(body.tags),
        policy=body.policy,
        requested_by=user.name,
    )
    try:
        check_id = service.checks.request(check)
    except StoreError:
        raise
    except BaluarteError as exc:  # the service is stopping
        raise HTTPException(503, str(exc)) from None
    audit.record(
        service.db,
        "check_started",
        user=user.name,
        client=body.client,
        address=_address(request),
        detail={"origin": "api", "check_id": check_id, **check.scope},
    )
    return CheckAccepted(id=check_id, state="queued", url=f"{API}/checks/{check_id}")


@router.get(
    f"{API}/checks/{{check_id}}",
    response_model=CheckOut,
    tags=["checks"],
    responses={404: {"description": "No such check, or none you may see"}},
)
def get_check(
    request: Request,
    user: CurrentUser,
    check_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
) -> CheckOut:
    """A check's state, and its run once it has one."""
    check = _service(request).checks.get(check_id)
    # an auditor sees checks of their clients only (a check of every client is not theirs)
    if check is None or not (user.clients is None or (check.client and user.can_see(check.client))):
        raise HTTPException(404, f"no check {check_id}")
    return _check_out(check)


# -- health and metrics -----------------------------------------------------------------------


@router.get(
    "/healthz",
    response_model=Health,
    tags=["service"],
    responses={503: {"model": Health, "description": "The store cannot be reached"}},
)
def healthz(request: Request) -> JSONResponse:
    """The store's and the scheduler's state (no token needed)."""
    state = _service(request).state()
    ok = bool(state["store"]["ok"])
    body = Health(
        status="ok" if ok else "unavailable", store=state["store"], scheduler=state["scheduler"]
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ok else 503)


@router.get(
    "/metrics",
    tags=["service"],
    response_class=Response,
    responses={200: {"description": "Prometheus text format", "content": {"text/plain": {}}}},
)
def metrics(request: Request) -> Response:
    """Posture figures per client and the service's checks, for Prometheus (no token needed)."""
    from baluarte.service.metrics import CONTENT_TYPE, render_metrics

    return Response(render_metrics(_service(request)), media_type=CONTENT_TYPE)
