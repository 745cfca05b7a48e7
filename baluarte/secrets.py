"""Credential references: inputs name where a secret lives, never the secret itself.

A reference is one of::

    env:ACME_FW_TOKEN          an environment variable
    file:~/.secrets/acme-fw    a file's contents (one trailing newline dropped; ~ expanded)
    keyring:baluarte/acme      the system keyring: SERVICE/USER

``SecretRef`` is the pydantic field type for every credential (password, token, passphrase,
API key). A literal string is refused with code ``literal_secret`` and a message that shows how
to reference it — never the string itself. ``resolve()`` reads the secret only when called.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

from baluarte.errors import InputError

__all__ = ["SCHEMES", "SECRET_KEYS", "KeyFileRef", "SecretRef", "resolve"]

SCHEMES: tuple[str, ...] = ("env", "file", "keyring")

# Keys whose values are never echoed in an error message, wherever they appear.
SECRET_KEYS: frozenset[str] = frozenset(
    {
        "password",
        "token",
        "key_passphrase",
        "sudo_password",
        "api_key",
        "secret",
        "passphrase",
        "ansible_password",
        "ansible_ssh_pass",
        "ansible_become_password",
        "ansible_become_pass",
        "ansible_ssh_private_key_passphrase",
        "fortios_access_token",
    }
)

_HOW = (
    'use "env:ACME_FW_TOKEN", "file:/path/to/secret" or "keyring:service/user"'
    " instead of the secret itself"
)


@dataclass(frozen=True)
class SecretRef:
    """Where a secret lives (``env:NAME``, ``file:PATH``, ``keyring:SERVICE/USER``)."""

    scheme: str
    target: str

    allowed_schemes: ClassVar[tuple[str, ...]] = SCHEMES

    def __str__(self) -> str:
        return f"{self.scheme}:{self.target}"

    @property
    def path(self) -> Path:
        """The file a ``file:`` reference names, with ``~`` expanded."""
        if self.scheme != "file":
            raise ValueError(f"{self} is not a file: reference")
        return Path(self.target).expanduser()

    @classmethod
    def parse(cls, text: str) -> SecretRef:
        """Parse a reference; raises PydanticCustomError without echoing ``text``."""
        scheme, sep, target = text.partition(":")
        if not sep or scheme not in SCHEMES:
            raise PydanticCustomError("literal_secret", cls._refusal())
        if scheme not in cls.allowed_schemes:
            raise PydanticCustomError("wrong_value", cls._refusal())
        if not target.strip():
            raise PydanticCustomError(
                "wrong_value", f"the {scheme}: reference names nothing after the colon"
            )
        if scheme == "keyring":
            service, slash, user = target.partition("/")
            if not slash or not service or not user:
                raise PydanticCustomError(
                    "wrong_value", "a keyring reference is keyring:SERVICE/USER"
                )
        return cls(scheme=scheme, target=target)

    @classmethod
    def _refusal(cls) -> str:
        return f"credentials must be referenced, not written here: {_HOW}"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> SecretRef:
            if isinstance(value, cls):
                return value
            if not isinstance(value, str):
                # Numbers and the like are literal secrets too (a YAML password: 123456).
                raise PydanticCustomError("literal_secret", cls._refusal())
            return cls.parse(value)

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(str),
            json_schema_input_schema=core_schema.str_schema(),
        )


class KeyFileRef(SecretRef):
    """A private key file: only ``file:PATH`` (the SSH library reads the file itself)."""

    allowed_schemes: ClassVar[tuple[str, ...]] = ("file",)

    @classmethod
    def _refusal(cls) -> str:
        return 'reference the private key file as "file:~/.ssh/id_ed25519"'


def resolve(ref: SecretRef) -> str:
    """Read the secret ``ref`` names. Raises InputError naming the reference, never a value."""
    if ref.scheme == "env":
        value = os.environ.get(ref.target)
        if value is None:
            raise _unavailable(ref, f"environment variable {ref.target} is not set")
        return value
    if ref.scheme == "file":
        try:
            text = ref.path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise _unavailable(ref, f"no such file {ref.path}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise _unavailable(ref, f"cannot read {ref.path}: {type(exc).__name__}") from exc
        # Editors end files with a newline; it is never part of the secret.
        return text.removesuffix("\n").removesuffix("\r")
    if ref.scheme == "keyring":
        return _from_keyring(ref)
    raise _unavailable(ref, f"unknown scheme {ref.scheme!r}")


def _from_keyring(ref: SecretRef) -> str:
    import keyring  # slow to import; only when a keyring reference is resolved
    import keyring.errors

    service, _, user = ref.target.partition("/")
    try:
        value: str | None = keyring.get_password(service, user)
    except keyring.errors.KeyringError as exc:
        raise _unavailable(ref, f"the system keyring failed: {type(exc).__name__}") from exc
    if value is None:
        raise _unavailable(ref, f"no keyring entry for service {service!r}, user {user!r}")
    return value


def _unavailable(ref: SecretRef, why: str) -> InputError:
    return InputError(f"secret {ref} cannot be read: {why}", code="secret_unavailable")
