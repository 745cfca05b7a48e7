"""FortiGate collector: a handful of REST GETs per unit, read concurrently, into typed facts.

Per unit: read the secrets at the last moment, log in, GET the endpoints the planned controls
need (``endpoints_for``; the first one alone, since its answer proves the connection and the
credentials, then the rest of the first round together, then the look-ups the first round
turned out to need), take a configuration backup when ``backup.config_saved`` is planned, log
out, and hand a ``FortiSnapshot`` to ``parse.collected``. Units run in one asyncio event loop in
a worker thread, ``options.parallel`` at a time, each within ``options.command_timeout``.

A failed login or first request fails the whole unit (Unreachable, AuthFailed, TimedOut);
after that, an endpoint that fails only lands in ``snapshot.problems``, so its controls are
``error`` and the others are still evaluated.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from baluarte.aio import stream
from baluarte.collected import Collected, CollectOptions
from baluarte.errors import BadAnswer, DeviceError, InputError, TimedOut, Unreachable
from baluarte.files import write_private
from baluarte.inventory import Device, DeviceRef
from baluarte.masking import Masker
from baluarte.plan import DevicePlan
from baluarte.secrets import resolve
from baluarte.transports.fortios import (
    Envelope,
    FortiOSAuthError,
    FortiOSClient,
    FortiOSError,
    SessionAuth,
    TlsVerificationFailed,
    TokenAuth,
    tls_context,
)
from checks.device_errors import plain_device_error, settings_error
from checks.fortigate.endpoints import endpoints_for
from checks.fortigate.parse import collected
from checks.fortigate.snapshot import ConfigBackup, Endpoint, FortiSnapshot

__all__ = ["BACKUP_CONTROL", "DOMAINS", "client_for", "collect", "collect_unit", "fetch"]

DOMAINS = ("patching", "firewall", "backup", "access", "logging")
BACKUP_CONTROL = "backup.config_saved"

log = logging.getLogger(__name__)


def client_for(device: Device, *, timeout: float = 30.0) -> FortiOSClient:
    """A client for one FortiGate, its secret read now. Raises InputError (code tells which)."""
    settings = device.fortios
    if settings is None:
        raise InputError(
            "no fortios settings: a FortiGate needs a token, or a username and password",
            code="missing_key",
            key="fortios",
        )
    auth: TokenAuth | SessionAuth
    if settings.token is not None:
        auth = TokenAuth(resolve(settings.token))
    elif settings.username is not None and settings.password is not None:
        auth = SessionAuth(settings.username, resolve(settings.password))
    else:  # the inventory model refuses this already
        raise InputError("fortios needs a token, or a username and password", code="missing_key")
    ca_bundle = settings.ca_bundle.expanduser() if settings.ca_bundle is not None else None
    return FortiOSClient(
        device.address,
        device.port or 443,
        auth=auth,
        vdom=settings.vdom,
        tls=tls_context(ca_bundle, verify=settings.verify),
        connect_timeout=min(10.0, timeout),
        read_timeout=min(30.0, timeout),
    )


def collect(
    plans: Sequence[DevicePlan], options: CollectOptions
) -> Iterator[tuple[DeviceRef, Collected | DeviceError]]:
    """Yield each unit with its facts, or the reason it could not be checked, as units finish."""
    for device_plan, result in stream(
        plans, lambda p: collect_unit(p, options), parallel=options.parallel
    ):
        yield device_plan.ref, result


async def collect_unit(device_plan: DevicePlan, options: CollectOptions) -> Collected | DeviceError:
    """One unit's facts, or why it could not be checked."""
    started = time.monotonic()
    try:
        client = client_for(device_plan.ref.device, timeout=options.command_timeout)
    except InputError as exc:
        return settings_error(exc)
    try:
        async with asyncio.timeout(options.command_timeout):
            snapshot = await _read_unit(client, device_plan, options)
        seconds = time.monotonic() - started
        found = collected(snapshot, round_trips=client.request_count, seconds=seconds)
        return found.masked(Masker(client.secrets()))
    except TimeoutError:
        return TimedOut(f"the unit did not answer within {options.command_timeout:g} s")
    except TlsVerificationFailed as exc:
        return Unreachable(f"{exc} (set fortios.ca_bundle to the unit's CA)")
    except DeviceError as exc:
        # the unit's own words may echo the credential it was sent
        plain = plain_device_error(exc)
        return type(plain)(Masker(client.secrets())(str(plain)))
    except Exception as exc:  # a bug of ours must not cost the other units their results
        log.exception("collecting %s failed", device_plan.ref.key)
        return DeviceError(f"internal error while collecting: {type(exc).__name__}: {exc}")


@dataclass
class _Reads:
    """What one unit answered so far."""

    cmdb: dict[str, Any] = field(default_factory=dict)
    monitor: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


async def _read_unit(
    client: FortiOSClient, device_plan: DevicePlan, options: CollectOptions
) -> FortiSnapshot:
    ids = [p.control.id for p in device_plan.controls]
    endpoints = endpoints_for(ids)
    first = [e for e in endpoints if e.needed is None]
    lookups = [e for e in endpoints if e.needed is not None]
    reads = _Reads()
    backup: ConfigBackup | None = None
    backup_problem: str | None = None
    backup_refused = False
    async with client:  # logs in: a refusal fails the whole unit
        if first:
            # The first answer proves connection and credentials; a failure there is the unit's.
            await _read(client, first[0], reads, strict=True)
            await asyncio.gather(*(_read(client, e, reads) for e in first[1:]))
        for endpoint in lookups:  # one by one: an answer can make a later look-up moot
            if _needed(endpoint, reads.cmdb):
                await _read(client, endpoint, reads)
        if BACKUP_CONTROL in ids:
            backup, backup_problem, backup_refused = await _take_backup(
                client, device_plan.ref, options.artifacts, strict=not first
            )
        if not client.version:  # no envelope said it (every answer was an HTML error page)
            await _read(client, Endpoint("monitor", "system/status", True), _Reads(), strict=True)
    if not client.version:
        raise BadAnswer("the unit did not state its FortiOS version in any answer")
    settings = device_plan.ref.device.fortios
    return FortiSnapshot(
        version=client.version,
        build=client.build,
        serial=client.serial,
        vdom=settings.vdom if settings is not None else client.vdom,
        cmdb=reads.cmdb,
        monitor=reads.monitor,
        problems=reads.problems,
        config_backup=backup,
        config_backup_problem=backup_problem,
        config_backup_refused=backup_refused,
    )


def _needed(endpoint: Endpoint, cmdb: Mapping[str, Any]) -> bool:
    assert endpoint.needed is not None
    try:
        return endpoint.needed(cmdb)
    except Exception:  # a look-up we cannot rule out is read
        log.debug("needed() of %s failed; reading it", endpoint.key, exc_info=True)
        return True


async def fetch(client: FortiOSClient, endpoint: Endpoint) -> Envelope:
    """GET one endpoint (cmdb or monitor, global or the unit's VDOM)."""
    if endpoint.scope == "cmdb":
        return await client.get_cmdb(endpoint.path, global_scope=endpoint.global_scope)
    return await client.get_monitor(endpoint.path, global_scope=endpoint.global_scope)


async def _read(
    client: FortiOSClient, endpoint: Endpoint, reads: _Reads, *, strict: bool = False
) -> None:
    """GET one endpoint into ``reads``; its failure becomes a problem unless ``strict``."""
    try:
        env = await fetch(client, endpoint)
    except FortiOSAuthError:
        raise  # refused credentials or a lockout: nothing else will be answered either
    except (Unreachable, TimedOut) as exc:
        if strict:
            raise
        reads.problems[endpoint.key] = f"the unit did not answer: {exc}"
        return
    except FortiOSError as exc:
        reads.problems[endpoint.key] = exc.reason
        return
    if env.results is None:
        reads.problems[endpoint.key] = "the answer carries no results"
        return
    (reads.cmdb if endpoint.scope == "cmdb" else reads.monitor)[endpoint.path] = env.results


async def _take_backup(
    client: FortiOSClient, ref: DeviceRef, artifacts: Path, *, strict: bool
) -> tuple[ConfigBackup | None, str | None, bool]:
    """The unit's configuration file, kept under ``artifacts``; else (None, why, refused?).

    ``refused``: the unit answered 403 — the API user's profile may not take backups.
    """
    try:
        data = await client.backup_config("global")
    except FortiOSAuthError:
        raise
    except (Unreachable, TimedOut) as exc:
        if strict:
            raise
        return None, f"the configuration backup failed: {exc}", False
    except FortiOSError as exc:
        if exc.http_status == 403:
            why = (
                f"the unit refused the configuration backup: {exc.reason} — allow the API user's"
                " profile to run backups (System > Maintenance)"
            )
            return None, why, True
        return None, f"the configuration backup failed: {exc.reason}", False
    taken_at = datetime.now(UTC)
    header = data.lstrip().split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    if not header.startswith("#config-version="):
        return (
            None,
            "the unit's answer is not a configuration file (no #config-version= header)",
            False,
        )
    digest = hashlib.sha256(data).hexdigest()
    folder = artifacts / "fortigate" / ref.client_name / ref.site_name / ref.name
    try:
        path = _write_private(folder, f"{taken_at:%Y%m%dT%H%M%SZ}-{digest[:12]}.conf", data)
    except OSError as exc:
        return (
            None,
            f"the configuration backup could not be written to {folder}: {exc.strerror}",
            False,
        )
    return (
        ConfigBackup(
            sha256=digest,
            size=len(data),
            taken_at=taken_at,
            path=str(path),
            scope="global",
            header=header,
        ),
        None,
        False,
    )


def _write_private(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` readable by us only: directories 0700, the file 0600."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkdir's mode applies to new directories only: tighten the ones that hold backups.
    for part in (folder, *list(folder.parents)[:3]):
        os.chmod(part, 0o700)
    path = (folder / name).absolute()
    write_private(path, data)  # all or nothing: a failed write leaves no file
    return path
