"""What a FortiOS unit answers: the JSON envelope, and the errors an answer turns into.

    DeviceError (baluarte.errors)
    ├── FortiOSError            an answer with a failing HTTP status or ``status: error``
    │   ├── FortiOSAuthError    (also AuthFailed) 401, refused login, lockout 429, no renewal
    │   └── FortiOSBadAnswer    (also BadAnswer) 2xx but not the JSON envelope expected
    ├── Unreachable
    │   └── TlsVerificationFailed
    └── TimedOut

Messages come from the code tables of reference/fortios.md §1.5 and name method and path,
never a token, password, session key or CSRF token.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from baluarte.errors import AuthFailed, BadAnswer, DeviceError, Unreachable

__all__ = [
    "ERROR_CODES",
    "Dropped",
    "Envelope",
    "FortiOSAuthError",
    "FortiOSBadAnswer",
    "FortiOSError",
    "TlsVerificationFailed",
    "reason_for",
]

# FortiOS CLI return codes seen in the ``error`` member (reference §1.5).
ERROR_CODES: dict[int, str] = {
    -1: "invalid length of value",
    -3: "entry not found",
    -4: "maximum number of entries reached",
    -5: "a duplicate entry already exists",
    -7: "value conflicts with system settings",
    -8: "invalid IP address",
    -9: "invalid netmask",
    -14: "permission denied",
    -15: "duplicate entry found",
    -20: "blank entry",
    -23: "the entry is in use (referenced by another object)",
    -37: "permission denied",
    -49: "the password does not conform to the password policy",
    -50: "input in invalid format",
    -56: "empty values are not allowed",
    -61: "command error",
    -94: "the entry is in use (referenced by another object)",
    -95: "the entry is in use (referenced by another object)",
    -96: "the entry is in use (referenced by another object)",
    -651: "input value is invalid",
}


class Envelope(BaseModel):
    """The JSON wrapper of every FortiOS answer (reference §1.4); unknown members are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    results: Any = None
    revision: str | None = None
    revision_changed: bool | None = None
    status: str | None = None
    http_status: int | None = None
    http_method: str | None = None
    error: int | None = None
    cli_error: str | None = None
    version: str | None = None
    build: int | None = None
    serial: str | None = None
    vdom: str | None = None
    mkey: str | int | None = None

    @field_validator("revision", "version", "serial", "vdom", "cli_error", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        # Monitor answers carry timestamp-like numbers where cmdb answers carry strings.
        return str(value) if isinstance(value, int | float) else value

    @property
    def ok(self) -> bool:
        return self.status == "success"


class FortiOSError(DeviceError):
    """The unit answered a request with an error (HTTP status and/or FortiOS ``error`` code).

    ``reason`` is the message without the request; ``str()`` adds ``[METHOD /api/v2/…]``.
    """

    def __init__(
        self,
        reason: str,
        *,
        method: str,
        path: str,
        http_status: int | None = None,
        error_code: int | None = None,
        mkey: str | int | None = None,
        cli_error: str | None = None,
    ) -> None:
        self.reason = reason
        self.method = method
        self.path = path
        self.http_status = http_status
        self.error_code = error_code
        self.mkey = mkey
        self.cli_error = cli_error
        super().__init__(f"{reason} [{method} {path}]")


class FortiOSAuthError(FortiOSError, AuthFailed):
    """Credentials refused: 401, a failed login, a lockout (429), a session not renewable."""


class FortiOSBadAnswer(FortiOSError, BadAnswer):
    """A 2xx answer that is not the JSON envelope (or the file) expected."""


class TlsVerificationFailed(Unreachable):
    """The unit's TLS certificate did not verify against the trusted CAs."""


class Dropped(Unreachable):
    """The connection was reset or closed before an answer: worth another attempt."""


def reason_for(status: int, code: int | None, *, method: str, token: bool) -> str:
    """A person's reading of an HTTP status and FortiOS error code (reference §1.5)."""
    if status == 401:
        if token:
            return (
                "401: token refused — wrong or revoked token, or this address is not one of"
                " the API user's trusted hosts"
            )
        return "401: session refused — not logged in, or the session expired"
    try:
        head = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        head = f"HTTP {status}"
    known = ERROR_CODES.get(code) if code is not None else None
    if status == 403:
        why = (
            "the API user's profile has no read access to this object"
            if method == "GET"
            else "the API user's profile has no write access to this object, or the CSRF"
            " token is missing"
        )
    elif status == 404:
        why = known or "the unit has no such path or object (not in this FortiOS version?)"
    elif status == 405:
        why = f"the unit does not accept {method} on this path"
    elif status == 429:
        why = "access temporarily blocked after too many failed logins"
    else:
        why = known or "the unit could not carry out the request"
    suffix = f" (FortiOS error {code})" if code is not None else ""
    return f"{head}: {why}{suffix}"
