"""MS-WSMV message encryption over HTTP: the ``multipart/encrypted`` framing around SOAP.

The framing must match what pypsrp writes and reads byte for byte: a ``--Encrypted Boundary``
part naming the protocol and the plaintext length, then an octet-stream part holding a 4-byte
little-endian signature length, the signature and the sealed data, then the closing boundary.
The sealing itself is the authenticated NTLM/SPNEGO context's ``wrap_winrm``/``unwrap_winrm``.
"""

from __future__ import annotations

import re
import struct
from typing import Protocol

__all__ = ["SPNEGO_PROTOCOL", "EncryptionError", "content_type", "is_encrypted", "unwrap", "wrap"]

SPNEGO_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
_BOUNDARY = b"--Encrypted Boundary"
_OCTET = b"\tContent-Type: application/octet-stream\r\n"
_LENGTH = re.compile(rb"Length=(\d+)")


class EncryptionError(ValueError):
    """The encrypted body is malformed or does not decrypt."""


class _Sealer(Protocol):
    def wrap_winrm(self, data: bytes) -> tuple[bytes, bytes, int]: ...

    def unwrap_winrm(self, header: bytes, data: bytes) -> bytes: ...


def is_encrypted(content_type_header: str) -> bool:
    return content_type_header.lower().startswith("multipart/encrypted")


def content_type() -> str:
    return f'multipart/encrypted;protocol="{SPNEGO_PROTOCOL}";boundary="Encrypted Boundary"'


def unwrap(body: bytes, context: _Sealer) -> bytes:
    parts = [part for part in re.split(rb"--\s*Encrypted Boundary\r\n", body) if part]
    if len(parts) != 2:
        raise EncryptionError("expected one header part and one data part")
    length = _LENGTH.search(parts[0])
    payload = parts[1]
    if length is None or not payload.startswith(_OCTET):
        raise EncryptionError("missing OriginalContent length or octet-stream part")
    payload = re.sub(rb"--\s*Encrypted Boundary--\r\n$", b"", payload[len(_OCTET) :])
    if len(payload) < 4:
        raise EncryptionError("truncated data part")
    header_length = struct.unpack("<i", payload[:4])[0]
    header = payload[4 : 4 + header_length]
    try:
        data = context.unwrap_winrm(header, payload[4 + header_length :])
    except Exception as exc:  # pyspnego raises several types; all mean "does not decrypt"
        raise EncryptionError(f"cannot decrypt ({type(exc).__name__})") from None
    if len(data) != int(length.group(1)):
        raise EncryptionError("decrypted length differs from OriginalContent Length")
    return data


def wrap(message: bytes, context: _Sealer) -> bytes:
    header, sealed, padding = context.wrap_winrm(message)
    return (
        b"\r\n".join(
            [
                _BOUNDARY,
                b"\tContent-Type: " + SPNEGO_PROTOCOL.encode(),
                b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d"
                % (len(message) + padding),
                _BOUNDARY,
                _OCTET,  # ends its own line
            ]
        )
        + struct.pack("<i", len(header))
        + header
        + sealed
        + _BOUNDARY
        + b"--\r\n"
    )
