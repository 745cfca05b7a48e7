"""Who is asking: the signed-cookie session, its CSRF token, the page language.

The session holds only the account's name, a CSRF token and the chosen language. The account
is read again on every request, so an account removed (or an auditor's clients changed) takes
effect at the next page, not at the session's expiry.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

from fastapi import Request

from baluarte.evidence.data import Lang
from baluarte.service import accounts
from baluarte.service.accounts import User
from baluarte.service.web.errors import LoginRequired, PageError

if TYPE_CHECKING:
    from baluarte.service.context import Service

__all__ = [
    "CSRF_FIELD",
    "LANGS",
    "client_address",
    "csrf_token",
    "current_user",
    "language",
    "log_in",
    "log_out",
    "require_csrf",
    "require_user",
    "safe_next",
    "service_of",
    "set_language",
]

CSRF_FIELD = "csrf_token"
LANGS: tuple[Lang, ...] = ("es", "en")
_USER, _CSRF, _LANG = "user", "csrf", "lang"


def service_of(request: Request) -> Service:
    return cast("Service", request.app.state.service)


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (anonymous sessions get one too: the login
    form carries it, so no other site can log a browser in to an account of its choosing)."""
    token = request.session.get(_CSRF)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[_CSRF] = token
    return token


def require_csrf(request: Request, given: str | None) -> None:
    """PageError 403 unless ``given`` is this session's token."""
    expected = request.session.get(_CSRF)
    if (
        not isinstance(expected, str)
        or not given
        or not secrets.compare_digest(expected.encode(), given.encode())
    ):
        raise PageError(403, "csrf")


def language(request: Request) -> Lang:
    """``?lang=`` (kept in the session), else the session's choice, else the configured one."""
    asked = _lang(request.query_params.get("lang"))
    if asked is not None:
        request.session[_LANG] = asked
        return asked
    return _lang(request.session.get(_LANG)) or service_of(request).config.language


def _lang(value: object) -> Lang | None:
    return "es" if value == "es" else "en" if value == "en" else None


def set_language(request: Request, lang: str) -> None:
    if lang in LANGS:
        request.session[_LANG] = lang


def current_user(request: Request) -> User | None:
    """The signed-in account as the store has it now; a session whose account is gone (removed
    or disabled) is ended here."""
    cached = getattr(request.state, "user", None)
    if isinstance(cached, User):
        return cached
    name = request.session.get(_USER)
    if not isinstance(name, str):
        return None
    user = accounts.get_user(service_of(request).db, name)
    if user is None:
        _end(request)
        return None
    request.state.user = user
    return user


def require_user(request: Request) -> User:
    """The signed-in account, or LoginRequired (a redirect to the login page)."""
    user = current_user(request)
    if user is None:
        raise LoginRequired(safe_next(request.url.path))
    return user


def log_in(request: Request, user: User) -> None:
    """A fresh session for ``user``: the token an anonymous visitor held is not carried over."""
    lang = request.session.get(_LANG)
    request.session.clear()
    request.session[_USER] = user.name
    request.session[_CSRF] = secrets.token_urlsafe(32)
    if lang in LANGS:
        request.session[_LANG] = lang
    request.state.user = user


def log_out(request: Request) -> None:
    _end(request)


def _end(request: Request) -> None:
    lang = request.session.get(_LANG)
    request.session.clear()
    if lang in LANGS:
        request.session[_LANG] = lang
    request.state.user = None


def safe_next(target: str | None) -> str:
    """A path on this site to go back to after a form, never another site's address."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(ch) < 0x20 for ch in target):
        return "/"
    return target
