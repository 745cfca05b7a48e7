"""The dashboard's pages: server-rendered, one route per page, behind the login.

Who sees what: an admin and a technician see every client; an auditor only the clients on
their account. A client (and its devices, runs, checks) an account may not see answers 404,
exactly as a client that does not exist, so names do not leak. Technicians and admins start
checks and export evidence; admins manage accounts and read the audit log. Every form posts
the session's CSRF token; a POST without it, or with another, is refused (403).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from baluarte.controls import DOMAINS
from baluarte.engine import Inputs
from baluarte.errors import InputError, InputErrors, StoreError
from baluarte.history import client_runs
from baluarte.inventory import Client
from baluarte.posture import compliance_percent, counts, posture_at
from baluarte.service import accounts, audit
from baluarte.service.accounts import ROLES, LoginRefused, Throttled, User
from baluarte.service.checks import CheckRequest, ServiceCheck
from baluarte.service.context import Service
from baluarte.service.snapshots import POSTURE_DAYS
from baluarte.service.web import views
from baluarte.service.web.errors import PageError, PageRoute
from baluarte.service.web.render import page
from baluarte.service.web.session import (
    client_address,
    current_user,
    language,
    log_in,
    log_out,
    require_csrf,
    require_user,
    safe_next,
    service_of,
    set_language,
)
from baluarte.timezones import zone
from reports.evidence.i18n import Formats

__all__ = ["may_export", "router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

CurrentUser = Annotated[User, Depends(require_user)]
Csrf = Annotated[str, Form(alias="csrf_token")]
RECENT_RUNS = 15
RECENT_CHECKS = 10
MAX_RUN_FINDINGS = 2000  # a run over every client can hold many; the rest are counted
HISTORY = timedelta(days=90)  # the device page's runs: its history, and its posture's window


def may_export(user: User) -> bool:
    """Who may download evidence packs: everyone, of the clients they see. An evidence pack
    is what an auditor is there for; it changes nothing, and each export is in the audit log."""
    return user.role in ("admin", "technician", "auditor")


def _inputs(service: Service) -> Inputs:
    try:
        return service.inputs()
    except (InputError, InputErrors):
        raise PageError(503, "inputs") from None


def _formats(request: Request, client: Client | None = None) -> Formats:
    service = service_of(request)
    return Formats(language(request), client.timezone if client else service.config.timezone)


# -- login, logout, language ----------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if current_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return page(request, "login.html.j2", next=safe_next(next), error=None, name="")


@router.post("/login")
def login(
    request: Request,
    csrf: Csrf = "",
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    require_csrf(request, csrf)
    service = service_of(request)
    try:
        user = accounts.authenticate(
            service.db, name.strip(), password, address=client_address(request)
        )
    except Throttled:
        return page(
            request, "login.html.j2", status=429, next=safe_next(next), error="throttled", name=name
        )
    except LoginRefused:
        return page(
            request, "login.html.j2", status=401, next=safe_next(next), error="refused", name=name
        )
    log_in(request, user)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Csrf = "") -> Response:
    require_csrf(request, csrf)
    user = current_user(request)
    if user is not None:
        audit.record(
            service_of(request).db, "logout", user=user.name, address=client_address(request)
        )
    log_out(request)
    return RedirectResponse("/login", status_code=303)


@router.post("/lang")
def switch_language(
    request: Request,
    csrf: Csrf = "",
    lang: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    require_csrf(request, csrf)
    set_language(request, lang)
    return RedirectResponse(safe_next(next), status_code=303)


# -- clients --------------------------------------------------------------------------------


@router.get("/")
def overview(request: Request, user: CurrentUser) -> Response:
    from baluarte.service.snapshots import client_summaries

    service = service_of(request)
    _inputs(service)  # inputs that do not load: said on the page
    summaries = [s for s in client_summaries(service) if user.can_see(s.client)]
    lang = language(request)
    return page(
        request,
        "overview.html.j2",
        summaries=summaries,
        formats={s.client: Formats(lang, s.timezone) for s in summaries},
    )


@router.get("/clients/{name}")
def client_page(request: Request, name: str, user: CurrentUser) -> Response:
    from baluarte.service.snapshots import client_detail

    service = service_of(request)
    client = views.visible_client(_inputs(service).inventory, user, name)
    detail = client_detail(service, name)
    if detail is None:  # left the inventory since it was read above
        raise PageError(404, "not_found")
    runs = service.db.store.list_runs(limit=RECENT_RUNS, client=name)
    checks = service.checks.recent(limit=RECENT_CHECKS, clients=[name])
    return page(
        request,
        "client.html.j2",
        client=client,
        detail=detail,
        # the domains in the order policies and reports give them
        domains=sorted(detail.domains, key=lambda d: (*DOMAINS, d).index(d)),
        runs=runs,
        checks=checks,
        cfmt=_formats(request, client),
        may_export=may_export(user),
    )


@router.post("/clients/{name}/checks")
def start_check(
    request: Request,
    name: str,
    user: CurrentUser,
    csrf: Csrf = "",
    target: Annotated[str, Form()] = "",
) -> Response:
    require_csrf(request, csrf)
    service = service_of(request)
    client = views.visible_client(_inputs(service).inventory, user, name)
    if not user.can_start_checks:
        raise PageError(403, "forbidden")
    site, device = _target(client, target)
    check_id = service.checks.request(
        CheckRequest(
            origin="dashboard", client=name, site=site, device=device, requested_by=user.name
        )
    )
    audit.record(
        service.db,
        "check_started",
        user=user.name,
        client=name,
        address=client_address(request),
        detail={"check": check_id, **({"site": site} if site else {}),
                **({"device": device} if device else {})},
    )  # fmt: skip
    return RedirectResponse(f"/checks/{check_id}", status_code=303)


def _target(client: Client, target: str) -> tuple[str | None, str | None]:
    """The form's choice: "" (the whole client), "site:NAME" or "device:SITE/NAME"."""
    if target == "":
        return None, None
    kind, _, rest = target.partition(":")
    if kind == "site" and any(s.name == rest for s in client.sites):
        return rest, None
    if kind == "device":
        site, _, device = rest.partition("/")
        for s in client.sites:
            if s.name == site and any(d.name == device for d in s.devices):
                return site, device
    raise PageError(400, "bad_request")


@router.get("/clients/{name}/devices/{site}/{device}")
def device_page(request: Request, name: str, site: str, device: str, user: CurrentUser) -> Response:
    service = service_of(request)
    client = views.visible_client(_inputs(service).inventory, user, name)
    found = next(
        (d for s in client.sites if s.name == site for d in s.devices if d.name == device), None
    )
    if found is None:
        raise PageError(404, "not_found")
    key = (name, site, device)
    now = datetime.now(UTC)
    runs = client_runs(service.db.store, name, device=device, start=now - HISTORY)
    # device names are unique within a client; the site is checked all the same
    runs = [
        r.model_copy(update={"findings": tuple(f for f in r.findings if f.site == site)})
        for r in runs
    ]
    # posture over the client page's window: an older pass shown as current would be stale
    recent = [r for r in runs if r.info.started_at >= now - timedelta(days=POSTURE_DAYS)]
    posture = posture_at(recent, None, {key: found.platform})
    state = next((d for d in posture.devices if (d.client, d.site, d.device) == key), None)
    return page(
        request,
        "device.html.j2",
        client=client,
        site=site,
        device=found,
        state=state,
        percent=posture.compliance_percent,
        counts=posture.counts,
        findings=views.finding_rows(posture.observations),
        history=views.history_rows(runs),
        cfmt=_formats(request, client),
        can_check=user.can_start_checks,
        window=POSTURE_DAYS,
        history_days=HISTORY.days,
    )


# -- runs and checks ------------------------------------------------------------------------


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: int, user: CurrentUser) -> Response:
    service = service_of(request)
    try:
        run = service.db.store.get_run(run_id)
    except StoreError:
        raise PageError(404, "not_found") from None
    inventory = _inputs(service).inventory
    scoped = run.info.scope.get("client")
    seen = {f.client for f in run.findings} | ({scoped} if scoped else set())
    mine = {c for c in seen if user.can_see(c)}
    if user.clients is not None and (not mine or (scoped and scoped not in mine)):
        raise PageError(404, "not_found")
    found = (
        [f for f in run.findings if f.client in mine]
        if user.clients is not None
        else list(run.findings)
    )
    client = next((c for c in inventory.clients if len(mine) == 1 and c.name in mine), None)
    rows = views.finding_rows(found, run.info.id)
    checks = views.checks_for_run(service.db, run_id)
    return page(
        request,
        "run.html.j2",
        run=run.info,
        client=client,
        clients=sorted(mine),
        counts=counts(found),
        percent=compliance_percent(found),
        findings=rows[:MAX_RUN_FINDINGS],
        hidden=max(0, len(rows) - MAX_RUN_FINDINGS),
        checks=checks,
        running=any(c.state == "running" for c in checks),
        cfmt=_formats(request, client),
    )


def _visible_check(check: ServiceCheck | None, user: User) -> ServiceCheck:
    if check is None:
        raise PageError(404, "not_found")
    if user.clients is not None and (check.client is None or not user.can_see(check.client)):
        raise PageError(404, "not_found")
    return check


@router.get("/checks/{check_id}")
def check_page(request: Request, check_id: int, user: CurrentUser) -> Response:
    service = service_of(request)
    check = _visible_check(service.checks.get(check_id), user)
    client = None
    if check.client is not None:
        client = next(
            (c for c in _inputs(service).inventory.clients if c.name == check.client), None
        )
    return page(
        request,
        "check.html.j2",
        check=check,
        client=client,
        pending=check.state in ("queued", "running"),
        cfmt=_formats(request, client),
    )


# -- waivers --------------------------------------------------------------------------------


@router.get("/waivers")
def waivers_page(request: Request, user: CurrentUser) -> Response:
    service = service_of(request)
    inputs = _inputs(service)
    rows = views.waiver_rows(
        inputs.waivers,
        inputs.inventory,
        user,
        default_zone=service.config.timezone,
        warn_days=service.config.notifications.waiver_warning_days,
    )
    return page(
        request,
        "waivers.html.j2",
        rows=rows,
        warn_days=service.config.notifications.waiver_warning_days,
    )


# -- evidence export ------------------------------------------------------------------------


def _export_client(request: Request, name: str, user: User) -> Client:
    client = views.visible_client(_inputs(service_of(request)).inventory, user, name)
    if not may_export(user):
        raise PageError(403, "forbidden")
    return client


@router.get("/clients/{name}/export")
def export_form(request: Request, name: str, user: CurrentUser) -> Response:
    client = _export_client(request, name, user)
    today = datetime.now(UTC).astimezone(zone(client.timezone)).date()
    start, end = views.period_default(today)
    return page(
        request, "export.html.j2", client=client, start=start, end=end, error=None, status=200
    )


def _day(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PageError(400, "bad_request") from None


@router.post("/clients/{name}/export")
def export(
    request: Request,
    name: str,
    user: CurrentUser,
    csrf: Csrf = "",
    start: Annotated[str, Form(alias="from")] = "",
    end: Annotated[str, Form(alias="to")] = "",
) -> Response:
    from baluarte.service.web.export import export_zip
    from baluarte.store._chain import BrokenChain

    require_csrf(request, csrf)
    client = _export_client(request, name, user)
    service = service_of(request)
    first, last = _day(start), _day(end)

    def refused(error: str, status: int) -> Response:
        return page(
            request, "export.html.j2", client=client, start=first, end=last, error=error,
            status=status,
        )  # fmt: skip

    if first is not None and last is not None and first > last:
        return refused("period", 400)
    folder = Path(tempfile.mkdtemp(prefix="baluarte-export-"))
    try:
        pack = export_zip(
            service.config.db_location,
            name,
            start=first,
            end=last,
            lang=language(request),
            operator=user.name,
            artifacts=service.config.artifacts_path,
            folder=folder,
        )
    except BrokenChain:
        shutil.rmtree(folder, ignore_errors=True)
        return refused("chain", 409)
    except InputError:  # the signing key is missing or cannot be opened
        shutil.rmtree(folder, ignore_errors=True)
        return refused("key", 503)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    audit.record(
        service.db,
        "export",
        user=user.name,
        client=name,
        address=client_address(request),
        detail={
            "from": first.isoformat() if first else None,
            "to": last.isoformat() if last else None,
            "runs": len(pack.runs),
            "fingerprint": pack.fingerprint,
        },
    )
    return FileResponse(
        pack.path,
        media_type="application/zip",
        filename=pack.path.name,
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


# -- accounts and the audit log (admins) -----------------------------------------------------


def _admin(user: User) -> User:
    if not user.is_admin:
        raise PageError(403, "forbidden")
    return user


def _users_page(
    request: Request, *, error: str | None = None, status: int = 200, done: str | None = None
) -> Response:
    service = service_of(request)
    return page(
        request,
        "users.html.j2",
        status=status,
        users=accounts.list_users(service.db),
        roles=ROLES,
        min_password=accounts.MIN_PASSWORD_LENGTH,
        clients=[c.name for c in _inputs(service).inventory.clients],
        error=error,
        done=done,
    )


@router.get("/users")
def users_page(request: Request, user: CurrentUser) -> Response:
    _admin(user)
    return _users_page(request, done=request.query_params.get("done"))


@router.post("/users")
def add_user(
    request: Request,
    user: CurrentUser,
    csrf: Csrf = "",
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
    clients: Annotated[list[str] | None, Form()] = None,
) -> Response:
    require_csrf(request, csrf)
    _admin(user)
    service = service_of(request)
    known = {c.name for c in _inputs(service).inventory.clients}
    chosen = [c for c in clients or [] if c]
    error = None
    try:
        accounts.check_name(name)
    except InputError:
        error = "bad_name"
    if error is None and role not in ROLES:
        error = "bad_role"
    elif error is None and len(password) < accounts.MIN_PASSWORD_LENGTH:
        error = "short_password"
    elif error is None and password != confirm:
        error = "mismatch"
    elif error is None and role == "auditor" and not chosen:
        error = "auditor_clients"
    elif error is None and role != "auditor" and chosen:
        error = "staff_clients"
    elif error is None and not set(chosen) <= known:
        error = "bad_request"
    if error is None:
        try:
            accounts.add_user(
                service.db, name, role, password, clients=chosen or None, by=user.name
            )
        except InputError as exc:
            error = "duplicate" if exc.code == "duplicate_name" else "bad_request"
    if error is not None:
        return _users_page(request, error=error, status=400)
    return RedirectResponse("/users?done=added", status_code=303)


@router.post("/users/{name}/remove")
def remove_user(request: Request, name: str, user: CurrentUser, csrf: Csrf = "") -> Response:
    require_csrf(request, csrf)
    _admin(user)
    if name == user.name:
        return _users_page(request, error="self", status=400)
    try:
        accounts.remove_user(service_of(request).db, name, by=user.name)
    except InputError:
        raise PageError(404, "not_found") from None
    return RedirectResponse("/users?done=removed", status_code=303)


@router.get("/audit")
def audit_page(request: Request, user: CurrentUser) -> Response:
    _admin(user)
    entries = audit.recent(service_of(request).db, limit=200)
    return page(request, "audit.html.j2", entries=entries)


# -- anything else --------------------------------------------------------------------------


@router.get("/{path:path}")
def not_found(request: Request, path: str) -> Response:
    """An address no page has: the dashboard's "not found" page (the API's stay JSON)."""
    if path == "api" or path.startswith("api/"):
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    raise PageError(404, "not_found")
