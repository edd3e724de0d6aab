"""The socket side: parse HTTP/1.1, hand the exchange to a pipeline, write or abort.

Dropping a connection is done with ``SO_LINGER`` set to zero before closing, which makes the
kernel send a TCP RST instead of a FIN: the client sees "connection reset by peer" exactly
where the fault was injected, with no partial response.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import sys
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulator.app import Simulator
from simulator.config import CONTROL_PREFIX
from simulator.control import serve_control
from simulator.errors import ApiError
from simulator.messages import Response
from simulator.pipeline import serve_api

_stderr_lock = threading.Lock()


class SimulatorHTTPServer(ThreadingHTTPServer):
    """Threaded server that knows its open connections, so stop() can end keep-alive ones."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], sim: Simulator) -> None:
        self.sim = sim
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, SimulatorRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup that can stall.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its read timeout, a dropped connection) is an expected
        # event here, not a server error: say so in one line instead of a traceback.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            if self.sim.config.log_requests:
                print(
                    f"- client {client_address[0]} went away ({type(error).__name__})",
                    file=sys.stderr,
                    flush=True,
                )
            return
        super().handle_error(request, client_address)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)


class SimulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real API front end
    # Headers and body go out in separate writes: with Nagle's algorithm on, the body
    # waits for the client's delayed ACK (40 ms on Linux) — latency no real API adds.
    disable_nagle_algorithm = True
    server_version = "texter-simulator"
    sys_version = ""
    timeout = 60  # idle keep-alive connections do not hold a thread forever
    server: SimulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        # Replaced by the one line per request written in _dispatch.
        return

    def _dispatch(self) -> None:
        exchange = HttpExchange(self)
        sim = self.server.sim
        if exchange.path.startswith(CONTROL_PREFIX):
            status: int | None = serve_control(sim, exchange)
        else:
            status = serve_api(sim, exchange)
        if sim.config.log_requests:
            shown = status if status is not None else "- (connection dropped)"
            with _stderr_lock:
                sys.stderr.write(f"{self.command} {self.path} {shown}\n")
                sys.stderr.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch


class HttpExchange:
    """One request on a handler's connection, as the pipelines see it (the Exchange protocol)."""

    def __init__(self, handler: SimulatorRequestHandler) -> None:
        target = urlsplit(handler.path)
        self.method = handler.command
        self.path = target.path
        self.query: Mapping[str, list[str]] = parse_qs(target.query, keep_blank_values=True)
        self.headers: Mapping[str, str] = {k.lower(): v for k, v in handler.headers.items()}
        self.client_host = str(handler.client_address[0])
        self._handler = handler
        self._body: bytes | None = None

    def read_body(self) -> bytes:
        if self._body is None:
            self._body = self._read_body()
        return self._body

    def _fail(self, status: int, message: str) -> ApiError:
        # The rest of the body is unread, so the connection cannot carry another request.
        self._handler.close_connection = True
        return ApiError(status, message)

    def _read_body(self) -> bytes:
        limit = self._handler.server.sim.config.max_body_bytes
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return self._read_chunked(limit)
        length_header = self.headers.get("content-length")
        if length_header is None:
            return b""
        if not length_header.strip().isdigit():
            raise self._fail(400, "invalid Content-Length header")
        length = int(length_header)
        if length > limit:
            raise self._fail(413, f"request body larger than {limit} bytes")
        return self._handler.rfile.read(length)

    def _read_chunked(self, limit: int) -> bytes:
        rfile = self._handler.rfile
        chunks: list[bytes] = []
        total = 0
        while True:
            size_field = rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(size_field, 16)
            except ValueError:
                raise self._fail(400, "malformed chunked body") from None
            if size == 0:
                while rfile.readline(1024).strip():
                    pass  # trailer fields are ignored
                return b"".join(chunks)
            total += size
            if total > limit:
                raise self._fail(413, f"request body larger than {limit} bytes")
            chunks.append(rfile.read(size))
            rfile.readline(1024)  # the CRLF closing each chunk

    def respond(self, response: Response) -> None:
        handler = self._handler
        payload = response.payload()
        handler.send_response(response.status)
        for name, value in response.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", response.media_type)
        handler.send_header("Content-Length", str(len(payload)))
        if handler.close_connection:
            handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(payload)
        handler.wfile.flush()

    def drop(self) -> None:
        handler = self._handler
        handler.close_connection = True
        connection = handler.connection
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # rfile (a makefile() reader) holds a reference that would defer the real close until
        # the server's shutdown(SHUT_WR), which would send a FIN before the RST. wfile holds
        # none and is left open so the stdlib's final flush() stays a harmless no-op.
        handler.rfile.close()
        connection.close()
