"""A collector's broker identity on RabbitMQ: made and removed through ``rabbitmqctl``.

Collector NAME is the RabbitMQ user ``baluarte-collector-NAME`` with, on the central broker
URL's vhost, exactly these permissions (regular expressions, docs/collectors.md)::

    configure  ^baluarte\\.collector\\.NAME$     declare its own queue
    write      ^baluarte\\.results$              publish results and heartbeats
    read       ^baluarte\\.collector\\.NAME$     consume (and purge) its own queue

so it can neither read nor write another collector's queue (no write on the default
exchange, through which the central side publishes tasks). ``rabbitmqctl`` runs here, as root,
against the local node: the management plugin is not needed. The new password goes to
``rabbitmqctl add_user`` on its standard input, never on a command line (``/proc/*/cmdline``
is readable by every user). Provisioning ends by logging in with the new URL: that proves the
user landed on the broker the URL names, not on another node.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from baluarte.collectors.names import (
    NAME_RULE,
    RESULTS_EXCHANGE,
    broker_user,
    is_collector_name,
    queue_name,
)
from baluarte.errors import InputError
from baluarte.masking import mask_url_credentials, register_secret

__all__ = [
    "BROKER_ENV",
    "BrokerUrl",
    "Provisioned",
    "check_collector_name",
    "connection",
    "declare_topology",
    "open_connection",
    "parse_broker_url",
    "permissions_for",
    "provision_collector",
    "remove_collector",
    "reply_code",
    "routing_keys_for",
    "ssl_options",
    "why_failed",
]

BROKER_ENV = "BALUARTE_BROKER"
_SCHEMES = {"amqp": 5672, "amqps": 5671}
_CONNECT_TIMEOUT = 10.0
_ACCESS_REFUSED = 403  # AMQP reply code
_RABBITMQCTL_TIMEOUT = 60.0
_EX_NOUSER = 67  # rabbitmqctl's exit code for "User ... does not exist"


@dataclass(frozen=True)
class BrokerUrl:
    """A RabbitMQ URL as kombu (and so Celery) reads it; its password is never shown."""

    scheme: str
    host: str
    port: int
    vhost: str
    user: str
    password: str = ""
    ca_file: str | None = None  # amqps: the CA that signed the broker's certificate

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"BrokerUrl({self.masked})"

    @property
    def masked(self) -> str:
        """The URL with its password written ``***``."""
        return self._url(self.user, "***" if self.password else "", quote_password=False)

    @property
    def secret_url(self) -> str:
        """The URL with its password: only ever handed to kombu, never printed."""
        return self._url(self.user, self.password)

    def with_login(self, user: str, password: str) -> BrokerUrl:
        return BrokerUrl(
            self.scheme, self.host, self.port, self.vhost, user, password, self.ca_file
        )

    def reached_at(self, place: ReachedAt) -> BrokerUrl:
        """The same login and vhost at the scheme, host and port the collectors use."""
        return BrokerUrl(place.scheme, place.host, place.port, self.vhost, self.user, self.password)

    def _url(self, user: str, password: str, *, quote_password: bool = True) -> str:
        login = quote(user, safe="")
        if password:
            login += ":" + (quote(password, safe="") if quote_password else password)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{login}@{host}:{self.port}/{quote(self.vhost, safe='')}"


def parse_broker_url(
    text: str | None, *, option: str = "--broker", ca_file: str | None = None
) -> BrokerUrl:
    """The central broker URL from ``--broker`` or ``$BALUARTE_BROKER``. Raises InputError.

    ``ca_file`` (``--broker-ca``): the PEM file of the CA that signed an ``amqps://`` broker's
    certificate, read here so that a missing or bad file is said before any connection."""
    from kombu.utils.url import parse_url

    if text is None:
        text = os.environ.get(BROKER_ENV) or None
        option = BROKER_ENV
    if text is None:
        raise InputError(
            f"no broker given: pass --broker URL or set {BROKER_ENV}",
            code="usage",
            key="--broker",
            allowed="amqp://USER:PASSWORD@HOST:PORT/VHOST or amqps://…",
        )
    shown = mask_url_credentials(text)
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme not in _SCHEMES:
        raise InputError(
            f"'{shown}' is not a RabbitMQ URL",
            code="wrong_value",
            key=option,
            allowed="amqp://USER:PASSWORD@HOST:PORT/VHOST or amqps://…",
        )
    try:
        _ = urlsplit(text).port  # raises on a port that is not a number
        parts: dict[str, Any] = parse_url(text)
    except ValueError as exc:
        raise InputError(
            f"'{shown}' is not a valid URL ({exc})", code="wrong_value", key=option
        ) from None
    password = parts.get("password") or ""
    register_secret(password)  # whatever quotes it later (a library's error) is masked
    host = parts.get("hostname") or ""
    user = parts.get("userid") or ""
    if not host or not user or not password:
        raise InputError(
            f"'{shown}' needs a host, a user and a password (the central side's own login)",
            code="wrong_value",
            key=option,
            allowed="amqp://USER:PASSWORD@HOST:PORT/VHOST",
        )
    if ca_file is not None:
        _check_ca_file(ca_file, scheme, shown)
    return BrokerUrl(
        scheme=scheme,
        host=host,
        port=int(parts.get("port") or _SCHEMES[scheme]),
        vhost=parts.get("virtual_host") or "/",  # kombu's default too
        user=user,
        password=password,
        ca_file=ca_file,
    )


@dataclass(frozen=True)
class ReachedAt:
    """Where the collectors reach the broker when it is not where the central side does
    (``collectors provision --reached-at``): a public name and the amqps port, say."""

    scheme: str
    host: str
    port: int


def parse_reached_at(text: str, *, option: str = "--reached-at") -> ReachedAt:
    """``amqp[s]://HOST[:PORT]`` (no login, no vhost: those are the collector's own and the
    central URL's). Raises InputError."""
    allowed = "amqps://HOST[:PORT] or amqp://HOST[:PORT], e.g. amqps://broker.example.net:5671"
    shown = mask_url_credentials(text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InputError(
            f"'{shown}' is not a valid URL ({exc})", code="wrong_value", key=option, allowed=allowed
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES or not parts.hostname:
        raise InputError(
            f"'{shown}' is not a broker's place", code="wrong_value", key=option, allowed=allowed
        )
    extra = [
        what
        for what, there in (
            ("a login", parts.username is not None or parts.password is not None),
            ("a vhost", parts.path not in ("", "/")),
            ("a query", bool(parts.query or parts.fragment)),
        )
        if there
    ]
    if extra:
        raise InputError(
            f"'{shown}' holds {' and '.join(extra)}: give only where the collectors reach the"
            " broker (the login is the collector's own, the vhost the central URL's)",
            code="wrong_value",
            key=option,
            allowed=allowed,
        )
    return ReachedAt(scheme, parts.hostname, port or _SCHEMES[scheme])


def _check_ca_file(ca_file: str, scheme: str, shown: str) -> None:
    import ssl

    if scheme != "amqps":
        # a CA with a plain URL means TLS was meant: connecting in the clear would hide that
        raise InputError(
            f"--broker-ca is for amqps:// URLs, and '{shown}' is plain {scheme}://",
            code="usage",
            key="--broker-ca",
            allowed="amqps://USER:PASSWORD@HOST:PORT/VHOST",
        )
    try:
        ssl.create_default_context(cafile=ca_file)  # reads every certificate in it
    except (OSError, ssl.SSLError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(
            f"cannot read the broker's CA certificates from '{ca_file}': {why}",
            code="wrong_value",
            key="--broker-ca",
            allowed="a readable PEM file of the CA that signed the broker's certificate",
        ) from None


def check_collector_name(name: str) -> str:
    """``name`` if it may name a collector; InputError otherwise (shown inert by the CLI)."""
    if not is_collector_name(name):
        raise InputError(
            f"{name!r} is not a valid collector name",
            code="wrong_value",
            key="NAME",
            allowed=NAME_RULE + " characters",
        )
    return name


def routing_keys_for(name: str) -> str:
    """The routing keys collector ``name`` may publish to ``baluarte.results`` with (a RabbitMQ
    topic permission): its own heartbeats and answers, so it cannot speak as another."""
    own = re.escape(check_collector_name(name))
    return rf"^(heartbeat\.{own}|result\.[0-9a-f]{{32}}\.{own})$"


def permissions_for(name: str) -> tuple[str, str, str]:
    """(configure, write, read) regular expressions of collector ``name``'s user."""
    own_queue = "^" + re.escape(queue_name(check_collector_name(name))) + "$"
    return own_queue, "^" + re.escape(RESULTS_EXCHANGE) + "$", own_queue


@dataclass(frozen=True)
class Provisioned:
    """What ``provision_collector`` made. ``url`` holds the password: show it once."""

    name: str
    user: str
    vhost: str
    permissions: tuple[str, str, str]
    url: str

    def __repr__(self) -> str:  # never the URL: it carries the password
        return f"Provisioned({self.user} on {self.vhost})"


def provision_collector(
    name: str, broker: BrokerUrl, reached_at: ReachedAt | None = None
) -> Provisioned:
    """Create collector ``name``'s RabbitMQ user and permissions on ``broker``'s vhost. The
    URL made is at ``reached_at`` when given (the new login is still proved on ``broker``).

    Refuses (InputError) when the user exists: its password is not known here, and a second
    provisioning must not silently cut off a collector that runs with the first.
    """
    check_collector_name(name)
    ctl = _rabbitmqctl_path()
    user = broker_user(name)
    declare_topology(broker, name)  # also proves the URL, its login and its vhost
    password = secrets.token_urlsafe(32)
    register_secret(password)
    added = _run(ctl, ["add_user", user], stdin=password)
    if added.returncode != 0:
        if "already exists" in added.stdout + added.stderr:
            raise InputError(
                f"collector '{name}' is already provisioned (RabbitMQ user '{user}' exists);"
                f" remove it first with 'baluarte collectors remove {name}', then provision"
                " it again and give the collector its new URL",
                code="duplicate_name",
                key="NAME",
            )
        raise _ctl_failed("add_user", added)
    try:
        perms = permissions_for(name)
        done = _run(ctl, ["set_permissions", "-p", broker.vhost, user, *perms])
        if done.returncode != 0:
            raise _ctl_failed("set_permissions", done)
        keys = routing_keys_for(name)
        args = ["set_topic_permissions", "-p", broker.vhost, user, RESULTS_EXCHANGE, keys, "^$"]
        done = _run(ctl, args)
        if done.returncode != 0:
            raise _ctl_failed("set_topic_permissions", done)
        url = broker.with_login(user, password)
        _login(url, broker)
    except BaseException:
        _run(ctl, ["delete_user", user])  # nothing half made is left behind
        raise
    given = url.reached_at(reached_at) if reached_at is not None else url
    return Provisioned(name, user, broker.vhost, perms, given.secret_url)


def remove_collector(name: str, broker: BrokerUrl) -> bool:
    """Delete collector ``name``'s RabbitMQ user; False when there was none.

    Users are global to the node, so a user with permissions on some other vhost but none on
    ``broker``'s is refused (another installation's collector), not deleted. RabbitMQ closes
    the user's open connections as it deletes it.
    """
    check_collector_name(name)
    ctl = _rabbitmqctl_path()
    user = broker_user(name)
    listed = _run(ctl, ["list_user_permissions", user, "--formatter", "json"])
    if _no_such_user(listed):
        return False
    if listed.returncode != 0:
        raise _ctl_failed("list_user_permissions", listed)
    vhosts = sorted({str(p.get("vhost")) for p in _json_list(listed.stdout)})
    if vhosts and broker.vhost not in vhosts:
        raise InputError(
            f"RabbitMQ user '{user}' has permissions on {', '.join(vhosts)}, not on"
            f" '{broker.vhost}': it is not this broker's collector; nothing was removed",
            code="wrong_value",
            key="--broker",
        )
    done = _run(ctl, ["delete_user", user])
    if _no_such_user(done):
        return False  # removed meanwhile
    if done.returncode != 0:
        raise _ctl_failed("delete_user", done)
    return True


def _no_such_user(done: subprocess.CompletedProcess[str]) -> bool:
    said = done.stdout + done.stderr
    # delete_user: exit 67 "does not exist"; list_user_permissions: exit 69 ":no_such_user"
    return done.returncode == _EX_NOUSER or "does not exist" in said or "no_such_user" in said


def _json_list(text: str) -> list[dict[str, Any]]:
    try:
        found = json.loads(text or "[]")
    except ValueError:
        return []
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def declare_topology(broker: BrokerUrl, name: str | None = None) -> None:
    """Declare ``baluarte.results`` and what hangs off it (``topology``), and collector
    ``name``'s queues, with the central login; idempotent."""
    from baluarte.collectors.topology import declare_central, declare_collector

    with open_connection(broker) as conn:
        declare_central(conn.default_channel)
        if name is not None:
            declare_collector(conn.default_channel, name)


def _login(url: BrokerUrl, broker: BrokerUrl) -> None:
    with connection(url, transport_options={"max_retries": 0}) as conn:
        try:
            conn.connect()
        except Exception as exc:
            raise InputError(
                f"the new user was made, but cannot log in to {broker.host}:{broker.port}"
                f" ({type(exc).__name__}): is that broker the RabbitMQ node on this machine?"
                " Run 'baluarte collectors provision' on the broker's own machine",
                code="wrong_value",
                key="--broker",
            ) from None


def ssl_options(broker: BrokerUrl) -> dict[str, Any] | bool:
    """kombu's ``ssl`` for the URL: amqps verifies the broker's certificate and host name,
    against ``broker.ca_file`` when given, else the system's CAs (py-amqp's own default does
    not check the host name)."""
    if broker.scheme != "amqps":
        return False
    context: dict[str, Any] = {"check_hostname": True}
    if broker.ca_file:
        context["cafile"] = broker.ca_file
    return {"context": context, "server_hostname": broker.host}


def connection(broker: BrokerUrl, **options: Any) -> Any:
    """A kombu connection to ``broker`` (not yet connected)."""
    from kombu.connection import Connection

    options.setdefault("connect_timeout", _CONNECT_TIMEOUT)
    return Connection(broker.secret_url, ssl=ssl_options(broker), **options)


def open_connection(
    broker: BrokerUrl, *, refused: str = "the login or the vhost", hint: str = "", **options: Any
) -> Any:
    """A kombu connection to ``broker``, connected (one attempt), or InputError saying why not:
    an unverified certificate, a host name the certificate does not hold, a refused login
    (``refused``: what was refused, ``hint``: what to do, as the caller knows it)."""
    options.setdefault("transport_options", {"max_retries": 0})
    conn = connection(broker, **options)
    try:
        conn.ensure_connection(max_retries=0)
    except Exception as exc:
        conn.release()
        raise _unreachable(broker, exc, refused, hint) from None
    return conn


def _unreachable(broker: BrokerUrl, exc: BaseException, refused: str, hint: str) -> InputError:
    cause = _root(exc)
    where = broker.masked
    if isinstance(cause, ssl.SSLCertVerificationError):
        said = cause.verify_message or "certificate verify failed"
        if "mismatch" in said:
            fix = "connect by a name the broker's certificate holds"
        elif broker.ca_file:
            fix = f"is {broker.ca_file} the CA that signed the broker's certificate?"
        else:
            fix = (
                "give the CA that signed it with --broker-ca FILE (or BALUARTE_BROKER_CA);"
                " without it the system's CAs are used"
            )
        return InputError(
            f"the broker's certificate could not be verified ({said}) at {where}: {fix}",
            code="wrong_value",
            key="--broker-ca",
        )
    if isinstance(cause, ssl.SSLError):
        return InputError(
            f"TLS with the broker {where} failed ({cause.reason or cause}): is that port"
            " the broker's amqps port (usually 5671)?",
            code="wrong_value",
            key="--broker",
        )
    if reply_code(cause) == _ACCESS_REFUSED:
        return InputError(
            f"the broker {where} refused {refused} ({why_failed(cause)})"
            + (f": {hint}" if hint else ""),
            code="wrong_value",
            key="--broker",
            allowed="the central login and an existing vhost it has permissions on",
        )
    return InputError(
        f"cannot reach the broker {where}: {why_failed(cause)}",
        code="wrong_value",
        key="--broker",
        allowed="a running RabbitMQ, the central login and an existing vhost",
    )


def reply_code(exc: BaseException) -> int | None:
    # AMQP's reply code of py-amqp's errors (amqp.exceptions), read without importing it
    code = getattr(exc, "reply_code", None)
    return code if isinstance(code, int) else None


def _root(exc: BaseException) -> BaseException:
    """The error under kombu's wrapping (OperationalError from the transport's own)."""
    seen = exc
    while True:
        under = seen.__cause__ or seen.__context__
        if under is None or under is seen:
            return seen
        seen = under


def why_failed(exc: BaseException) -> str:
    text = getattr(exc, "reply_text", None)  # an AMQP error: its code and text, not its frame
    said = f"{reply_code(exc)} {text}" if text and reply_code(exc) else str(exc)
    # the library's text may quote the URL: only the masked form is shown
    return mask_url_credentials(said) or type(exc).__name__


def _rabbitmqctl_path() -> str:
    path = shutil.which("rabbitmqctl")
    if path is None:
        raise InputError(
            "rabbitmqctl is not on PATH: run this on the RabbitMQ server's machine, where"
            " it is installed (e.g. /usr/sbin/rabbitmqctl)",
            code="usage",
        )
    if os.geteuid() != 0:
        raise InputError(
            "rabbitmqctl needs root (it reads the node's Erlang cookie): run it with sudo",
            code="usage",
        )
    return path


def _run(
    ctl: str, args: Sequence[str], *, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    # the password, when there is one, is on stdin only: argv stays free of secrets
    try:
        return subprocess.run(
            [ctl, "-q", *args],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=_RABBITMQCTL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InputError(
            f"rabbitmqctl {args[0]} did not finish in {_RABBITMQCTL_TIMEOUT:.0f} s: is the"
            " RabbitMQ node running (systemctl status rabbitmq-server)?",
            code="usage",
        ) from None


def _ctl_failed(what: str, done: subprocess.CompletedProcess[str]) -> InputError:
    said = " ".join((done.stderr or done.stdout).split()).removeprefix("Error: ")[:300]
    return InputError(
        f"rabbitmqctl {what} failed (exit {done.returncode}): {said or 'no message'}",
        code="usage",
    )
