"""The TLS context a FortiOS client verifies a unit's certificate with."""

from __future__ import annotations

import ssl
from pathlib import Path

from baluarte.errors import InputError

__all__ = ["cert_failure", "tls_context"]


def tls_context(ca_bundle: str | Path | None = None, *, verify: bool = True) -> ssl.SSLContext:
    """Verification on, against ``ca_bundle`` (PEM) or the system CAs; TLS 1.2 at least.

    Built explicitly so SSL_CERT_FILE, REQUESTS_CA_BUNDLE and friends cannot change it.
    ``verify=False`` (the inventory's ``verify: false``) turns checking off entirely.
    Raises InputError when the bundle cannot be read.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if ca_bundle is not None:
        try:
            ctx.load_verify_locations(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise InputError(
                f"CA bundle {ca_bundle} cannot be read: {why}",
                code="unreadable_file",
                file=ca_bundle,
            ) from exc
        return ctx
    # The compiled-in system store — not the one SSL_CERT_FILE / SSL_CERT_DIR point at.
    paths = ssl.get_default_verify_paths()
    cafile = paths.openssl_cafile if Path(paths.openssl_cafile).is_file() else None
    capath = paths.openssl_capath if Path(paths.openssl_capath).is_dir() else None
    if cafile or capath:
        ctx.load_verify_locations(cafile=cafile, capath=capath)
    else:
        import certifi  # only where OpenSSL has no store of its own

        ctx.load_verify_locations(cafile=certifi.where())
    return ctx


def cert_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification error behind a connection error, if that is what it was."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, ssl.SSLCertVerificationError):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None
