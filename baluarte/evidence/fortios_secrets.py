"""Secret values of a FortiOS configuration file, masked before a pack shows the file.

A backup is read statement by statement (``config``/``end`` tracked, so a setting is known by
its table), and a ``set`` value is masked when it is a secret:

- any value FortiOS stored encrypted or hashed (``ENC …``: admin password hashes, PSKs, RADIUS
  and LDAP secrets, SNMPv3 keys, API keys) and any PEM private key;
- the value of a secret attribute (``password``, ``psksecret``, ``secret``, ``passphrase``,
  ``*-pwd``, ``api-key``, ``key``…) even in plain text;
- an SNMP community's name (``config system snmp community``): the name is the secret.

Settings about secrets are what an auditor reads, so they stay: a value that is ``enable`` or
``disable`` is never masked (``set reuse-password enable``, ``set admin-ssh-password enable``,
``set force-password-change disable``), nor a key that only names a password's rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["MASK", "MaskedValue", "mask_config", "masked_values"]

MASK = "********"

# One value: a quoted string (FortiOS quotes keep newlines, e.g. a PEM key) or a bare word.
_VALUE = r'"(?:[^"\\]|\\.)*"|\S+'
_STATEMENT = re.compile(
    r"^[ \t]*(?:"
    r"config[ \t]+(?P<table>[^\n]*?)"
    r"|(?P<end>end)"
    rf"|set[ \t]+(?P<key>\S+)[ \t]+(?P<value>(?:{_VALUE})(?:[ \t]+(?:{_VALUE}))*)"
    r")[ \t]*$",
    re.MULTILINE,
)
# Attributes whose value is a secret: the whole name, or its last words after a hyphen.
_SECRET_NAMES = (
    "password",
    "passwd",
    "pwd",
    "psksecret",
    "psksecret-remote",
    "secret",
    "passphrase",
    "private-key",
    "api-key",
    "secret-key",
    "key",
    "key-string",
)
_SECRET_KEY = re.compile(r"^(?:\w+-)*?(?:" + "|".join(map(re.escape, _SECRET_NAMES)) + r")$")
_PUBLIC = re.compile(r"public-key\w*$")  # ssh-public-key1: a public key is no secret
# Values that switch a setting: never a secret, whatever the attribute is called.
_SWITCHES = frozenset({"enable", "disable"})
# Tables whose entries' ``name`` is itself the secret.
_SECRET_NAME_TABLES = frozenset({"system snmp community"})
_ENC = re.compile(r"\bENC\s+[^\s\"]+")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


@dataclass(frozen=True)
class MaskedValue:
    """One masked value: the table it is in (``system admin``) and the attribute."""

    table: str
    key: str


def mask_config(text: str) -> str:
    """A FortiOS configuration with every secret value replaced by ``********``."""
    out: list[str] = []
    last = 0
    for start, end, shown, _ in _secrets(text):
        out += [text[last:start], shown]
        last = end
    rest = text[last:]
    # ENC … anywhere else too (a comment quoting one): masking too much is the safe side
    return _ENC.sub("ENC " + MASK, "".join(out) + rest)


def masked_values(text: str) -> list[MaskedValue]:
    """Which values ``mask_config`` masks in a ``set`` statement, in file order."""
    return [masked for _, _, _, masked in _secrets(text)]


def _secrets(text: str) -> Iterator[tuple[int, int, str, MaskedValue]]:
    """(start, end, replacement, what) of every secret ``set`` value, in file order."""
    tables: list[str] = []
    for m in _STATEMENT.finditer(text):
        if m["table"] is not None:
            tables.append(m["table"].strip())
        elif m["end"] is not None:
            if tables:
                tables.pop()
        else:
            table = tables[-1] if tables else ""
            value = m["value"]
            if _is_secret(table, m["key"], value):
                shown = "ENC " + MASK if value.startswith("ENC ") else MASK
                yield m.start("value"), m.end("value"), shown, MaskedValue(table, m["key"])


def _is_secret(table: str, key: str, value: str) -> bool:
    if value.strip('"') in _SWITCHES:
        return False
    if value.startswith("ENC ") or _PRIVATE_KEY.search(value):
        return True
    if key == "name":
        return table in _SECRET_NAME_TABLES
    return _SECRET_KEY.match(key) is not None and not _PUBLIC.search(key)
