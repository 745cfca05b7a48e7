"""A TLS-terminating relay in front of the local RabbitMQ, for tests only.

    with TlsRelay(tmp_path) as relay:   # amqps://…@localhost:{relay.port}/vhost, CA relay.ca_file
        ...
        relay.drop()                    # cut every open connection, refuse new ones
        relay.resume()                  # accept again

It listens on 127.0.0.1 at a free port with a certificate for ``localhost`` only (no IP address
in it, so ``127.0.0.1`` fails the host name check) signed by a throwaway CA made here, and
relays the bytes to ``127.0.0.1:5672``. The broker sees a loopback client, so ``guest`` still
logs in. Runs an asyncio loop on a thread of its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["TlsRelay", "make_certificates"]

BROKER = ("127.0.0.1", 5672)
_T = TypeVar("_T")


def make_certificates(folder: Path, host: str = "localhost") -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for ``host`` (a DNS name only) signed by it:
    (CA certificate, server certificate, server key), PEM files in ``folder``."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "baluarte test CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        _builder(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]),
            ca_name,
            key.public_key(),
            now,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_general_name(host)]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_file, cert_file, key_file


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: dt.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


class TlsRelay:
    """TLS on 127.0.0.1:``port`` (certificate for ``localhost``), plain AMQP to the broker."""

    def __init__(self, folder: Path) -> None:
        self.ca_file, cert_file, key_file = make_certificates(folder)
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert_file, key_file)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._refusing = False

    def __enter__(self) -> TlsRelay:
        self._thread.start()
        self.port = self._call(self._listen())
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def drop(self) -> None:
        """Cut every relayed connection (as a lost network would) and refuse new ones."""
        self._call(self._drop())

    def resume(self) -> None:
        self._refusing = False

    @property
    def connections(self) -> int:
        """Relayed connections open now."""
        return len(self._open) // 2

    def _call(self, work: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=10)

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(
            self._relay, "127.0.0.1", 0, ssl=self._context, ssl_handshake_timeout=10
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def _drop(self) -> None:
        self._refusing = True
        for writer in list(self._open):
            writer.transport.abort()

    async def _close(self) -> None:
        await self._drop()
        if self._server is not None:
            self._server.close()

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        if self._refusing:
            client_out.transport.abort()
            return
        try:
            broker_in, broker_out = await asyncio.open_connection(*BROKER)
        except OSError:
            client_out.transport.abort()
            return
        self._open |= {client_out, broker_out}
        try:
            await asyncio.gather(
                _pump(client_in, broker_out), _pump(broker_in, client_out), return_exceptions=True
            )
        finally:
            self._open -= {client_out, broker_out}
            for writer in (client_out, broker_out):
                writer.transport.abort()


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    finally:
        sink.transport.abort()  # one side gone: the other goes too
