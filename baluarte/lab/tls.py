"""The emulator's TLS: a lab CA (kept in ``cert_dir``, reused when present) and a leaf per run.

``cert_dir/ca.pem`` is what clients verify against; ``ca-key.pem`` (mode 0600) stays beside it
so later runs reuse the same CA and a provider can trust it once. The leaf certificate names
127.0.0.1, localhost, ::1 and the listening host; its key never touches ``cert_dir``.
EC P-256 keys keep start-up fast (the benchmark starts 50 emulators).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import ipaddress
import os
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from baluarte.errors import LabError

__all__ = ["CA_FILE", "CA_KEY_FILE", "LabCA", "load_or_create_ca", "server_context"]

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"


class LabCA:
    def __init__(self, cert: x509.Certificate, key: CertificateIssuerPrivateKeyTypes, path: Path):
        self.cert = cert
        self.key = key
        self.path = path  # the CA certificate (PEM)


def load_or_create_ca(cert_dir: Path) -> LabCA:
    """The CA in ``cert_dir`` (created once, under a lock so parallel starts agree)."""
    cert_dir.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = cert_dir / CA_FILE, cert_dir / CA_KEY_FILE
    with open(cert_dir / ".ca.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cert_path.exists() and key_path.exists():
            return _load(cert_path, key_path)
        if cert_path.exists() or key_path.exists():
            # never overwrite half of someone's CA
            raise LabError(f"{cert_dir}: holds only one of {CA_FILE} and {CA_KEY_FILE}")
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Baluarte lab FortiGate CA")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        _write(key_path, _key_pem(key), 0o600)
        _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        return LabCA(cert, key, cert_path)


def server_context(ca: LabCA, host: str) -> ssl.SSLContext:
    """A server-side context holding a fresh leaf certificate signed by ``ca``."""
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    try:
        extra: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        extra = x509.DNSName(host)
    if extra not in names:
        names.append(extra)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FortiGate")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
        )
        .sign(ca.key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # load_cert_chain reads files only: a private directory, removed right after
    with tempfile.TemporaryDirectory(prefix="baluarte-fgt-leaf-") as tmp:
        chain, key_file = Path(tmp) / "leaf.pem", Path(tmp) / "leaf-key.pem"
        _write(key_file, _key_pem(key), 0o600)
        _write(chain, cert.public_bytes(serialization.Encoding.PEM), 0o600)
        context.load_cert_chain(chain, key_file)
    return context


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip


def _key_pem(key: CertificateIssuerPrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _load(cert_path: Path, key_path: Path) -> LabCA:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise LabError(f"{cert_path.parent}: cannot reuse the lab CA ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise LabError(f"{key_path}: the lab CA key must be an EC or RSA key")
    return LabCA(cert, key, cert_path)
