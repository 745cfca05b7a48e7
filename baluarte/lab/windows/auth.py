"""Who may log on to a Windows lab: Basic, and NTLM / Negotiate through pyspnego's acceptor.

``Credentials`` holds one lab's users. A user ``"baluarte"`` may log on as ``baluarte``,
``.\\baluarte`` or ``HOSTNAME\\baluarte`` (a local account); ``"LAB\\baluarte"`` as that or
as ``baluarte``. Kerberos is not emulated (it needs a KDC): Negotiate carries NTLM only.

pyspnego's NTLM acceptor reads its users from the file named by ``NTLM_USER_FILE``, an
environment variable — one per process, so two labs with different users would see each
other's. Each lab therefore writes its own file (smbpasswd format: NT hashes, no passwords;
mode 0600, removed on stop) and names it through a thread-local that pyspnego's lookup is
routed through while that lab's connection thread steps its context (``Credentials.active``).
Other threads and other labs keep seeing their own file or the environment.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Literal

import spnego
import spnego._ntlm as _spnego_ntlm  # the credential-file lookup is routed (module docstring)
from pydantic import SecretStr
from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1
from spnego.channel_bindings import GssChannelBindings

from baluarte.errors import LabError

__all__ = ["AuthMode", "ConnectionAuth", "Credentials"]

AuthMode = Literal["basic", "ntlm", "negotiate"]

_local = threading.local()
_install_lock = threading.Lock()
_installed = False


def _install_lookup() -> None:
    """Route pyspnego's NTLM_USER_FILE lookup through the thread-local (once per process)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        original: Callable[[], str | None] | None = getattr(
            _spnego_ntlm, "_get_credential_file", None
        )
        if original is None:
            raise LabError("this pyspnego has no NTLM credential-file lookup to route (need 0.12)")
        fallback = original

        def lookup() -> str | None:
            path: str | None = getattr(_local, "store", None)
            return path if path is not None else fallback()

        _spnego_ntlm._get_credential_file = lookup
        _installed = True


class Credentials:
    """One lab's users (see the module docstring); ``close()`` removes the NTLM user file."""

    def __init__(self, users: Mapping[str, str], hostname: str) -> None:
        if not users:
            raise LabError("a Windows lab needs at least one user (users={'name': 'password'})")
        # accepted "DOMAIN\\user" / "user", upper-case; SecretStr keeps passwords out of reprs
        self._passwords: dict[str, SecretStr] = {}
        for key, password in users.items():
            if not key or not isinstance(password, str) or not password:
                raise LabError("every Windows lab user needs a name and a non-empty password")
            domain, _, user = key.rpartition("\\")
            domains = {domain} if domain else {".", hostname}
            for name in [user, *(f"{d}\\{user}" for d in domains)]:
                self._passwords[name.upper()] = SecretStr(password)
        self._dir: Path | None = None
        self.store: Path | None = None

    def secrets(self) -> list[str]:
        return sorted({secret.get_secret_value() for secret in self._passwords.values()})

    def __repr__(self) -> str:
        return f"Credentials({len(self._passwords)} accepted names, store={self.store})"

    def check_basic(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = self._passwords.get(user.upper())
        if not sep or expected is None:
            return False
        return hmac.compare_digest(expected.get_secret_value().encode(), password.encode())

    def open_store(self) -> None:
        """Write the NTLM user file (hashes only, 0600, in a private directory)."""
        if self.store is not None:
            return
        _install_lookup()
        self._dir = Path(tempfile.mkdtemp(prefix="baluarte-winlab-"))
        lines = []
        for name, secret in self._passwords.items():
            password = secret.get_secret_value()
            lm, nt = lmowfv1(password).hex().upper(), ntowfv1(password).hex().upper()
            lines.append(f"{name}:0:{lm}:{nt}:[U]:LCT-00000000")
        path = self._dir / "ntlm-users"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        self.store = path

    def close(self) -> None:
        if self._dir is not None:
            with contextlib.suppress(OSError):
                (self._dir / "ntlm-users").unlink()
                self._dir.rmdir()
        self._dir = self.store = None

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """While inside, pyspnego's acceptor in this thread reads this lab's user file."""
        if self.store is None:
            raise LabError("the lab's NTLM user file is not written (lab not started)")
        previous = getattr(_local, "store", None)
        _local.store = str(self.store)
        try:
            yield
        finally:
            _local.store = previous


class ConnectionAuth:
    """The NTLM / SPNEGO acceptor of one TCP connection (auth is per connection in WinRM)."""

    def __init__(
        self, credentials: Credentials, mode: AuthMode, cbt_app_data: bytes | None
    ) -> None:
        self._credentials = credentials
        self._protocol = "ntlm" if mode == "ntlm" else "negotiate"
        # pyspnego's own Python NTLM / SPNEGO, never a system GSSAPI (which would want a keytab)
        self._options = (
            spnego.NegotiateOptions.use_ntlm
            if mode == "ntlm"
            else spnego.NegotiateOptions.use_negotiate
        )
        self._cbt = cbt_app_data
        self.context: spnego.ContextProxy | None = None
        self.complete = False

    def step(self, token: bytes) -> tuple[bool, bytes | None]:
        """Feed one client token: (accepted so far, token to send back). Failure resets."""
        if self.context is None or self.complete:
            self.complete = False
            bindings = (
                GssChannelBindings(application_data=self._cbt) if self._cbt is not None else None
            )
            with self._credentials.active():
                self.context = spnego.server(
                    protocol=self._protocol,
                    channel_bindings=bindings,
                    options=self._options,
                )
        try:
            with self._credentials.active():
                out = self.context.step(token)
        except Exception:  # wrong user/password, bad bindings, malformed token: all are a 401
            self.context, self.complete = None, False
            return False, None
        self.complete = self.context.complete
        return True, out
