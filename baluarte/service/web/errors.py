"""Refusals a page raises, shown as pages of the dashboard (not the API's JSON).

``PageRoute`` is the pages router's route class: it turns ``PageError`` (and a request the
route cannot read) into an HTML page with its status, and ``LoginRequired`` into a redirect to
the login form, for the dashboard's routes only (the API keeps FastAPI's JSON errors).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

__all__ = ["LoginRequired", "PageError", "PageRoute"]


class PageError(Exception):
    """A page that cannot be shown: ``status`` and a ``code`` the error page words.

    Codes: ``not_found``, ``forbidden``, ``csrf``, ``bad_request``."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired as exc:
                target = "/login" if exc.next_path == "/" else f"/login?next={quote(exc.next_path)}"
                return RedirectResponse(target, status_code=303)
            except PageError as exc:
                from baluarte.service.web.render import error_page

                return await error_page(request, exc)
            except RequestValidationError:  # /runs/abc, a form missing its fields
                from baluarte.service.web.render import error_page

                return await error_page(request, PageError(400, "bad_request"))

        return route
