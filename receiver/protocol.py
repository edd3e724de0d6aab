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

The cost is one Python hook per chunk received (measured 2-3 us of CPU per request, the
receiver-null-unguarded variant of bench.receiver); no timer per request: one sweep per
server, a few times a second while any connection is open, closes the connections past their
deadline (kept to within a quarter of the shorter timeout, and at most a second).

This leans on uvicorn's internals (`scope`, `cycle`, `cycle.more_body`), pinned with uvicorn
in receiver/requirements.txt; tests/integration/receiver/test_limits.py checks each limit
over the wire.
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


# The base class's method, called directly: cheaper than through super(), for every chunk.
_data_received = HttpToolsProtocol.data_received
_HEAD, _BODY, _IDLE = 0, 1, 2


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
        # What is being read: a head (or nothing yet, on a new connection), a body, or nothing
        # (the last request was read whole, and the next has not begun).
        self._phase = _HEAD
        # Loop time by which the part being read must be complete; None while idle.
        self._deadline: float | None = None
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

    def data_received(self, data: bytes) -> None:
        """Feeds the parser, then reads where it got to off uvicorn's own state.

        One hook per chunk rather than three per request (head done, message done): this runs
        for every request, and Python calls are what it costs. uvicorn sets `scope` when a
        message begins and makes its `cycle` when the head is complete; the cycle's
        `more_body` goes false when the body is complete.
        """
        if self._refused:
            return
        phase = self._phase
        if phase == _IDLE:
            # The first bytes of the next request on a reused connection.
            phase = self._phase = _HEAD
            self._deadline = self.loop.time() + self.limits.header_timeout
            self._head_bytes = 0
        if phase == _HEAD:
            # A chunk that starts inside a head is all head unless the head ends in it, so
            # this never counts body bytes as head bytes (it may miss the start of a pipelined
            # head, which only loosens the cap by one chunk).
            self._head_bytes += len(data)
        began = self.scope
        _data_received(self, data)
        cycle = self.cycle
        scope = self.scope
        if cycle is None or cycle.scope is not scope:
            # Inside a head. If one message's head completed in this chunk and another's
            # began, the new head gets its own clock and count.
            if cycle is not None and cycle.scope is began and scope is not began:
                self._deadline = self.loop.time() + self.limits.header_timeout
                self._head_bytes = 0
            elif (
                self._head_bytes > self.limits.max_header_bytes and not self.transport.is_closing()
            ):
                self._refuse(_HEADERS_TOO_LARGE)
            self._phase = _HEAD
        elif cycle.more_body:
            # Inside the body (or past an early answer, whose rest uvicorn drops unread:
            # the body deadline bounds that too).
            if phase != _BODY:
                self._phase = _BODY
                self._deadline = self.loop.time() + self.limits.body_timeout
        else:
            self._phase = _IDLE
            self._deadline = None

    def _expire(self) -> None:
        cycle = self.cycle
        if self._phase == _HEAD:
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
