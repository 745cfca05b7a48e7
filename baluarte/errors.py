"""Baluarte's one error tree.

    BaluarteError
    ├── InputError          bad inventory, policy, waiver or usage (exit 2); file:line:column
    │   └── InputErrors     several InputError found in one pass (validate shows them all)
    ├── DeviceError         a device could not be checked: an ``error`` finding (exit 3)
    │   ├── Unreachable
    │   ├── AuthFailed
    │   ├── TimedOut
    │   └── BadAnswer       the device answered something we cannot parse
    ├── RemediationError
    ├── StoreError
    └── LabError            the lab (test hosts, images, emulators) could not be built or run

Only ``baluarte.cli.app`` catches ``BaluarteError`` and prints it without a traceback::

    try:
        run = check(...)
    except InputError as exc:
        print(exc)            # "policies/x.yaml:3:5: patching.foo: unknown key ..."

Messages never contain secrets: they name references (``env:ACME_FW_TOKEN``), not values; and
``str()`` of every BaluarteError masks each secret resolved in this process (a library may
quote a value it was given, as httpx does a bad header), see ``baluarte.masking``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from baluarte.masking import mask_secrets

__all__ = [
    "AuthFailed",
    "BadAnswer",
    "BaluarteError",
    "DeviceError",
    "InputError",
    "InputErrors",
    "LabError",
    "RemediationError",
    "StoreError",
    "TimedOut",
    "Unreachable",
]


class BaluarteError(Exception):
    """Root of every error Baluarte raises on purpose."""

    def __str__(self) -> str:
        return mask_secrets(super().__str__())


class InputError(BaluarteError):
    """Bad input: a file, a key or a command-line value. Always names where and what is allowed.

    ``code`` is stable (documented in docs/errors.md): yaml_syntax, tab, empty_file, missing_file,
    unreadable_file, unknown_key, wrong_type, missing_key, duplicate_name, duplicate_key,
    unknown_extends, extends_cycle, literal_secret, unknown_control, unknown_reference, usage,
    not_utf8, wrong_value, platform_mismatch, secret_unavailable, secret_not_plain, json_syntax,
    plan_edited, plan_stale, impossible_date, file_too_large.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        file: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
        allowed: str | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.file = str(file) if file is not None else None
        self.line = line
        self.column = column
        self.key = key
        self.allowed = allowed
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        key = f"{self.key}: " if self.key else ""
        allowed = f" (allowed: {self.allowed})" if self.allowed else ""
        return mask_secrets(f"{where}{key}{self.message}{allowed}")


class InputErrors(InputError):
    """Several input errors found in one pass; each is reported."""

    def __init__(self, errors: Iterable[InputError]) -> None:
        self.errors: Sequence[InputError] = list(errors)
        first = self.errors[0] if self.errors else None
        super().__init__(
            "\n".join(str(e) for e in self.errors),
            code=first.code if first else "usage",
        )

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)  # each masks its own


class DeviceError(BaluarteError):
    """A device could not be checked; becomes ``error`` findings with this reason."""


class Unreachable(DeviceError):
    """No connection: refused, no route, DNS failure, host key mismatch."""


class AuthFailed(DeviceError):
    """The device refused the credentials."""


class TimedOut(DeviceError):
    """The device did not answer in time."""


class BadAnswer(DeviceError):
    """The device answered, but not in the shape the collector expects."""


class RemediationError(BaluarteError):
    """A change could not be made or verified."""


class StoreError(BaluarteError):
    """The run store could not be read or written."""


class LabError(BaluarteError):
    """The lab (images, hosts, local repositories, emulators) could not be built or torn down."""
