"""FortiOSClient: requests to one FortiGate — reads, writes, transactions, backups."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from baluarte.errors import DeviceError, TimedOut, Unreachable
from baluarte.transports.fortios._answers import (
    ERROR_CODES,
    Dropped,
    Envelope,
    FortiOSAuthError,
    FortiOSBadAnswer,
    FortiOSError,
    TlsVerificationFailed,
    reason_for,
)
from baluarte.transports.fortios._session import Session, SessionAuth, TokenAuth
from baluarte.transports.fortios._tls import cert_failure, tls_context

__all__ = ["RETRY_STATUSES", "FortiOSClient"]

log = logging.getLogger("baluarte.transports.fortios")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class FortiOSClient:
    """One FortiGate over its REST API; ``async with`` opens the pool and logs in, then out.

    ``request_count`` counts every HTTP request sent (logins, retries and logout included).
    ``version``, ``build`` and ``serial`` come from the envelopes answered so far. Only
    idempotent calls (GETs, the backup) are retried: on 429/5xx and dropped connections, at
    most ``attempts`` times, with exponential back-off and jitter, honouring Retry-After.
    """

    def __init__(
        self,
        host: str,
        port: int = 443,
        *,
        auth: TokenAuth | SessionAuth,
        vdom: str = "root",
        tls: ssl.SSLContext | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        max_connections: int = 4,
        attempts: int = 3,
        backoff: float = 0.25,
        retry_after_cap: float = 10.0,
    ) -> None:
        name = f"[{host}]" if ":" in host and not host.startswith("[") else host
        self.url = f"https://{name}:{port}"
        self.vdom = vdom
        self._session = Session(auth)
        self._tls = tls if tls is not None else tls_context()
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._retry_after_cap = retry_after_cap
        self._http: httpx.AsyncClient | None = None
        self._transaction_id: int | None = None
        self.request_count = 0
        self.version = ""
        self.build = 0
        self.serial = ""

    def secrets(self) -> tuple[str, ...]:
        """The credentials this client sends (token or password, session key): to mask in
        whatever the unit answers."""
        auth = self._session.auth
        found = auth.token if isinstance(auth, TokenAuth) else auth.password
        return tuple(s for s in (found, self._session._bearer) if s)

    def __repr__(self) -> str:
        return f"FortiOSClient({self.url}, vdom={self.vdom}, {self._session!r})"

    # -- connection ----------------------------------------------------------------------------

    async def __aenter__(self) -> FortiOSClient:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # After a cancellation (the unit's deadline) there is no time left to say goodbye.
        if not isinstance(exc, asyncio.CancelledError):
            await self.logout()
        await self.aclose()

    async def open(self) -> None:
        """Create the keep-alive pool and log in (no request for a token)."""
        self._http = httpx.AsyncClient(
            base_url=self.url,
            verify=self._tls,
            trust_env=False,  # no proxy or CA settings from the environment
            timeout=self._timeout,
            limits=self._limits,
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )
        try:
            await self.login()
        except BaseException:
            await self.aclose()
            raise

    async def login(self) -> None:
        await self._session.login(self._send, self._pool().cookies)

    async def logout(self) -> None:
        if self._http is not None:
            await self._session.logout(self._send, self._http.cookies)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _pool(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("FortiOSClient used outside 'async with'")
        return self._http

    # -- one request ---------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        authorized: bool = True,
        write: bool = False,
    ) -> httpx.Response:
        """One attempt, counted; transport failures become Unreachable / TimedOut."""
        http = self._pool()
        headers = self._session.headers(write=write) if authorized else {}
        if write and self._transaction_id is not None:
            headers["X-TRANSACTION-ID"] = str(self._transaction_id)
        self.request_count += 1
        where = f"{method} {path}"
        try:
            resp = await http.request(
                method, path, params=params, json=json_body, data=form, headers=headers
            )
        except httpx.TimeoutException as exc:
            what = "connection" if isinstance(exc, httpx.ConnectTimeout) else "answer"
            raise TimedOut(f"no {what} from {self.url} in time [{where}]") from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise Dropped(f"the connection to {self.url} was dropped [{where}]") from exc
        except httpx.ConnectError as exc:
            bad_cert = cert_failure(exc)
            if bad_cert is not None:
                raise TlsVerificationFailed(
                    f"TLS certificate verification failed for {self.url}:"
                    f" {bad_cert.verify_message or bad_cert.reason}"
                ) from exc
            raise Unreachable(f"cannot connect to {self.url}: {_short(exc)}") from exc
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot talk to {self.url}: {_short(exc)} [{where}]") from exc
        log.debug("%s %s -> %s", method, path, resp.status_code)
        return resp

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        mkey: str | int | None = None,
        idempotent: bool = False,
    ) -> httpx.Response:
        """Send with retries (idempotent calls only) and one session renewal on a 401."""
        attempt, renewed = 0, False
        while True:
            attempt += 1
            generation = self._session.generation
            try:
                resp = await self._send(
                    method, path, params=params, json_body=json_body, write=method != "GET"
                )
            except Dropped:
                if idempotent and attempt < self._attempts:
                    await self._pause(attempt, None)
                    continue
                raise
            status = resp.status_code
            if status == 401 and not self._session.uses_token and not renewed:
                renewed = True
                await self._session.renew(
                    generation, self._send, self._pool().cookies, method, path
                )
                continue
            if status in RETRY_STATUSES and idempotent and attempt < self._attempts:
                await self._pause(attempt, resp.headers.get("retry-after"))
                continue
            if resp.is_success:
                return resp
            raise self._failure(resp, method, path, mkey, renewed)

    async def _pause(self, attempt: int, retry_after: str | None) -> None:
        delay = self._backoff * 2 ** (attempt - 1) + random.uniform(0, self._backoff)
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, float(retry_after))
        await asyncio.sleep(min(delay, self._retry_after_cap))

    def _failure(
        self, resp: httpx.Response, method: str, path: str, mkey: str | int | None, renewed: bool
    ) -> FortiOSError:
        env = self._try_envelope(resp)
        code = env.error if env is not None else None
        status = resp.status_code
        reason = reason_for(status, code, method=method, token=self._session.uses_token)
        kind: type[FortiOSError] = FortiOSError
        if status in (401, 429):
            kind = FortiOSAuthError
            if status == 401 and renewed:
                reason = "session expired and could not be renewed (401 again after a new login)"
        return kind(
            reason,
            method=method,
            path=path,
            http_status=status,
            error_code=code,
            mkey=mkey,
            cli_error=env.cli_error if env is not None else None,
        )

    def _try_envelope(self, resp: httpx.Response) -> Envelope | None:
        try:
            data = resp.json()
        except ValueError:
            return None
        if isinstance(data, list) and len(data) == 1:  # global=1 / one-VDOM list answers
            data = data[0]
        if not isinstance(data, dict):
            return None
        try:
            env = Envelope.model_validate(data)
        except ValidationError:
            return None
        if env.version:
            self.version = env.version
        if env.build is not None:
            self.build = env.build
        if env.serial:
            self.serial = env.serial
        return env

    def _envelope(
        self, resp: httpx.Response, method: str, path: str, mkey: str | int | None = None
    ) -> Envelope:
        env = self._try_envelope(resp)
        if env is None:
            kind = resp.headers.get("content-type", "no content type").split(";")[0]
            raise FortiOSBadAnswer(
                f"{resp.status_code} but the answer is not a FortiOS JSON envelope"
                f" ({kind}, {len(resp.content)} bytes)",
                method=method,
                path=path,
                http_status=resp.status_code,
                mkey=mkey,
            )
        if not env.ok:
            detail = ""
            if env.error is not None:
                detail = f": {ERROR_CODES.get(env.error, 'error')} (FortiOS error {env.error})"
            raise FortiOSError(
                f"{resp.status_code} but FortiOS reports status {env.status!r}{detail}",
                method=method,
                path=path,
                http_status=resp.status_code,
                error_code=env.error,
                mkey=mkey,
            )
        return env

    async def _json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str],
        json_body: Any = None,
        mkey: str | int | None = None,
        idempotent: bool = False,
    ) -> Envelope:
        resp = await self._call(
            method, path, params=params, json_body=json_body, mkey=mkey, idempotent=idempotent
        )
        return self._envelope(resp, method, path, mkey)

    def _scope(self, vdom: str | None, global_scope: bool) -> dict[str, str]:
        return {} if global_scope else {"vdom": vdom or self.vdom}

    # -- reads ---------------------------------------------------------------------------------

    async def get_cmdb(
        self,
        path: str,
        mkey: str | int | None = None,
        *,
        vdom: str | None = None,
        global_scope: bool = False,
        params: dict[str, str] | None = None,
    ) -> Envelope:
        """GET a cmdb table (``results`` a list), one row (a one-element list) or a singleton.

        ``global_scope``: a global object, read without ``vdom=``.
        """
        query = {**self._scope(vdom, global_scope), **(params or {})}
        url = _url("cmdb", path, mkey)
        return await self._json("GET", url, params=query, mkey=mkey, idempotent=True)

    async def get_monitor(
        self,
        path: str,
        *,
        vdom: str | None = None,
        global_scope: bool = False,
        params: dict[str, str] | None = None,
    ) -> Envelope:
        query = {**self._scope(vdom, global_scope), **(params or {})}
        return await self._json("GET", _url("monitor", path), params=query, idempotent=True)

    # -- writes --------------------------------------------------------------------------------

    async def create(self, path: str, data: dict[str, Any], *, vdom: str | None = None) -> Envelope:
        """POST a new row; the envelope's ``mkey`` names it (e.g. an assigned ``policyid``)."""
        scope = self._scope(vdom, False)
        return await self._json("POST", _url("cmdb", path), params=scope, json_body=data)

    async def update(
        self,
        path: str,
        mkey: str | int | None,
        data: dict[str, Any],
        *,
        vdom: str | None = None,
        global_scope: bool = False,
    ) -> Envelope:
        """PUT one row (``mkey``) or a singleton (``mkey=None``); member lists replace whole.

        ``global_scope``: a global object (``system/*``), written without ``vdom=``.
        """
        if mkey is not None:
            _require_mkey(mkey)
        url = _url("cmdb", path, mkey)
        scope = self._scope(vdom, global_scope)
        return await self._json("PUT", url, params=scope, json_body=data, mkey=mkey)

    async def delete(self, path: str, mkey: str | int, *, vdom: str | None = None) -> Envelope:
        _require_mkey(mkey)  # a DELETE on a table root would empty the table
        url = _url("cmdb", path, mkey)
        return await self._json("DELETE", url, params=self._scope(vdom, False), mkey=mkey)

    async def move(
        self,
        path: str,
        mkey: str | int,
        *,
        before: str | int | None = None,
        after: str | int | None = None,
        vdom: str | None = None,
    ) -> Envelope:
        """Reorder a row (policies): exactly one of ``before`` / ``after``."""
        _require_mkey(mkey)
        if (before is None) == (after is None):
            raise ValueError("move needs exactly one of before= or after=")
        where = {"before": str(before)} if before is not None else {"after": str(after)}
        params = {**self._scope(vdom, False), "action": "move", **where}
        return await self._json("PUT", _url("cmdb", path, mkey), params=params, mkey=mkey)

    @asynccontextmanager
    async def transaction(
        self, *, timeout: int = 60, vdom: str | None = None
    ) -> AsyncIterator[int]:
        """A batch transaction: the writes inside apply together on exit, or abort on error."""
        if self._transaction_id is not None:
            raise RuntimeError("a FortiOS transaction is already open on this client")
        scope = self._scope(vdom, False)
        start = await self._json(
            "POST",
            "/api/v2/cmdb",
            params={**scope, "action": "transaction-start"},
            json_body={"timeout": timeout},
        )
        results = start.results if isinstance(start.results, dict) else {}
        tid = results.get("transaction-id")
        if not isinstance(tid, int):
            raise FortiOSBadAnswer(
                "transaction-start answered no transaction-id",
                method="POST",
                path="/api/v2/cmdb",
                http_status=start.http_status,
            )
        self._transaction_id = tid
        try:
            yield tid
        except BaseException:
            with suppress(DeviceError):
                await self._finish("transaction-abort", tid, scope)
            raise
        else:
            await self._finish("transaction-commit", tid, scope)
        finally:
            self._transaction_id = None

    async def _finish(self, action: str, tid: int, scope: dict[str, str]) -> None:
        params = {**scope, "action": action}
        body = {"transaction_id": tid}
        await self._json("POST", "/api/v2/cmdb", params=params, json_body=body)

    async def backup_config(self, scope: Literal["global", "vdom"] = "global") -> bytes:
        """The unit's configuration file: POST on 7.x, GET on 6.x, the other verb on a 405."""
        path = "/api/v2/monitor/system/config/backup"
        params = {"scope": scope, **({"vdom": self.vdom} if scope == "vdom" else {})}
        verbs = ("GET", "POST") if self.version.startswith("v6.") else ("POST", "GET")
        try:
            resp = await self._backup(verbs[0], path, params, scope)
        except FortiOSError as exc:
            if exc.http_status != 405:
                raise
            resp = await self._backup(verbs[1], path, params, scope)
        if resp.headers.get("content-type", "").startswith("application/json"):
            method = resp.request.method
            self._envelope(resp, method, path)  # an error envelope raises here
            raise FortiOSBadAnswer(
                "the unit answered a JSON envelope, not a configuration file",
                method=method,
                path=path,
                http_status=resp.status_code,
            )
        return resp.content

    async def _backup(
        self, method: str, path: str, params: dict[str, str], scope: str
    ) -> httpx.Response:
        body = {"scope": scope} if method == "POST" else None
        # Reading the configuration changes nothing, so it may be retried like a GET.
        return await self._call(method, path, params=params, json_body=body, idempotent=True)

    async def save_revision(self, comment: str) -> Envelope:
        """A named configuration revision on the unit to return to (reference §6 step 3)."""
        return await self._json(
            "POST",
            "/api/v2/monitor/system/config-revision/save",
            params={},
            json_body={"comments": comment},
        )


def _url(scope: str, path: str, mkey: str | int | None = None) -> str:
    path = path.strip("/")
    if not path or ".." in path.split("/") or "?" in path or "#" in path:
        raise ValueError(f"not a FortiOS API path: {path!r}")
    url = f"/api/v2/{scope}/{path}"
    # an mkey is one URL segment: names may hold spaces or "/" (reference §1.1)
    return url if mkey is None else f"{url}/{quote(str(mkey), safe='')}"


def _require_mkey(mkey: str | int | None) -> None:
    if mkey is None or str(mkey).strip() == "":
        raise ValueError("an mkey is required (refusing to act on a whole table)")


def _short(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__
