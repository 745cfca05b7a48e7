"""Windows collector: one PowerShell script per host over WinRM, its JSON document into facts.

Per host, in a thread pool of ``options.parallel`` (pypsrp blocks): read the secret at the last
moment, run ``check_script()`` as ONE pipeline within ``options.command_timeout`` (the Windows
Update search, which runs beside the checks, gets all of it but a margin), take its one
output string, check it is Baluarte's document (``parse.validate``) and hand it to
``parse.collected``. A check that failed on the host is inside the document (``ok: false``) and
only its controls become ``error``; a connection, credential, timeout or protocol failure, a
terminating script error or output that is not the document fails the whole host.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import Any

from pydantic import SecretStr

from baluarte.collected import Collected, CollectOptions
from baluarte.errors import BadAnswer, DeviceError, InputError
from baluarte.inventory import Device, DeviceRef
from baluarte.masking import Masker
from baluarte.plan import DevicePlan
from baluarte.secrets import resolve
from baluarte.transports.winrm import ScriptAnswer, WinrmClient, WinrmTarget
from checks.device_errors import plain_device_error, settings_error
from checks.windows import parse
from checks.windows.script import check_script

__all__ = [
    "DOMAINS",
    "NOT_THE_DOCUMENT",
    "collect",
    "collect_host",
    "document_of",
    "search_seconds",
    "target_for",
    "winrm_port",
]

DOMAINS = ("patching", "firewall", "endpoint", "backup", "access", "logging")
NOT_THE_DOCUMENT = "the check script's output is not Baluarte's JSON document"

log = logging.getLogger(__name__)


def winrm_port(device: Device) -> int:
    """The WinRM port of a Windows device: its own, else 5986 for HTTPS (the default), 5985."""
    https = device.winrm is None or device.winrm.https
    return device.port or (5986 if https else 5985)


def target_for(device: Device, *, timeout: float = 120.0) -> WinrmTarget:
    """Connection facts for one Windows host, its secret read now. Raises InputError."""
    settings = device.winrm
    if settings is None:
        raise InputError(
            "no winrm settings: a Windows device needs winrm.user and a password reference",
            code="missing_key",
            key="winrm",
        )
    password = resolve(settings.password) if settings.password is not None else None
    key = settings.certificate_key.path if settings.certificate_key is not None else None
    return WinrmTarget(
        host=device.address,
        port=winrm_port(device),
        https=settings.https,
        auth=settings.auth,
        user=settings.user,
        password=SecretStr(password) if password is not None else None,
        ca_bundle=settings.ca_bundle.expanduser() if settings.ca_bundle is not None else None,
        verify=settings.verify,
        certificate=settings.certificate.expanduser() if settings.certificate else None,
        certificate_key=key,
        connect_timeout=min(10.0, timeout),
        read_timeout=min(30.0, timeout),
        operation_timeout=max(1, min(20, int(timeout))),
        deadline=timeout,
    )


def search_seconds(deadline: float) -> int:
    """How long the Windows Update search may take within a host's ``deadline``: all of it but
    a margin for the other checks' answer to come back (they run beside the search)."""
    return max(1, int(deadline - min(20.0, deadline / 6)))


def collect(
    plans: Sequence[DevicePlan], options: CollectOptions
) -> Iterator[tuple[DeviceRef, Collected | DeviceError]]:
    """Yield each host with its facts, or the reason it could not be checked, as hosts finish."""
    if not plans:
        return
    pool = ThreadPoolExecutor(max_workers=max(1, options.parallel), thread_name_prefix="winrm")
    try:
        running: dict[Future[Collected | DeviceError], DeviceRef] = {
            pool.submit(collect_host, p, options): p.ref for p in plans
        }
        for done in as_completed(running):
            yield running[done], done.result()
    finally:
        # the caller stopped early: hosts not started yet are not started; running ones end
        # within their deadline
        pool.shutdown(wait=True, cancel_futures=True)


def collect_host(device_plan: DevicePlan, options: CollectOptions) -> Collected | DeviceError:
    """One host's facts, or why it could not be checked. Never raises."""
    started = time.monotonic()
    try:
        target = target_for(device_plan.ref.device, timeout=options.command_timeout)
    except InputError as exc:
        return settings_error(exc)
    # whatever the host sends back (an error echoing its input) is masked before it is kept
    mask = Masker([target.password.get_secret_value() if target.password else None])
    try:
        answer = WinrmClient(target).run_script(check_script(search_seconds(target.deadline)))
        answer = replace(
            answer,
            output=[mask(o) for o in answer.output],
            errors=[mask(e) for e in answer.errors],
            terminating=mask(answer.terminating) if answer.terminating else None,
        )
        document = document_of(answer)
        return parse.collected(
            document, round_trips=answer.requests, seconds=time.monotonic() - started
        )
    except InputError as exc:  # e.g. a CA bundle that cannot be read
        return DeviceError(mask(exc.message))
    except DeviceError as exc:
        plain = plain_device_error(exc)
        return type(plain)(mask(str(plain)))
    except Exception as exc:  # a bug of ours must not cost the other hosts their results
        log.exception("collecting %s failed", device_plan.ref.key)
        return DeviceError(f"internal error while collecting: {type(exc).__name__}: {exc}")


def document_of(answer: ScriptAnswer) -> dict[str, Any]:
    """The script's one output string as Baluarte's document. Raises DeviceError / BadAnswer."""
    if answer.terminating is not None:
        raise DeviceError(f"the check script stopped with an error: {answer.terminating}")
    if len(answer.output) != 1:
        errors = f"; errors: {' | '.join(answer.errors[:3])}" if answer.errors else ""
        raise BadAnswer(
            f"{NOT_THE_DOCUMENT}: {len(answer.output)} output objects, one expected{errors}"
        )
    try:
        return parse.validate(answer.output[0])
    except BadAnswer as exc:
        text = str(exc)
        raise BadAnswer(
            text if text.startswith(NOT_THE_DOCUMENT) else f"{NOT_THE_DOCUMENT}: {text}"
        ) from None
