"""Run one PowerShell script on one Windows host over WinRM (PowerShell Remoting, pypsrp 0.9).

    target = WinrmTarget(host="10.0.0.5", port=5986, https=True, auth="ntlm",
                         user=r"ACME\\baluarte", password=SecretStr(pw), ca_bundle=Path("ca.pem"))
    answer = WinrmClient(target).run_script(script)   # ScriptAnswer, or raises a DeviceError

Per call: one ``WSMan``, one ``RunspacePool`` and ONE pipeline (``add_script``; ``run_scripts``:
one pipeline per script in the same pool), run with
``begin_invoke``/``poll_invoke`` under ``target.deadline`` and stopped when it passes — pypsrp
on its own retries the OperationTimeout fault of a long Receive forever. Every HTTP request on
the wire (authentication legs included) is counted and refused once the deadline and a short
grace for clean-up have passed, so pypsrp's own read-timeout retries cannot outlive it.

TLS is ours, not the environment's: the session pypsrp builds has ``trust_env`` off, no proxy
and an explicit ``verify`` (the CA bundle, else the system store), so REQUESTS_CA_BUNDLE,
CURL_CA_BUNDLE or HTTPS_PROXY cannot change what is trusted. ``verify=False`` is honoured and
logged. Message encryption is pypsrp's "auto": NTLM/Negotiate/Kerberos over HTTP are sealed;
Basic and certificate auth over HTTP are refused here before any request.

pypsrp's exceptions become ``baluarte.errors`` kinds at one boundary (``_mapped``); messages
name the host and the auth method, never a secret.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import requests
from pydantic import BaseModel, ConfigDict, SecretStr
from pypsrp.complex_objects import PSInvocationState
from pypsrp.exceptions import (
    AuthenticationError,
    WinRMError,
    WinRMTransportError,
    WSManFaultError,
)
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan
from spnego.exceptions import SpnegoError

from baluarte.errors import AuthFailed, BadAnswer, DeviceError, InputError, TimedOut, Unreachable

__all__ = [
    "AUTH_NAMES",
    "RUNSPACE_LOCALE",
    "ScriptAnswer",
    "WinrmAuth",
    "WinrmClient",
    "WinrmTarget",
]

log = logging.getLogger(__name__)

WinrmAuth = Literal["ntlm", "negotiate", "kerberos", "basic", "certificate"]
AUTH_NAMES: dict[str, str] = {
    "ntlm": "NTLM",
    "negotiate": "Negotiate",
    "kerberos": "Kerberos",
    "basic": "Basic",
    "certificate": "client certificate",
}
# Clean-up after the deadline (stop the pipeline, delete the shell) may take this much longer.
_GRACE = 5.0
# WS-Man fault 0x80338029: the Receive had nothing within OperationTimeout (pypsrp retries it).
_OPERATION_TIMEOUT_FAULT = 2150858793
# The runspace's culture, decided here and not left to pypsrp's default: WS-Man Locale (UI
# culture: the language of PowerShell's own error messages) and DataLocale (culture: number and
# date formatting and parsing) are both en-US, the same on every host, so the check script's
# evidence and errors read alike whatever the host's language. The host's own language and date
# format still reach native tools' output (w32tm): the scripts never parse that with the
# session's culture, only with explicit patterns (checks/windows/ps/time.sync.ps1).
RUNSPACE_LOCALE = "en-US"
_FAULT_HINTS: dict[int, str] = {
    5: "access denied: the account must be a local administrator or in Remote Management Users",
}


class WinrmTarget(BaseModel):
    """Where and how to connect: resolved connection facts (the secret already read)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str
    port: int
    https: bool = True
    auth: WinrmAuth = "negotiate"
    user: str | None = None
    password: SecretStr | None = None  # SecretStr: never in a repr
    ca_bundle: Path | None = None  # PEM; None: the system store
    verify: bool = True
    certificate: Path | None = None  # certificate auth: client certificate and key (PEM)
    certificate_key: Path | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    operation_timeout: int = 20  # WS-Man OperationTimeout of one Receive, seconds
    deadline: float = 120.0  # the whole call, seconds

    @property
    def url(self) -> str:
        scheme = "https" if self.https else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}/wsman"

    @property
    def tls(self) -> Literal["verified", "unverified", "none"]:
        """How the server is authenticated at the transport level."""
        if not self.https:
            return "none"
        return "verified" if self.verify else "unverified"


@dataclass(frozen=True)
class ScriptAnswer:
    """What one script run gave back."""

    output: list[str]  # the pipeline's output objects, as strings
    errors: list[str]  # error records (non-terminating ones, and the terminating one)
    had_errors: bool  # the pipeline ended Failed
    terminating: str | None  # the terminating error's message, when it ended Failed
    requests: int  # HTTP requests sent to the host (authentication legs and retries included)
    seconds: float
    tls: Literal["verified", "unverified", "none"] = "verified"
    warnings: list[str] = field(default_factory=list)


class WinrmClient:
    """Runs scripts on one host; each ``run_script`` opens and closes its own shell."""

    def __init__(self, target: WinrmTarget) -> None:
        _refuse_clear_text(target)
        self.target = target
        self.request_count = 0  # over the client's life, like FortiOSClient.request_count

    def __repr__(self) -> str:
        t = self.target
        return f"WinrmClient({t.url}, auth={t.auth}, user={t.user!r})"

    def run_script(self, script: str) -> ScriptAnswer:
        """Run ``script`` as one pipeline. Raises Unreachable, AuthFailed, TimedOut, DeviceError."""
        started, before = time.monotonic(), self.request_count
        answers = self.run_scripts([script])
        try:
            answer = next(answers)
        finally:
            answers.close()  # deletes the shell
        # the whole call: connection, authentication, shell and pipeline
        return replace(
            answer, requests=self.request_count - before, seconds=time.monotonic() - started
        )

    def run_scripts(
        self, scripts: Iterable[str | tuple[str, Mapping[str, Any]]]
    ) -> Generator[ScriptAnswer, None, None]:
        """Run each script as its own pipeline in ONE shell (one connection, one authentication,
        one ``target.deadline`` for all), yielding each answer as it is done. A script runs only
        when the next answer is asked for: stop iterating (or ``close()``) and the rest never
        run; the shell is deleted either way. Raises like ``run_script``.

        A ``(script, parameters)`` pair binds the parameters to the script's ``param()`` as
        typed PSRP parameters (strings, numbers, booleans, lists travel serialised, never as
        text the script parses)."""
        t = self.target
        deadline = time.monotonic() + t.deadline
        wire = _Wire(deadline, cleanup_until=deadline + _GRACE)
        if t.tls == "unverified":
            log.warning("%s: TLS certificate NOT verified (winrm.verify: false)", t.url)
        try:
            with _mapped(t, wire, deadline), _wsman(t, wire) as wsman:
                pool = RunspacePool(wsman, no_profile=True)
                try:
                    started, before = time.monotonic(), 0
                    pool.open()  # Create (+ Receive until Opened)
                    for item in scripts:
                        script, parameters = (item, {}) if isinstance(item, str) else item
                        result = _pipeline(pool, wire, script, deadline, t, parameters)
                        yield ScriptAnswer(
                            output=result.output,
                            errors=result.errors,
                            had_errors=result.had_errors,
                            terminating=result.terminating,
                            requests=wire.count - before,
                            seconds=time.monotonic() - started,
                            tls=t.tls,
                            warnings=result.warnings,
                        )
                        started, before = time.monotonic(), wire.count
                except BaseException:
                    # Failing (often past the deadline), or the caller stopped: delete the
                    # shell anyway; an error here must not hide the first one.
                    _cleaning_up(wire, wsman)
                    _quietly(pool.close)
                    raise
                _quietly(pool.close)  # Delete the shell
        finally:
            self.request_count += wire.count


@dataclass
class _Result:
    output: list[str]
    errors: list[str]
    had_errors: bool
    terminating: str | None
    warnings: list[str]


def _pipeline(
    pool: RunspacePool,
    wire: _Wire,
    script: str,
    deadline: float,
    t: WinrmTarget,
    parameters: Mapping[str, Any],
) -> _Result:
    """One script as one pipeline of an open shell; stopped on the host if it fails."""
    ps = PowerShell(pool)
    try:
        ps.add_script(script)
        if parameters:
            ps.add_parameters(dict(parameters))
        ps.begin_invoke()
        while ps.state == PSInvocationState.RUNNING:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _DeadlinePassed
            # a Receive blocks up to its OperationTimeout: never past the deadline
            ps.poll_invoke(timeout=max(1, min(t.operation_timeout, int(remaining))))
        terminating: str | None = None
        if ps.state == PSInvocationState.FAILED:
            terminating = _record_text(ps.streams.error[-1]) if ps.streams.error else "failed"
        result = _Result(
            output=[_text(o) for o in ps.output],
            errors=[_record_text(e) for e in ps.streams.error],
            had_errors=bool(ps.had_errors),
            terminating=terminating,
            warnings=[_text(w) for w in ps.streams.warning],
        )
        _quietly(ps.close)  # Signal Terminate: frees the pipeline on the host
        return result
    except BaseException:
        _cleaning_up(wire, pool.connection)
        if ps.state == PSInvocationState.RUNNING:
            _quietly(ps.stop)  # Signal ctrl_c: nothing keeps running on the host
        raise


def _cleaning_up(wire: _Wire, wsman: WSMan) -> None:
    """Let clean-up requests past the deadline, on a connection that can still talk."""
    wire.allow_cleanup()
    if wire.dropped:
        # The cut request took its connection, and NTLM/Negotiate authenticate connections:
        # make pypsrp set up authentication and message encryption again (as it does after its
        # own read timeouts).
        wsman.transport.encryption = None


def _quietly(step: Callable[[], object]) -> None:
    try:
        step()
    except _DeadlinePassed:
        log.debug("clean-up step skipped: past the deadline")
    except (WinRMError, requests.RequestException, OSError) as exc:
        log.debug("clean-up step failed: %s", type(exc).__name__)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _record_text(record: Any) -> str:
    """An ErrorRecord's message (its ToString), else its error id."""
    for candidate in (
        _safe_str(record),
        getattr(record, "message", None),
        getattr(record, "fq_error", None),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return "unknown PowerShell error"


def _safe_str(value: Any) -> str | None:
    try:
        return str(value)
    except Exception:  # a record pypsrp could not fully deserialise
        return None


def _refuse_clear_text(t: WinrmTarget) -> None:
    if t.https:
        return
    if t.auth == "basic":
        raise InputError(
            "auth: basic sends the password in clear over HTTP: use it with https: true",
            code="wrong_value",
            key="winrm.auth",
        )
    if t.auth == "certificate":
        raise InputError(
            "auth: certificate needs https: true", code="wrong_value", key="winrm.auth"
        )


def _verify(t: WinrmTarget) -> bool | str:
    """What requests verifies the server with: a bundle path, a system path, or False."""
    if not t.verify:
        return False
    if t.ca_bundle is not None:
        bundle = t.ca_bundle.expanduser()
        if not bundle.is_file():
            raise InputError(
                f"CA bundle {bundle} cannot be read", code="unreadable_file", file=bundle
            )
        return str(bundle)
    # The compiled-in system store — not what SSL_CERT_FILE / REQUESTS_CA_BUNDLE point at.
    paths = ssl.get_default_verify_paths()
    if Path(paths.openssl_cafile).is_file():
        return paths.openssl_cafile
    if Path(paths.openssl_capath).is_dir():
        return paths.openssl_capath
    import certifi  # only where OpenSSL has no store of its own

    return str(certifi.where())


@contextmanager
def _wsman(t: WinrmTarget, wire: _Wire) -> Iterator[WSMan]:
    verify = _verify(t)
    kwargs: dict[str, Any] = {}
    if t.auth == "certificate":
        if t.certificate is None or t.certificate_key is None:
            raise InputError(
                "auth: certificate needs certificate and certificate_key", code="missing_key"
            )
        kwargs["certificate_pem"] = str(t.certificate.expanduser())
        kwargs["certificate_key_pem"] = str(t.certificate_key.expanduser())
    wsman = WSMan(
        t.host,
        port=t.port,
        ssl=t.https,
        auth=t.auth,
        username=t.user,
        password=t.password.get_secret_value() if t.password is not None else None,
        cert_validation=verify if isinstance(verify, bool) else True,
        encryption="auto",
        locale=RUNSPACE_LOCALE,
        data_locale=RUNSPACE_LOCALE,
        no_proxy=True,
        operation_timeout=t.operation_timeout,
        # pypsrp wants the HTTP read timeout above the WS-Man operation timeout
        read_timeout=max(t.read_timeout, t.operation_timeout + 2),  # type: ignore[arg-type]
        connection_timeout=t.connect_timeout,  # type: ignore[arg-type]
        reconnection_retries=0,
        reconnection_backoff=0.5,
        **kwargs,
    )
    transport = wsman.transport
    # Build the session now (pypsrp would on the first request) to make its trust ours.
    session: requests.Session = transport._build_session()
    session.trust_env = False
    session.verify = verify
    session.proxies = {"http": "", "https": ""}
    wire.install(session)
    transport.session = session
    try:
        yield wsman
    finally:
        wsman.close()


class _DeadlinePassed(Exception):
    """Raised on our side when the call's time is up (not a requests timeout: never retried)."""


class _Wire:
    """Counts every HTTP request a session sends; none may outlive the deadline.

    Wraps the adapters' ``send``: requests' auth handlers resend through the adapter
    (``response.connection.send``), so the NTLM/Negotiate legs are counted too. Each request's
    timeouts are cut to the time left; once clean-up is allowed (stop the pipeline, delete the
    shell) the limit moves to ``cleanup_until``.
    """

    def __init__(self, deadline: float, *, cleanup_until: float) -> None:
        self.hard_deadline = deadline
        self.cleanup_until = cleanup_until
        self.count = 0
        self.dropped = False  # a request was cut by the deadline (its connection is gone)

    def allow_cleanup(self) -> None:
        self.hard_deadline = max(self.hard_deadline, self.cleanup_until)

    def install(self, session: requests.Session) -> None:
        for adapter in session.adapters.values():
            send = adapter.send

            def counted(
                request: requests.PreparedRequest,
                *args: Any,
                _send: Callable[..., requests.Response] = send,
                **kwargs: Any,
            ) -> requests.Response:
                left = self.hard_deadline - time.monotonic()
                if left <= 0:
                    raise _DeadlinePassed
                kwargs["timeout"] = _clamp(kwargs.get("timeout"), left)
                self.count += 1
                try:
                    return _send(request, *args, **kwargs)
                except requests.exceptions.Timeout:
                    if time.monotonic() >= self.hard_deadline - 0.05:
                        # cut by the deadline: not a timeout pypsrp should retry
                        self.dropped = True
                        raise _DeadlinePassed from None
                    raise

            adapter.send = counted  # type: ignore[method-assign]


def _clamp(timeout: Any, left: float) -> Any:
    """requests' timeout (None, a number or (connect, read)) cut to ``left`` seconds."""
    if timeout is None:
        return left
    if isinstance(timeout, tuple):
        return tuple(left if v is None else min(float(v), left) for v in timeout)
    return min(float(timeout), left)


@contextmanager
def _mapped(t: WinrmTarget, wire: _Wire, deadline: float) -> Iterator[None]:
    """pypsrp's and requests' exceptions as baluarte.errors kinds, most specific first."""
    auth = AUTH_NAMES[t.auth]
    try:
        yield
    except DeviceError:
        raise
    except _DeadlinePassed:
        raise TimedOut(
            f"{t.url} did not finish the script within {t.deadline:g} s (pipeline stopped)"
        ) from None
    except AuthenticationError as exc:
        if "did not response with one of" in str(exc):  # pypsrp's wording, sic
            offered = str(exc).rpartition("actual:")[2].strip(" '") or "nothing"
            raise AuthFailed(
                f"the WinRM service at {t.url} does not offer {auth} authentication"
                f" (it offers: {_short(offered, 80)})"
            ) from None
        if t.auth == "certificate":
            why = "the client certificate was refused: is it mapped to a local account?"
        else:
            why = (
                f"credentials refused ({auth}): wrong user or password,"
                " or the account may not use WinRM"
            )
        raise AuthFailed(why) from None
    except WSManFaultError as exc:
        code = exc.code if isinstance(exc.code, int) else None
        reason = (exc.reason or "").strip() or "no reason given"
        hint = _FAULT_HINTS.get(code or -1)
        shown = f"{code} (0x{code:08X})" if code is not None else str(exc.code)
        message = f"WS-Management fault {shown} from {t.url}: {_short(reason)}"
        if code == _OPERATION_TIMEOUT_FAULT:
            raise TimedOut(message) from None
        raise DeviceError(f"{message} — {hint}" if hint else message) from None
    except WinRMTransportError as exc:
        if exc.code == 401:
            raise AuthFailed(f"credentials refused ({auth}): HTTP 401 from {t.url}") from None
        raise DeviceError(
            f"HTTP {exc.code} from the WinRM service at {t.url}: {_short(exc.response_text)}"
        ) from None
    except requests.exceptions.SSLError as exc:
        raise Unreachable(_tls_message(t, exc)) from None
    except requests.exceptions.ConnectTimeout:
        raise TimedOut(f"no connection to {t.url} within {t.connect_timeout:g} s") from None
    except requests.exceptions.Timeout:
        if time.monotonic() >= deadline:
            raise TimedOut(f"{t.url} did not finish the script within {t.deadline:g} s") from None
        raise TimedOut(f"no answer from {t.url} in time") from None
    except requests.exceptions.ConnectionError as exc:
        raise Unreachable(f"cannot connect to {t.url}: {_root_cause(exc)}") from None
    except requests.exceptions.RequestException as exc:
        raise Unreachable(f"cannot talk to {t.url}: {_root_cause(exc)}") from None
    except SpnegoError as exc:  # a token the server sent could not be used, no Kerberos, ...
        raise AuthFailed(f"{auth} authentication with {t.url} failed: {_short(str(exc))}") from None
    except WinRMError as exc:  # InvalidPSRPOperation, RelatesTo mismatch, broken states
        raise BadAnswer(
            f"PowerShell Remoting protocol error from {t.url}: {_short(str(exc))}"
        ) from None
    except ValueError as exc:  # pypsrp's refusals of a configuration (never with a secret)
        raise DeviceError(f"WinRM settings refused by pypsrp: {_short(str(exc))}") from None
    finally:
        log.debug("%s: %d HTTP request(s)", t.url, wire.count)


def _tls_message(t: WinrmTarget, exc: BaseException) -> str:
    bad = _cert_failure(exc)
    if bad is not None:
        detail = bad.verify_message or bad.reason or "certificate rejected"
        return f"TLS certificate verification failed for {t.url}: {detail} (set winrm.ca_bundle)"
    return f"TLS handshake with {t.url} failed: {_root_cause(exc)}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what lies behind it: causes, contexts, and urllib3's ``reason``/``args``."""
    todo, seen = [exc], set()
    while todo:
        cur = todo.pop(0)
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        reason = getattr(cur, "reason", None)
        todo += [r for r in (reason, *cur.args) if isinstance(r, BaseException)]
        todo += [r for r in (cur.__cause__, cur.__context__) if r is not None]


def _cert_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    for cur in _causes(exc):
        if isinstance(cur, ssl.SSLCertVerificationError):
            return cur
    return None


def _root_cause(exc: BaseException) -> str:
    """The innermost reason: 'Connection refused', 'Name or service not known', ..."""
    innermost = list(_causes(exc))[-1]
    for cur in _causes(exc):
        if isinstance(cur, OSError) and cur.strerror:
            return cur.strerror
    return _short(str(innermost) or type(innermost).__name__)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
