"""Capture a FortiGate's REST answers as a lab state file, so the emulator can play that unit.

    state, skipped = capture(device)       # device: baluarte.inventory.Device
    Path("fw-hq.json").write_text(json.dumps(state, indent=2))

Read-only: after the login (a POST for a session login; none for a token) it only sends GETs —
every endpoint any FortiGate control may need, plus the tables the safety logic and the
emulator use. The result is exactly the state-file format (``version``, ``build``, ``serial``,
``hostname``, ``model``, ``global``, ``vdoms``, ``monitor``); endpoints the unit refused or does
not have are left out and returned in ``skipped`` (endpoint key → reason). Secrets come back
from FortiOS as ``ENC <base64>``; they are replaced by a fixed placeholder so a captured file
can be shared.
"""

from __future__ import annotations

import asyncio
from typing import Any

from baluarte.controls import catalogue
from baluarte.errors import DeviceError, InputError, TimedOut
from baluarte.inventory import Device
from baluarte.transports.fortios import FortiOSAuthError, FortiOSClient, FortiOSError
from checks.fortigate.collector import client_for, fetch
from checks.fortigate.endpoints import endpoints_for
from checks.fortigate.snapshot import Endpoint

__all__ = ["EXTRA_ENDPOINTS", "capture", "capture_async", "capture_endpoints"]

# Besides what the controls read: who may do what (the emulator binds tokens to api-users),
# HA, DNS and local-in policies (the safety logic of reference §6), the model.
EXTRA_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("cmdb", "system/global", global_scope=True),
    Endpoint("cmdb", "system/accprofile", global_scope=True),
    Endpoint("cmdb", "system/api-user", global_scope=True),
    Endpoint("cmdb", "system/ha", global_scope=True),
    Endpoint("cmdb", "system/dns", global_scope=True),
    Endpoint("cmdb", "firewall/local-in-policy"),
    Endpoint("monitor", "system/status", global_scope=True),
)

REDACTED = "ENC (redacted by baluarte capture)"


def capture_endpoints() -> list[Endpoint]:
    """Every endpoint a capture reads: all FortiGate controls' (look-ups too) and the extras."""
    ids = [c.id for c in catalogue().values() if "fortigate" in c.platforms]
    seen: dict[str, Endpoint] = {}
    for endpoint in (*endpoints_for(ids), *EXTRA_ENDPOINTS):
        seen.setdefault(endpoint.key, endpoint)
    return list(seen.values())


def capture(device: Device, *, timeout: float = 120.0) -> tuple[dict[str, Any], dict[str, str]]:
    """``(state, skipped)`` for one FortiGate. Raises DeviceError / InputError when it cannot."""
    return asyncio.run(capture_async(device, timeout=timeout))


async def capture_async(
    device: Device, *, timeout: float = 120.0
) -> tuple[dict[str, Any], dict[str, str]]:
    if device.fortios is None:
        raise InputError("a FortiGate needs fortios settings to be captured", code="missing_key")
    vdom = device.fortios.vdom
    client = client_for(device, timeout=timeout)
    answers: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    endpoints = capture_endpoints()
    try:
        async with asyncio.timeout(timeout), client:
            # One read first: a refused token or no route fails loudly, not as 30 skips.
            await _read(client, endpoints[0], answers, skipped, strict=True)
            await asyncio.gather(*(_read(client, e, answers, skipped) for e in endpoints[1:]))
    except TimeoutError:
        raise TimedOut(f"the unit did not answer everything within {timeout:g} s") from None
    if not client.version:
        raise DeviceError("the unit did not state its FortiOS version in any answer")
    state: dict[str, Any] = {
        "version": client.version,
        "build": client.build,
        "serial": client.serial,
        "hostname": "",
        "model": "",
        "global": {},
        "vdoms": {vdom: {}},
        "monitor": {},
    }
    for endpoint in endpoints:
        if endpoint.key not in answers:
            continue
        if endpoint.scope == "monitor":
            where = state["monitor"]
        else:
            where = state["global"] if endpoint.global_scope else state["vdoms"][vdom]
        where[endpoint.path] = _redact(answers[endpoint.key])
    state["hostname"], state["model"] = _identity(state)
    return state, skipped


async def _read(
    client: FortiOSClient,
    endpoint: Endpoint,
    answers: dict[str, Any],
    skipped: dict[str, str],
    *,
    strict: bool = False,
) -> None:
    try:
        env = await fetch(client, endpoint)
    except FortiOSAuthError:
        raise
    except FortiOSError as exc:
        skipped[endpoint.key] = exc.reason
        return
    except DeviceError as exc:
        if strict:
            raise
        skipped[endpoint.key] = str(exc)
        return
    if env.results is None:
        skipped[endpoint.key] = "the answer carries no results"
        return
    answers[endpoint.key] = env.results


def _identity(state: dict[str, Any]) -> tuple[str, str]:
    """Hostname (system/global, else system/status) and model (system/status)."""
    system = state["global"].get("system/global")
    status = state["monitor"].get("system/status")
    status = status if isinstance(status, dict) else {}
    hostname = system.get("hostname") if isinstance(system, dict) else None
    hostname = hostname or status.get("hostname") or ""
    model = status.get("model") or ""
    if not model and status.get("model_number"):
        model = f"FGT{status['model_number']}"
    return str(hostname), str(model)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return REDACTED if value.startswith("ENC ") else value
    if isinstance(value, list):
        return [_redact(v) for v in value]
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    return value
