"""Who is calling: API tokens, session logins, CSRF, trusted hosts and login lockout.

Auth flows (reference §1.2 and §5.2 "Auth flows"):

* ``Authorization: Bearer <token>``: the token must be known and, when bound to a
  ``system/api-user`` row, the caller's address must fall in one of its ``ipv4-trusthost``
  entries (none listed: any) — otherwise 401 with ``www-authenticate: error="invalid_token"``.
  ``?access_token=`` works the same on the 6.4 profile; on 7.4/7.6 only with
  ``rest-api-key-url-query enable`` in ``system/global``.
* ``POST /logincheck`` (form ``username``/``secretkey``): body ``1…`` and cookies
  ``APSCOOKIE_<n>`` + a quoted CSRF cookie (``ccsrftoken`` on 6.4, ``ccsrftoken_<port>_<hash>``
  on 7.4); on 7.6 the body still starts with ``1`` but no cookie is set. ``0`` on failure.
  With ``post-login-banner enable`` the session is refused (401) until ``POST /logindisclaimer``
  with ``confirm=1``. ``GET|POST /logout`` ends it.
* ``POST /api/v2/authentication`` (JSON ``username``, ``secretkey``, ``ack_pre_disclaimer``,
  ``ack_post_disclaimer``, ``request_key``): ``{"status_code": 5, "status_message":
  "LOGIN_SUCCESS"}`` plus a ``session_key`` usable as a Bearer token (``request_key``), or the
  cookies ``session_key_<port>_<hash>`` + ``ccsrf_token_<port>_<hash>``. Wrong credentials:
  200 with ``status_code`` -1 ``LOGIN_FAILED``. ``PUT`` refreshes, ``DELETE`` logs out.
* Cookie sessions must send ``X-CSRFTOKEN`` on POST/PUT/DELETE, else 403 (HTML).
* Sessions idle longer than ``session_ttl`` seconds answer 401. ``login_lockout`` failed logins
  from one address block logins from it (429) for ``lockout_seconds``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from baluarte.lab.fortigate.profiles import Profile
from baluarte.lab.fortigate.state import LabState
from baluarte.lab.fortigate.wire import Reply, Request, html_reply, json_reply, text_reply

__all__ = ["INTERNAL_TOKEN_USER", "Auth", "Principal", "Session"]

INTERNAL_TOKEN_USER = "api-admin"  # how a token bound to no api-user row is named
_INVALID_TOKEN = [("WWW-Authenticate", 'error="invalid_token"')]
_LOGIN_OK = '1document.location="/ng/prompt?viewOnly&redir=%2Fng%2F";\n'
_LOGIN_BANNER = '1document.location="/logindisclaimer?viewOnly&redir=%2Fng%2F";\n'
_BLOCKED = "Access temporarily blocked: maximum failed authentications reached"


@dataclass
class Session:
    id: str
    user: str
    peer: str
    csrf: str | None  # None: the session key is used as a Bearer token (no CSRF needed)
    started: float = field(default_factory=time.time)
    last_seen: float = 0.0
    disclaimer_pending: bool = False


@dataclass(frozen=True)
class Principal:
    kind: Literal["token", "session"]
    name: str  # api-user or admin name
    accprofile: str | None  # None: full access
    key: str  # stable per token or session: transactions are kept per principal
    vdoms: frozenset[str] | None  # None: every VDOM
    session: Session | None = None


class Auth:
    """Tokens, sessions and failed-login counts of one emulated unit."""

    def __init__(
        self,
        state: LabState,
        profile: Profile,
        *,
        tokens: Mapping[str, str | None],
        admins: Mapping[str, str],
        session_ttl: float,
        login_lockout: int,
        lockout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state = state
        self.profile = profile
        self.tokens: dict[str, str | None] = dict(tokens)
        self.admins = dict(admins)
        self.session_ttl = session_ttl
        self.login_lockout = login_lockout
        self.lockout_seconds = lockout_seconds
        self.clock = clock
        self.port = 0
        self._sessions: dict[str, Session] = {}
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self._hash = hashlib.sha1(state.serial.encode(), usedforsecurity=False).hexdigest()[:7]
        self.aps_cookie = f"APSCOOKIE_{zlib.crc32(state.serial.encode()) % 10**10}"

    # -- names that depend on the port -----------------------------------------------------------

    @property
    def csrf_cookie(self) -> str | None:
        kind = self.profile.logincheck_csrf
        if kind == "plain":
            return "ccsrftoken"
        return f"ccsrftoken_{self.port}_{self._hash}" if kind == "port-hash" else None

    @property
    def key_cookie(self) -> str:
        return f"session_key_{self.port}_{self._hash}"

    @property
    def api_csrf_cookie(self) -> str:
        return f"ccsrf_token_{self.port}_{self._hash}"

    def secrets(self) -> list[str]:
        """Every live secret value, for masking the request log."""
        with self._lock:
            values = [*self.tokens, *self.admins.values()]
            for session in self._sessions.values():
                values.append(session.id)
                if session.csrf:
                    values.append(session.csrf)
        return [value for value in values if value]

    def sessions(self) -> list[Session]:
        with self._lock:
            return list(self._sessions.values())

    # -- authenticating API calls ---------------------------------------------------------------

    def authenticate(self, req: Request) -> Principal | Reply:
        header = req.header("authorization") or ""
        if header.lower().startswith("bearer "):
            return self._bearer(header[7:].strip(), req.peer)
        query_token = req.param("access_token")
        if query_token is not None:
            if not self._query_token_allowed():
                return html_reply(401, "Unauthorized", _INVALID_TOKEN)
            return self._bearer(query_token, req.peer)
        cookies = req.cookies
        sid = cookies.get(self.aps_cookie) or cookies.get(self.key_cookie)
        if sid:
            return self._from_session(sid)
        return html_reply(401, "Unauthorized")

    def check_csrf(self, req: Request, who: Principal) -> Reply | None:
        """Cookie sessions must echo their CSRF token on writes (403 otherwise)."""
        session = who.session
        if session is None or session.csrf is None or req.method in ("GET", "HEAD"):
            return None
        sent = req.header("x-csrftoken") or ""
        if hmac.compare_digest(sent.strip('"'), session.csrf):
            return None
        return html_reply(403, "Forbidden: missing or wrong CSRF token")

    def _query_token_allowed(self) -> bool:
        settings = self.state.cmdb.global_.get("system/global")
        flag = settings.get("rest-api-key-url-query") if isinstance(settings, dict) else None
        return self.profile.query_token_default or flag == "enable"

    def _bearer(self, token: str, peer: str) -> Principal | Reply:
        with self._lock:
            known = token in self.tokens
            user = self.tokens.get(token)
            session = self._sessions.get(token)
        if session is not None and session.csrf is None:
            return self._from_session(token)
        if not known:
            return html_reply(401, "Unauthorized", _INVALID_TOKEN)
        key = "token:" + hashlib.sha256(token.encode()).hexdigest()[:16]
        if user is None:
            return Principal("token", INTERNAL_TOKEN_USER, None, key, None)
        row = _row(self.state, "system/api-user", user)
        if row is None or not _trusted(row.get("trusthost"), peer):
            return html_reply(401, "Unauthorized", _INVALID_TOKEN)
        return Principal("token", user, _profile(row), key, _vdoms(row))

    def _from_session(self, sid: str) -> Principal | Reply:
        with self._lock:
            session = self._sessions.get(sid)
            now = self.clock()
            if session is not None and now - session.last_seen > self.session_ttl:
                del self._sessions[sid]
                session = None
            if session is None or session.disclaimer_pending:
                return html_reply(401, "Unauthorized")
            session.last_seen = now
        row = _row(self.state, "system/admin", session.user)
        profile = _profile(row) if row is not None else None
        vdoms = _vdoms(row) if row is not None else None
        return Principal("session", session.user, profile, "session:" + sid, vdoms, session)

    # -- logins ---------------------------------------------------------------------------------

    def _login(self, username: str, password: str, peer: str) -> bool | None:
        """True: good; False: wrong (counted); None: this address is locked out."""
        with self._lock:
            now = self.clock()
            if self._locked_until.get(peer, 0.0) > now:
                return None
            expected = self.admins.get(username)
            good = expected is not None and hmac.compare_digest(expected, password)
            row = _row(self.state, "system/admin", username)
            if good and row is not None and not _admin_trusted(row, peer):
                good = False
            if good:
                self._failures.pop(peer, None)
                return True
            self._failures[peer] = self._failures.get(peer, 0) + 1
            if self._failures[peer] >= self.login_lockout:
                self._locked_until[peer] = now + self.lockout_seconds
                self._failures[peer] = 0
            return False

    def _new_session(self, user: str, peer: str, *, csrf: bool, pending: bool = False) -> Session:
        session = Session(
            id=secrets.token_urlsafe(24),
            user=user,
            peer=peer,
            csrf=secrets.token_hex(16) if csrf else None,
            last_seen=self.clock(),
            disclaimer_pending=pending,
        )
        with self._lock:
            self._sessions[session.id] = session
        return session

    def logincheck(self, req: Request) -> Reply:
        if req.method != "POST":
            return html_reply(405)
        form = req.form()
        outcome = self._login(form.get("username", ""), form.get("secretkey", ""), req.peer)
        if outcome is None:
            return text_reply(_BLOCKED, 429)
        if not outcome:
            return text_reply("0")
        if self.csrf_cookie is None:
            # 7.6.3+: still "1", but no usable session cookie (reference §1.2)
            return text_reply(_LOGIN_OK)
        banner = _global(self.state, "post-login-banner") == "enable"
        session = self._new_session(form["username"], req.peer, csrf=True, pending=banner)
        reply = text_reply(_LOGIN_BANNER if banner else _LOGIN_OK)
        reply.headers += [
            ("Set-Cookie", f'{self.aps_cookie}="{session.id}"; Path=/; Secure; HttpOnly'),
            ("Set-Cookie", f'{self.csrf_cookie}="{session.csrf}"; Path=/; Secure'),
        ]
        return reply

    def logindisclaimer(self, req: Request) -> Reply:
        sid = req.cookies.get(self.aps_cookie, "")
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return html_reply(401, "Unauthorized")
            if req.form().get("confirm") == "1":
                session.disclaimer_pending = False
                return text_reply(_LOGIN_OK)
            del self._sessions[sid]
        return text_reply("0")

    def logout(self, req: Request) -> Reply:
        header = req.header("authorization") or ""
        cookies = req.cookies
        for sid in (
            cookies.get(self.aps_cookie),
            cookies.get(self.key_cookie),
            header[7:].strip() if header.lower().startswith("bearer ") else None,
        ):
            with self._lock:
                if sid and sid in self._sessions:
                    del self._sessions[sid]
        reply = text_reply("")
        for name in (self.aps_cookie, self.csrf_cookie, self.key_cookie, self.api_csrf_cookie):
            if name:
                reply.headers.append(("Set-Cookie", f'{name}=""; Path=/; Max-Age=0; Secure'))
        return reply

    def authentication(self, req: Request) -> Reply:
        """``/api/v2/authentication``: POST logs in, PUT refreshes, DELETE logs out."""
        if req.method == "POST":
            return self._api_login(req)
        if req.method not in ("PUT", "DELETE"):
            return html_reply(405)
        who = self.authenticate(req)
        if isinstance(who, Reply):
            return who
        if who.session is None:
            return json_reply({"status": "error", "http_status": 400}, 400)
        if req.method == "DELETE":
            with self._lock:
                self._sessions.pop(who.session.id, None)
            return json_reply({"status": "success", "http_status": 200})
        return json_reply(
            {"status": "success", "http_status": 200, "session_key_timeout": self._ttl_minutes()}
        )

    def _api_login(self, req: Request) -> Reply:
        try:
            body = req.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return json_reply({"status": "error", "http_status": 400}, 400)
        user = str(body.get("username", ""))
        password = str(body.get("secretkey", body.get("password", "")))
        pre_banner = _global(self.state, "pre-login-banner") == "enable"
        if pre_banner and not body.get("ack_pre_disclaimer"):
            return json_reply(
                {"status_code": -2, "status_message": "LOGIN_ACCEPT_PRE_LOGIN_DISCLAIMER"}
            )
        outcome = self._login(user, password, req.peer)
        if outcome is None:
            return json_reply({"status": "error", "http_status": 429, "message": _BLOCKED}, 429)
        if not outcome:
            return json_reply({"status_code": -1, "status_message": "LOGIN_FAILED"})
        post_banner = _global(self.state, "post-login-banner") == "enable"
        if post_banner and not body.get("ack_post_disclaimer"):
            return json_reply(
                {"status_code": 3, "status_message": "LOGIN_ACCEPT_POST_LOGIN_DISCLAIMER"}
            )
        answer: dict[str, Any] = {"status_code": 5, "status_message": "LOGIN_SUCCESS"}
        if body.get("request_key"):
            session = self._new_session(user, req.peer, csrf=False)
            answer.update(session_key=session.id, session_key_timeout=self._ttl_minutes())
            return json_reply(answer)
        session = self._new_session(user, req.peer, csrf=True)
        cookies = [
            ("Set-Cookie", f'{self.key_cookie}="{session.id}"; Path=/; Secure; HttpOnly'),
            ("Set-Cookie", f'{self.api_csrf_cookie}="{session.csrf}"; Path=/; Secure'),
        ]
        return json_reply(answer, headers=cookies)

    def _ttl_minutes(self) -> str:
        return str(max(1, round(self.session_ttl / 60)))


def _row(state: LabState, path: str, name: str) -> dict[str, Any] | None:
    rows = state.cmdb.global_.get(path)
    for row in rows if isinstance(rows, list) else []:
        if row.get("name") == name:
            return dict(row)
    return None


def _global(state: LabState, key: str) -> Any:
    settings = state.cmdb.global_.get("system/global")
    return settings.get(key) if isinstance(settings, dict) else None


def _profile(row: Mapping[str, Any]) -> str | None:
    name = row.get("accprofile")
    return str(name) if name else None


def _vdoms(row: Mapping[str, Any]) -> frozenset[str] | None:
    names = [m.get("name") for m in row.get("vdom") or [] if isinstance(m, Mapping)]
    return frozenset(str(n) for n in names if n) or None


def _address(peer: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _in(peer: str, network: str) -> bool:
    address = _address(peer)
    try:
        net = ipaddress.ip_network(network.strip().replace(" ", "/"), strict=False)
    except ValueError:
        return False
    return address is not None and address.version == net.version and address in net


def _trusted(entries: Any, peer: str) -> bool:
    """An api-user's trusthost list: empty means anywhere."""
    nets = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping):
            continue
        kind = str(entry.get("type", "ipv4-trusthost"))
        value = entry.get(kind) or entry.get("ipv4-trusthost") or entry.get("ipv6-trusthost")
        if value:
            nets.append(str(value))
    return not nets or any(_in(peer, net) for net in nets)


def _admin_trusted(row: Mapping[str, Any], peer: str) -> bool:
    """An admin's trusthost1..10 / ip6-trusthost1..10: all at their 'anywhere' default = any."""
    nets = [str(row[key]) for key in row if key.startswith(("trusthost", "ip6-trusthost"))]
    nets = [net for net in nets if net not in ("0.0.0.0 0.0.0.0", "::/0", "")]
    return not nets or any(_in(peer, net) for net in nets)
