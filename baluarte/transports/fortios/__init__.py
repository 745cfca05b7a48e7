"""FortiOS REST API v2 client on httpx: the only code that speaks HTTP to a FortiGate.

    async with FortiOSClient("10.0.10.1", auth=TokenAuth(token), tls=tls_context(ca)) as fgt:
        policies = (await fgt.get_cmdb("firewall/policy")).results
        async with fgt.transaction():
            await fgt.update("firewall/policy", 7, {"logtraffic": "all"})

Modules: ``_client`` (requests, retries, writes, backup), ``_session`` (token or session login,
renewal, logout), ``_answers`` (the envelope and the error tree), ``_tls`` (the SSL context).
Why our own client rather than fortiosapi: DESIGN.md "Decisions already taken".
"""

from __future__ import annotations

from baluarte.transports.fortios._answers import (
    ERROR_CODES,
    Envelope,
    FortiOSAuthError,
    FortiOSBadAnswer,
    FortiOSError,
    TlsVerificationFailed,
)
from baluarte.transports.fortios._client import RETRY_STATUSES, FortiOSClient
from baluarte.transports.fortios._session import SessionAuth, TokenAuth
from baluarte.transports.fortios._tls import tls_context

__all__ = [
    "ERROR_CODES",
    "RETRY_STATUSES",
    "Envelope",
    "FortiOSAuthError",
    "FortiOSBadAnswer",
    "FortiOSClient",
    "FortiOSError",
    "SessionAuth",
    "TlsVerificationFailed",
    "TokenAuth",
    "tls_context",
]
