"""The ASGI application: dashboard pages, the JSON API, /healthz and /metrics on one FastAPI app.

Pages are server-rendered (Jinja2) and signed-cookie sessions carry the login; the API takes
bearer tokens. Only the API is described in the OpenAPI document (``/api/v1/openapi.json``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles

from baluarte.secrets import resolve
from baluarte.service.context import Service

__all__ = ["SESSION_COOKIE", "STATIC", "create_app", "session_key"]

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "baluarte_session"
SESSION_HOURS = 8


def session_key(service: Service) -> str:
    """The key that signs session cookies: the configured secret, else a random key kept in
    ``$XDG_STATE_HOME/baluarte/session.key`` (0600), so logins survive a restart."""
    if service.config.session_secret is not None:
        return resolve(service.config.session_secret)
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    path = state / "baluarte" / "session.key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def create_app(service: Service, *, secure_cookies: bool = True) -> FastAPI:
    """The application for ``service``. ``secure_cookies``: session cookies only over HTTPS
    (browsers also send them to http://localhost and 127.0.0.1)."""
    from baluarte.service import api
    from baluarte.service.web import collectors, pages

    app = FastAPI(
        title="Baluarte",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_key(service),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api.router)
    app.include_router(collectors.router)  # before the pages' catch-all "not found"
    app.include_router(pages.router)
    return app
