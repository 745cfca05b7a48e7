"""Pages rendered from the Jinja2 templates, in the reader's language.

Autoescape is on for every template, and every string passes ``finalize`` (control characters
shown, not passed on): names, findings and evidence come from inventories and devices. Text of
the dashboard is in the report catalogues (``reports/locales``), under ``# service: dashboard``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from baluarte.evidence.data import Lang
from baluarte.service.web.errors import PageError
from baluarte.service.web.session import csrf_token, current_user, language, service_of
from baluarte.service.web.views import control_title, sparkline
from reports.evidence.i18n import Formats, translations
from reports.evidence.phrases import phrase
from reports.html_text import untrusted_environment

__all__ = ["TEMPLATES", "environment", "error_page", "page", "render_error"]

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@cache
def environment(lang: Lang) -> Environment:
    env = untrusted_environment(TEMPLATES)
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    gettext = translations(lang).gettext
    # text known only when the page is drawn (a control's title, a stored English phrase)
    env.filters["tr"] = lambda text: gettext(text) if text else text
    env.filters["phrase"] = lambda text: phrase(text, lang) if text else text
    env.globals["sparkline"] = sparkline
    env.globals["control_title"] = control_title
    return env


def page(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """``template`` rendered for this request: the account, language, CSRF token and the
    service's default formats are in every page's context."""
    lang = language(request)
    service = service_of(request)
    user = current_user(request)
    base = {
        "request_path": request.url.path,
        "user": user,
        "lang": lang,
        "csrf": csrf_token(request),
        "fmt": Formats(lang, service.config.timezone),
    }
    html = environment(lang).get_template(template).render(**base, **context)
    return HTMLResponse(
        html,
        status_code=status,
        # pages hold a client's findings: never kept by shared caches, never framed elsewhere
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Content-Security-Policy": (
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
            ),
        },
    )


def render_error(request: Request, error: PageError) -> HTMLResponse:
    return page(request, "error.html.j2", status=error.status, code=error.code)


async def error_page(request: Request, error: PageError) -> HTMLResponse:
    # reading the account may touch the database: off the event loop
    return await run_in_threadpool(render_error, request, error)
