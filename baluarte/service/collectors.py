"""Site collectors as the service sees them: its broker (``broker:``), the dispatch of a check's
collector-bound devices, and the collectors' status read with a bound on the wait.

``broker:`` is a secret reference (the URL holds the central login's password), resolved each
time it is needed, so a password rotated in its file or keyring is read without a restart; the
service checks it once at start-up, and refuses to start (exit 2) on one that does not resolve
or is not a RabbitMQ URL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import TYPE_CHECKING

from baluarte.collectors.broker import BrokerUrl, parse_broker_url
from baluarte.collectors.health import CollectorStatus, read_status
from baluarte.engine import CheckOptions, Collect, Inputs
from baluarte.errors import InputError
from baluarte.inventory import Inventory
from baluarte.masking import mask_url_credentials
from baluarte.secrets import resolve
from baluarte.service.config import ServeConfig

if TYPE_CHECKING:
    from baluarte.store import Store

__all__ = [
    "STATUS_TIMEOUT",
    "central_broker",
    "collectors_for",
    "served_sites",
    "statuses",
]

# How long a page waits for the broker: a broker that does not answer is said on the page, and
# the request does not hang on it (the read goes on in the background until its own timeouts).
STATUS_TIMEOUT = 5.0
_readers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="collector-status")


def central_broker(config: ServeConfig) -> BrokerUrl | None:
    """The broker ``broker:`` names (its reference resolved now); None when not configured.
    Raises InputError naming the configuration file, never the password."""
    if config.broker is None:
        return None
    ca = config.broker_ca_path
    try:
        return parse_broker_url(
            resolve(config.broker), option="broker", ca_file=str(ca) if ca else None
        )
    except InputError as exc:
        if exc.file is not None:
            raise
        raise InputError(
            exc.message,
            code=exc.code,
            file=config.source,
            key=f"broker ({exc.key})" if exc.key and exc.key != "broker" else "broker",
            allowed=exc.allowed,
        ) from None


def collectors_for(
    config: ServeConfig, inputs: Inputs, options: CheckOptions
) -> Callable[[Store], Collect] | None:
    """The dispatch through site collectors when a selected device's site names one, as
    ``baluarte check`` does it; None: every device is reached directly. Raises InputError
    (the check fails, saying why) when such a device is selected and no ``broker:`` is set."""
    from baluarte.collectors.reach import dispatch_for

    plans = options.plans(inputs)

    def required_broker() -> BrokerUrl:
        broker = central_broker(config)
        if broker is None:
            bound = sorted({p.ref.collector for p in plans if p.ref.collector})
            raise InputError(
                f"the selected devices of collector(s) {', '.join(bound)} are reached through"
                " the site collectors' broker: set broker: in the serve configuration"
                " (docs/collectors.md)",
                code="missing_key",
                file=config.source,
                key="broker",
            )
        return broker

    return dispatch_for(plans, required_broker, deadline=config.collector_deadline)


def statuses(
    broker: BrokerUrl, names: Sequence[str], *, timeout: float = STATUS_TIMEOUT
) -> list[CollectorStatus]:
    """``read_status``, waiting at most ``timeout`` seconds; InputError when the broker cannot
    be reached, refuses the login, or does not answer in time."""
    future = _readers.submit(read_status, broker, list(names))
    try:
        return future.result(timeout)
    except FuturesTimeout:
        raise InputError(
            f"the broker {broker.masked} did not answer within {timeout:g} s",
            code="wrong_value",
            key="broker",
        ) from None
    except InputError:
        raise
    except Exception as exc:  # a broker that breaks off mid-read: said like one unreachable
        why = mask_url_credentials(str(exc)) or type(exc).__name__
        raise InputError(
            f"reading the collectors' status on {broker.masked} failed: {why}",
            code="wrong_value",
            key="broker",
        ) from None


def served_sites(inventory: Inventory) -> dict[str, list[tuple[str, str]]]:
    """Each collector's (client, site) pairs: the sites that name it, or whose client does."""
    out: dict[str, list[tuple[str, str]]] = {}
    for client in inventory.clients:
        for site in client.sites:
            name = site.collector or client.collector
            if name is not None:
                out.setdefault(name, []).append((client.name, site.name))
    return out
