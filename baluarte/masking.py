"""Masking secrets out of text a device or a library sends back, before anything keeps it.

A device may echo what it was given (a shell's error naming its command line, a tool printing
its arguments), so every text from a device passes through the masker of the secrets that
device was sent: as written, and as they appear inside a JSON string or a URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote

__all__ = ["MASK", "Masker", "mask_url_credentials", "url_password"]

MASK = "***"

# scheme://user:password@ anywhere in a text. The password runs to the LAST "@" of the
# whitespace-free run (a password with an unencoded "@" or "/" is masked whole; a path holding
# an "@" is masked too: masking too much is the safe side).
_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:\"']*):(?P<pw>[^\s\"']*)@")


def mask_url_credentials(text: str) -> str:
    """Every ``scheme://user:password@`` in ``text`` written ``scheme://user:***@``."""
    return _CREDENTIALS.sub(lambda m: f"{m['head']}:{MASK}@", text)


def url_password(text: str) -> str | None:
    """The password a URL embeds (``rest:https://user:pw@host/``), or None."""
    m = _CREDENTIALS.search(text)
    return m["pw"] if m and m["pw"] else None


class Masker:
    """Replaces each secret (and its JSON-escaped and URL-encoded forms) with ``***``."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            forms.update((secret, json.dumps(secret)[1:-1], quote(secret, safe="")))
        # longest first: a secret containing another is masked whole
        self.forms = sorted((f for f in forms if f), key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self.forms)

    def __call__(self, text: str) -> str:
        for form in self.forms:
            text = text.replace(form, MASK)
        return text
