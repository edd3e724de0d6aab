"""uvicorn's httptools protocol with the limits uvicorn lacks, for running without a front end.

uvicorn has no read timeout for a request head or body, no cap on the head's size and no
cap on connections: a slowloris head, a body trickled a byte a minute, a 64 MiB header or
20,000 idle connections each hold the process open or grow it. Cloud Run's front end bounds
some of this in production; the local stack, the tests and anyone running the container
elsewhere have nothing in front. So, per connection:

- the request head (request line and headers) must be complete within `header_timeout` of
  the connection opening, or of its first byte on a reused connection: else 408 (or a plain
  close if nothing was sent) and the connection is closed;
- the body must be complete within `body_timeout` of the head: else 408 and close;
- the head may be at most `max_header_bytes`: else 431 and close;
- past `max_connections` open at once, a new connection is closed at once.

Deadlines cost a float per request on the hot path: one sweep per server, a few times a
second while any connection is open, closes the connections past theirs (so a deadline is
kept to within a quarter of the shorter timeout, and at most a second).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from receiver.settings import (
    DEFAULT_BODY_TIMEOUT_SECONDS,
    DEFAULT_HEADER_TIMEOUT_SECONDS,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_HEADER_BYTES,
)


def _closing_response(status_line: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"connection: close\r\n\r\n%s" % (status_line, len(body), body)
    )


_REQUEST_TIMEOUT = _closing_response(
    b"408 Request Timeout", b'{"error":"the request was not received in time"}'
)
_HEADERS_TOO_LARGE = _closing_response(
    b"431 Request Header Fields Too Large", b'{"error":"the request head is too large"}'
)


_data_received = HttpToolsProtocol.data_received
_on_headers_complete = HttpToolsProtocol.on_headers_complete
_on_message_complete = HttpToolsProtocol.on_message_complete


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float = DEFAULT_HEADER_TIMEOUT_SECONDS
    body_timeout: float = DEFAULT_BODY_TIMEOUT_SECONDS
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_connections: int = DEFAULT_MAX_CONNECTIONS

    @property
    def sweep_interval(self) -> float:
        return min(1.0, self.header_timeout / 4, self.body_timeout / 4)


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """Set `limits` on a subclass (see `protocol_class`): one subclass per server."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()
    # The server's sweep, armed while any connection is open.
    _sweep: ClassVar[asyncio.TimerHandle | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Loop time by which the part being read must be complete; None while not reading.
        self._deadline: float | None = None
        # Between requests or inside a head (as opposed to inside a body).
        self._reading_head = True
        # Bytes received since the head began, while reading a head.
        self._head_bytes = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            # Closed before reading anything: the cheapest refusal there is.
            self._refused = True
            transport.abort()
            return
        self._deadline = self.loop.time() + self.limits.header_timeout
        cls = type(self)
        if cls._sweep is None:
            cls._sweep = self.loop.call_later(self.limits.sweep_interval, self._sweep_connections)

    # The base class's methods are called directly, not through super(): these run for every
    # request, and this is the cheaper call.
    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if not self._reading_head:
            _data_received(self, data)
            return
        if self._deadline is None:
            # The first byte of the next request on a reused connection.
            self._deadline = self.loop.time() + self.limits.header_timeout
        # A chunk that starts inside a head is all head unless the head ends in it, so this
        # count never takes body bytes for head bytes (it may miss the start of a pipelined
        # head, which only loosens the cap by one chunk).
        self._head_bytes += len(data)
        _data_received(self, data)
        if (
            self._reading_head
            and self._head_bytes > self.limits.max_header_bytes
            and not self.transport.is_closing()
        ):
            self._refuse(_HEADERS_TOO_LARGE)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._deadline = self.loop.time() + self.limits.body_timeout
        _on_headers_complete(self)

    def on_message_complete(self) -> None:
        self._reading_head = True
        self._head_bytes = 0
        self._deadline = None
        _on_message_complete(self)

    def _expire(self) -> None:
        cycle = self.cycle
        if self._reading_head:
            # A connection that never sent a byte gets no answer; a partial head gets a 408.
            self._refuse(_REQUEST_TIMEOUT if self._head_bytes else None)
        elif cycle is not None and not cycle.response_started:
            self._refuse(_REQUEST_TIMEOUT)
        else:
            self._refuse(None)

    def _refuse(self, response: bytes | None) -> None:
        self._deadline = None
        self._refused = True
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The app, if it is waiting for the body, is told the client went away, and what
            # it sends from now on is dropped (the response below is the one that counts).
            cycle.disconnected = True
            cycle.message_event.set()
        if response is not None:
            self.transport.write(response)
        self.transport.close()

    def _sweep_connections(self) -> None:
        cls = type(self)
        cls._sweep = None
        now = self.loop.time()
        for connection in list(self.connections):
            if not isinstance(connection, LimitedHttpToolsProtocol):
                continue
            deadline = connection._deadline
            if deadline is not None and now >= deadline and not connection.transport.is_closing():
                connection._expire()
        if self.connections:
            cls._sweep = self.loop.call_later(self.limits.sweep_interval, self._sweep_connections)


def protocol_class(limits: ConnectionLimits) -> type[LimitedHttpToolsProtocol]:
    """A protocol class enforcing `limits`, for uvicorn.Config(http=...)."""

    class ReceiverHttpProtocol(LimitedHttpToolsProtocol):
        pass

    ReceiverHttpProtocol.limits = limits
    return ReceiverHttpProtocol
