"""Masking secrets out of text before anything keeps or shows it.

Two layers. A device may echo what it was given (a shell's error naming its command line, a
tool printing its arguments), so every text from a device passes through the ``Masker`` of the
secrets that device was sent. And every secret Baluarte resolves is registered once, process
wide (``register_secret``, called by ``baluarte.secrets.resolve``): ``mask_secrets`` masks all
of them, and every ``Masker``, every ``BaluarteError`` message, every log record (see
``install_log_masking``), the CLI's error printer and the store's finding writer consult it.

A secret is masked as written and in the other shapes text takes on its way out: escaped in a
JSON string, URL-encoded, inside a Python ``repr`` of the text or of its UTF-8 bytes (what
libraries print, e.g. ``Illegal header value b'Bearer …'``), and line by line when the secret
spans several lines.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "Masker",
    "forget_secrets",
    "install_log_masking",
    "mask_secrets",
    "mask_url_credentials",
    "register_secret",
    "url_password",
]

MASK = "***"

# A line of a multi-line secret is masked on its own only from this length: a shorter piece
# (a lone "}" or "ok") would mask ordinary words everywhere and hide nothing worth hiding.
_MIN_LINE = 6

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


def _forms(secret: str) -> set[str]:
    """The shapes ``secret`` may take in text that reaches a person or a file."""
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        repr(secret)[1:-1],
        repr(_utf8(secret))[2:-1],
    }
    lines = secret.splitlines()
    if len(lines) > 1:
        for line in lines:
            if len(line.strip()) >= _MIN_LINE:
                forms |= _forms(line.strip())
    return {f for f in forms if f}


def _utf8(text: str) -> bytes:
    # an environment value may hold undecodable bytes (os.environ keeps them as surrogates)
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _longest_first(forms: Iterable[str]) -> tuple[str, ...]:
    # a secret containing another is masked whole, not in part
    return tuple(sorted(set(forms), key=lambda f: (-len(f), f)))


class _Registry:
    """Every secret value resolved in this process (thread-safe; values are never listed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self.forms: tuple[str, ...] = ()

    def add(self, secret: str) -> None:
        with self._lock:
            if secret in self._secrets:
                return
            self._secrets.add(secret)
            self.forms = _longest_first((*self.forms, *_forms(secret)))

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self.forms = ()


_REGISTRY = _Registry()


def register_secret(secret: str | None) -> None:
    """Mask ``secret`` from now on in everything this process shows, logs or stores."""
    if secret:
        _REGISTRY.add(secret)


def forget_secrets() -> None:
    """Drop every registered secret (tests that need a clean process-wide state)."""
    _REGISTRY.clear()


def _replace(text: str, forms: Iterable[str]) -> str:
    for form in forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


def mask_secrets(text: str) -> str:
    """``text`` with every registered secret, in every shape, replaced by ``***``."""
    return _replace(text, _REGISTRY.forms) if _REGISTRY.forms else text


class Masker:
    """Replaces the secrets it was given, and every registered one, with ``***``."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms |= _forms(secret)
        self.forms = _longest_first(forms)
        self._merged: tuple[tuple[str, ...], tuple[str, ...]] = ((), self.forms)

    def __bool__(self) -> bool:
        """Whether it was given a secret of its own (the registry is consulted regardless)."""
        return bool(self.forms)

    def __call__(self, text: str) -> str:
        registered = _REGISTRY.forms
        seen, merged = self._merged
        if seen is not registered:  # merged again only when a secret was registered since
            merged = _longest_first((*self.forms, *registered))
            self._merged = (registered, merged)
        return _replace(text, merged)


_installed = False
_install_lock = threading.Lock()


def install_log_masking() -> None:
    """Mask registered secrets in every log record this process makes, whatever its handler.

    A record factory, not a filter on one logger: filters do not see records that propagate
    from child loggers, and a handler added later (by a library) would miss a handler filter.
    The message is rendered and masked when the record is made (only for enabled levels), and
    so is the traceback of ``log.exception``; formatters use the text already there.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        _installed = True
        make = logging.getLogRecordFactory()

        def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make(*args, **kwargs)
            if not _REGISTRY.forms:
                return record
            try:
                message = record.getMessage()
            except Exception:  # a bad format string: the handler reports it, as it would
                return record
            record.msg, record.args = mask_secrets(message), None
            if record.exc_info and not record.exc_text:
                record.exc_text = mask_secrets(logging.Formatter().formatException(record.exc_info))
            if record.stack_info:
                record.stack_info = mask_secrets(record.stack_info)
            return record

        logging.setLogRecordFactory(masked)
