"""What every lab emulator's HTTP(S) server shares: listen, serve from a thread, stop cleanly.

    listener = Listener(lab, _Handler, host, port, context, name="fortigate-lab")  # bound
    listener.start()      # serves from a background thread
    listener.stop()       # closes open connections, joins their threads, releases the port

stdlib ThreadingHTTPServer over IPv4 or IPv6, HTTP/1.1 keep-alive, TCP_NODELAY, the TLS
handshake (when ``context`` is given) in each connection's own thread. ``LabHandler`` is the
request handler base: body reading, replies with ``Content-Length``, dropped connections.
``CertDir`` holds the lab CA (a temporary folder unless one is given); ``ServedLab`` gives a lab
with ``start``/``stop`` its ``with`` block.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import tempfile
import threading
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from baluarte.errors import LabError
from baluarte.lab.tls import LabCA, load_or_create_ca

__all__ = ["CertDir", "LabHandler", "LabServer", "Listener", "Reply", "ServedLab", "url_host"]

MAX_BODY = 16 * 1024 * 1024
IDLE_SECONDS = 30.0  # a keep-alive connection idle this long is closed

LabT = TypeVar("LabT")


class Reply(Protocol):
    """What a handler writes back (each lab has its own reply type with these fields)."""

    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]]


def url_host(host: str) -> str:
    """``host`` as it goes in a URL (IPv6 addresses in brackets)."""
    return f"[{host}]" if ":" in host else host


class CertDir:
    """The lab CA's folder: the one given, else a temporary one that ``cleanup`` removes."""

    def __init__(self, given: str | Path | None, prefix: str) -> None:
        self._given = Path(given) if given is not None else None
        self._prefix = prefix
        self._own: Path | None = None

    def ca(self) -> LabCA:
        folder = self._given
        if folder is None:
            folder = self._own = Path(tempfile.mkdtemp(prefix=self._prefix))
        return load_or_create_ca(folder)

    def cleanup(self) -> None:
        if self._own is not None:
            shutil.rmtree(self._own, ignore_errors=True)
            self._own = None


class ServedLab(ABC):
    """``with lab:`` starts and stops it; subclasses give ``start`` (returns self), ``stop``."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class LabServer(ThreadingHTTPServer, Generic[LabT]):
    """One listening socket; handlers reach their lab as ``self.server.lab``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        lab: LabT,
        context: ssl.SSLContext | None,
    ) -> None:
        self.lab = lab
        self.context = context
        self.connections: dict[socket.socket, threading.Thread] = {}
        self._lock = threading.Lock()
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake happens here, in the connection's own thread, so a slow or
        # non-TLS client cannot stall the accept loop.
        request.settimeout(10.0)
        # headers and body go out as two writes: without this, Nagle + delayed ACK add ~40 ms
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = request
        if self.context is not None:
            try:
                conn = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                with contextlib.suppress(OSError):
                    request.close()
                return
        conn.settimeout(IDLE_SECONDS)
        self._track(conn, True)
        try:
            self.RequestHandlerClass(conn, client_address, self)  # type: ignore[arg-type]
        except (OSError, ssl.SSLError):
            pass
        finally:
            self._track(conn, False)
            with contextlib.suppress(OSError):
                conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # client disconnects are normal; handlers log their own failures

    def close_connections(self) -> None:
        """Shut every open connection down and wait (briefly) for its thread."""
        with self._lock:
            connections = dict(self.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in connections.values():
            thread.join(timeout=2.0)

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self.connections[conn] = threading.current_thread()
            else:
                self.connections.pop(conn, None)


class _LabServer6(LabServer[LabT]):
    address_family = socket.AF_INET6


class Listener(Generic[LabT]):
    """``lab``'s server, bound at construction (LabError if it cannot be); see the module doc."""

    def __init__(
        self,
        lab: LabT,
        handler: type[BaseHTTPRequestHandler],
        host: str,
        port: int,
        context: ssl.SSLContext | None,
        *,
        name: str,
    ) -> None:
        server_class = _LabServer6 if ":" in host else LabServer
        try:
            self.server: LabServer[LabT] = server_class((host, port), handler, lab, context)
        except OSError as exc:
            raise LabError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
        self.port: int = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{name}-{self.port}",
            daemon=True,
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.close_connections()
        self.server.server_close()
        self._thread.join(timeout=2.0)


class LabHandler(BaseHTTPRequestHandler):
    """Request handler base: HTTP/1.1, quiet, ``Content-Length`` bodies (chunked when allowed)."""

    protocol_version = "HTTP/1.1"
    accept_chunked = False  # read ``Transfer-Encoding: chunked`` bodies (else: Content-Length)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_reply(self, reply: Reply, reason: str | None = None) -> None:
        self.send_response(reply.status, reason)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def drop(self) -> None:
        """Close the connection without answering."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def read_body(self) -> bytes | None:
        """The request body; None when it was refused (400/413 already sent)."""
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        if chunked and self.accept_chunked:
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.send_error(413 if length > 0 else 400)
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                self.send_error(400)
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                self.send_error(413)
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)
