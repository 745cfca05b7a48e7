"""The request log tests count: one entry per HTTP request, WS-Man action and ids, no secrets.

The ``Authorization`` header keeps its scheme only (``Negotiate ***``, ``Basic ***``); bodies
are not logged (they carry the scripts, which ``WindowsLab.scripts`` keeps on purpose).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["MASK", "LoggedRequest", "mask_authorization"]

MASK = "***"


@dataclass(frozen=True)
class LoggedRequest:
    action: str | None  # WS-Man action name ("Receive"…); None for auth legs and refusals
    shell_id: str | None
    command_id: str | None
    status: int  # HTTP status; 0 when the connection was dropped without an answer
    authorization: str  # scheme + mask, "" when the request had none
    encrypted: bool  # the body was MS-WSMV message-encrypted
    reply_bytes: int  # size of the answer's SOAP envelope before encryption (0: none)
    peer: str
    at: datetime


def mask_authorization(value: str | None) -> str:
    if not value:
        return ""
    scheme = value.split(" ", 1)[0] if " " in value else ""
    return f"{scheme} {MASK}".strip()
