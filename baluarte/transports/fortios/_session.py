"""Who the client is to the unit: a token, or a session from a login (reference §1.2).

A ``Session`` knows which headers each request carries and how to log in, out and back in.
Order of login for a username and password: ``POST /api/v2/authentication`` (6.4.2+, the only
one that works from 7.6.3) with ``request_key`` → the ``session_key`` is used as Bearer, or,
without one, the session cookies plus the ``ccsrf_token*`` cookie as ``X-CSRFTOKEN``; when that
path is unknown (404/405), the legacy ``/logincheck`` form with its ``ccsrftoken*`` cookie.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from baluarte.errors import DeviceError
from baluarte.transports.fortios._answers import (
    FortiOSAuthError,
    FortiOSBadAnswer,
    FortiOSError,
    reason_for,
)

__all__ = ["Send", "Session", "SessionAuth", "TokenAuth"]

AUTH_PATH = "/api/v2/authentication"

# /api/v2/authentication status_code → why the login did not finish (pyFGT's table)
_LOGIN_REFUSALS: dict[int, str] = {
    -2: "the pre-login disclaimer must be accepted",
    -1: "wrong username or password",
    0: "wrong username or password",
    2: "the admin needs a two-factor token code",
    3: "the post-login disclaimer must be accepted",
    4: "the admin must change the password first",
}
# /logincheck: the answer's first character
_LOGINCHECK_REFUSALS: dict[str, str] = {
    "0": "wrong username or password",
    "2": "the admin account is locked out",
    "3": "the admin needs a two-factor token code",
    "4": "the admin must change the password first",
}


@dataclass(frozen=True)
class TokenAuth:
    """A REST API admin's token, sent as ``Authorization: Bearer`` (never in the URL)."""

    token: str = field(repr=False)


@dataclass(frozen=True)
class SessionAuth:
    """An administrator's username and password for a session login."""

    username: str
    password: str = field(repr=False)


class Send(Protocol):
    """The client's one-attempt request function (counts the request, maps transport errors)."""

    def __call__(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        authorized: bool = True,
        write: bool = False,
    ) -> Awaitable[httpx.Response]: ...


class Session:
    def __init__(self, auth: TokenAuth | SessionAuth) -> None:
        self.auth = auth
        self.kind: Literal["token", "session_key", "cookie", "logincheck", "none"] = "none"
        self.generation = 0  # bumped on every login, so concurrent 401s renew only once
        self._bearer: str | None = None
        self._csrf: str | None = None
        self._lock = asyncio.Lock()

    @property
    def uses_token(self) -> bool:
        return isinstance(self.auth, TokenAuth)

    def __repr__(self) -> str:
        who = "token" if isinstance(self.auth, TokenAuth) else f"session {self.auth.username}"
        return f"Session({who}, {self.kind})"

    def headers(self, *, write: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self._bearer:
            headers["Authorization"] = f"Bearer {self._bearer}"
        if write and self._csrf:  # FortiOS wants it on every POST/PUT/DELETE of a session
            headers["X-CSRFTOKEN"] = self._csrf
        return headers

    async def login(self, send: Send, cookies: httpx.Cookies) -> None:
        """Establish who we are; raises FortiOSAuthError when the unit refuses."""
        if isinstance(self.auth, TokenAuth):
            self.kind, self._bearer = "token", self.auth.token
            return
        self.forget(cookies)
        auth = self.auth
        body = {
            "username": auth.username,
            "secretkey": auth.password,
            "ack_pre_disclaimer": True,
            "ack_post_disclaimer": True,
            "request_key": True,
        }
        resp = await send("POST", AUTH_PATH, json_body=body, authorized=False)
        if resp.status_code in (404, 405):  # before 6.4.2: only the legacy form login
            await self._logincheck(send, cookies, auth)
            return
        _refuse(resp, AUTH_PATH)
        try:
            answer = resp.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise FortiOSBadAnswer(
                f"{resp.status_code} but the login answer is not JSON",
                method="POST",
                path=AUTH_PATH,
                http_status=resp.status_code,
            )
        code = answer.get("status_code")
        if code != 5 and "LOGIN_SUCCESS" not in str(answer.get("status_message", "")):
            known = _LOGIN_REFUSALS.get(code) if isinstance(code, int) else None
            why = known or f"login not accepted (status {code})"
            raise FortiOSAuthError(f"login refused: {why}", method="POST", path=AUTH_PATH)
        key = answer.get("session_key")
        if isinstance(key, str) and key:
            self.kind, self._bearer = "session_key", key
        else:  # newer builds: session_key_<port>_<hash> and ccsrf_token_<port>_<hash> cookies
            self.kind, self._csrf = "cookie", _csrf_cookie(cookies, "ccsrf_token", "ccsrftoken")
        self.generation += 1

    async def _logincheck(self, send: Send, cookies: httpx.Cookies, auth: SessionAuth) -> None:
        form = {"username": auth.username, "secretkey": auth.password, "ajax": "1"}
        resp = await send("POST", "/logincheck", form=form, authorized=False)
        _refuse(resp, "/logincheck")
        first = resp.text[:1]
        if first != "1":
            why = _LOGINCHECK_REFUSALS.get(first, "the unit's answer is not a login result")
            raise FortiOSAuthError(f"login refused: {why}", method="POST", path="/logincheck")
        # ccsrftoken (≤ 7.0.13), ccsrftoken_<port>, ccsrftoken_<port>_<hash> (later builds)
        self.kind, self._csrf = "logincheck", _csrf_cookie(cookies, "ccsrftoken")
        self.generation += 1

    async def renew(
        self, generation: int, send: Send, cookies: httpx.Cookies, method: str, path: str
    ) -> None:
        """Log in again after a 401, unless another request already did since ``generation``."""
        async with self._lock:
            if generation != self.generation:
                return
            try:
                await self.login(send, cookies)
            except FortiOSAuthError as exc:
                raise FortiOSAuthError(
                    f"session expired and could not be renewed ({exc.reason})",
                    method=method,
                    path=path,
                    http_status=401,
                ) from exc

    async def logout(self, send: Send, cookies: httpx.Cookies) -> None:
        """End a session login (best effort: the unit expires it anyway)."""
        if self.kind in ("token", "none"):
            return
        with suppress(DeviceError):
            if self.kind == "logincheck":
                await send("POST", "/logout", write=True)
            else:
                await send("DELETE", AUTH_PATH, write=True)
        self.forget(cookies)

    def forget(self, cookies: httpx.Cookies) -> None:
        self._bearer = self._csrf = None
        self.kind = "none"
        cookies.clear()


def _refuse(resp: httpx.Response, path: str) -> None:
    """Raise for a login answer that is not a 2xx."""
    status = resp.status_code
    if status == 429:  # a lockout: trying again only prolongs it
        raise FortiOSAuthError(
            "login refused: 429 Too Many Requests — the unit blocks this address after too many"
            " failed logins; wait before trying again",
            method="POST",
            path=path,
            http_status=429,
        )
    if status in (401, 403):
        raise FortiOSAuthError(
            f"login refused: {status} — wrong username or password",
            method="POST",
            path=path,
            http_status=status,
        )
    if not resp.is_success:
        raise FortiOSError(
            reason_for(status, None, method="POST", token=False),
            method="POST",
            path=path,
            http_status=status,
        )


def _csrf_cookie(cookies: httpx.Cookies, *prefixes: str) -> str | None:
    for cookie in cookies.jar:
        if cookie.name.startswith(prefixes) and cookie.value:
            return cookie.value.strip('"')  # FortiOS double-quotes the value
    return None
