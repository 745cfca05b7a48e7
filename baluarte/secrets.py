"""Credential references: inputs name where a secret lives, never the secret itself.

A reference is one of::

    env:ACME_FW_TOKEN          an environment variable
    file:~/.secrets/acme-fw    a file's contents (one trailing newline dropped; ~ expanded)
    keyring:baluarte/acme      the system keyring: SERVICE/USER

``SecretRef`` is the pydantic field type for every credential (password, token, passphrase,
API key). A literal string is refused with code ``literal_secret`` and a message that shows how
to reference it — never the string itself. ``resolve()`` reads the secret only when called and
registers the value for masking (``baluarte.masking.register_secret``), so it is masked in every
message, log line, finding and report from then on.

A ``file:`` secret must be a plain secret file: a regular file of at most
``MAX_SECRET_FILE_BYTES`` bytes, holding one line (no NUL byte), that other users cannot read
(no ``o+r``). Anything else (``file:/etc/shadow``, a log, a world-readable copy) is refused with
code ``secret_not_plain`` — when the inventory or policy is validated, if the file is there
then, and again when it is read — and the refusal never quotes the file's contents. Private
key files (``KeyFileRef``) are read by the SSH library and are not held to this.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

from baluarte.errors import InputError
from baluarte.masking import register_secret

__all__ = [
    "MAX_SECRET_FILE_BYTES",
    "SCHEMES",
    "SECRET_KEYS",
    "KeyFileRef",
    "SecretRef",
    "plain_secret_problem",
    "resolve",
]

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

# Tokens, passwords and passphrases are far shorter; a bigger file is not a secret file (a log,
# a database, /dev/zero) and is refused before it is read.
MAX_SECRET_FILE_BYTES = 8192

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

    def refuse_unplain_file(self) -> None:
        """At validation: refuse a ``file:`` secret that is there but is not a plain secret.

        A file missing now is left to ``resolve`` (it may only exist where the check runs).
        """
        if self.scheme != "file":
            return
        problem = plain_secret_problem(self.path, must_exist=False)
        if problem:
            raise PydanticCustomError("secret_not_plain", _not_plain(self, problem))

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
            ref = cls.parse(value)
            ref.refuse_unplain_file()
            return ref

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(str),
            json_schema_input_schema=core_schema.str_schema(),
        )


class KeyFileRef(SecretRef):
    """A private key file: only ``file:PATH`` (the SSH library reads the file itself)."""

    allowed_schemes: ClassVar[tuple[str, ...]] = ("file",)

    def refuse_unplain_file(self) -> None:
        """A key file holds many lines by nature; the SSH library judges its permissions."""

    @classmethod
    def _refusal(cls) -> str:
        return 'reference the private key file as "file:~/.ssh/id_ed25519"'


def resolve(ref: SecretRef) -> str:
    """Read the secret ``ref`` names and register it for masking.

    Raises InputError naming the reference, never a value.
    """
    value = _read(ref)
    register_secret(value)
    return value


def _read(ref: SecretRef) -> str:
    if ref.scheme == "env":
        value = os.environ.get(ref.target)
        if value is None:
            raise _unavailable(ref, f"environment variable {ref.target} is not set")
        return value
    if ref.scheme == "file":
        return _from_file(ref)
    if ref.scheme == "keyring":
        return _from_keyring(ref)
    raise _unavailable(ref, f"unknown scheme {ref.scheme!r}")


def _from_file(ref: SecretRef) -> str:
    path = ref.path
    if not isinstance(ref, KeyFileRef):
        try:
            problem = plain_secret_problem(path, must_exist=True)
        except FileNotFoundError as exc:
            raise _unavailable(ref, f"no such file {path}") from exc
        if problem:
            raise InputError(_not_plain(ref, problem), code="secret_not_plain")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise _unavailable(ref, f"no such file {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise _unavailable(ref, f"cannot read {path}: {type(exc).__name__}") from exc
    return _one_line(text)


def _one_line(text: str) -> str:
    # Editors end files with a newline; it is never part of the secret.
    return text.removesuffix("\n").removesuffix("\r")


def plain_secret_problem(path: Path, *, must_exist: bool) -> str | None:
    """Why ``path`` is not a plain secret file, or None. Never quotes what the file holds.

    ``must_exist``: a missing file raises FileNotFoundError; otherwise it is no problem (and
    neither is a file this user may not read: ``resolve`` reports that where it runs).
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        if must_exist:
            raise
        return None
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file"
    if info.st_size > MAX_SECRET_FILE_BYTES:
        return (
            f"it holds {info.st_size} bytes, more than the {MAX_SECRET_FILE_BYTES} a secret file"
            " may hold"
        )
    if info.st_mode & stat.S_IROTH:
        return (
            f"every user of this machine can read it (mode {stat.S_IMODE(info.st_mode):04o});"
            f" make it private: chmod 600 {path}"
        )
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_SECRET_FILE_BYTES + 1)
    except OSError:
        return None
    text = _one_line(raw.decode("utf-8", "replace"))
    if "\x00" in text:
        return "it holds a NUL byte: it is not a text secret"
    lines = len(text.splitlines())
    if lines > 1:
        return f"it holds {lines} lines; a secret file holds the secret alone, on one line"
    return None


def _not_plain(ref: SecretRef, problem: str) -> str:
    return f"secret {ref} is not a plain secret file: {problem}"


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
