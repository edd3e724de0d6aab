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
- past `max_connections` open at once, a new connection is closed at once;
- a connection idle between requests is closed past uvicorn's keep-alive timeout
  (`timeout_keep_alive`, 5 s), as uvicorn does, but by the sweep below rather than by a
  timer armed after every response and cancelled by the next request.

The cost is one Python hook per chunk received and two per request (head complete, response
complete); no timer per request, not even uvicorn's keep-alive one: one sweep per server, a
few times a second while any connection is open, closes the connections past their deadline
(kept to within a quarter of the shorter timeout, and at most a second).

This leans on uvicorn's internals (`scope`, `cycle`, `cycle.more_body`, `pipeline`, and its
`on_response_complete`, restated here less the keep-alive timer), pinned with uvicorn
in receiver/requirements.txt; tests/integration/receiver/test_limits.py checks each limit
over the wire.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import httptools
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT, FlowControl
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
_UPGRADE_CHUNKED = _closing_response(
    b"501 Not Implemented",
    b'{"error":"a chunked body with an Upgrade request is not supported"}',
)
# What uvicorn answers in text/plain, in the receiver's JSON.
_BAD_REQUEST = _closing_response(b"400 Bad Request", b'{"error":"malformed HTTP request"}')


_HEAD, _BODY, _IDLE = 0, 1, 2
# At most this much of a chunk is parsed at once: what a chunk of tiny pipelined requests can
# queue before the receiver stops parsing is bounded by it, not by the chunk (up to 256 KiB).
# A request as Texter sends it (a few KiB) is one piece.
FEED_SLICE_BYTES = 8 * 1024
# Once a connection has pipelined (queued a request behind another), its bytes are parsed in
# pieces this small: a piece of tiny requests queues a few dozen at most, not hundreds.
PIPELINED_SLICE_BYTES = 1024


_idle_order = itertools.count()


class _HeadTooLarge(Exception):
    pass


class _GatedFlowControl(FlowControl):
    """uvicorn's flow control, except that reading stays paused while the connection holds
    a request it has not started (pipelined) or bytes it has not parsed.

    uvicorn resumes reading whenever the app reads a body and whenever a response completes,
    queued requests or not: a client pipelining requests without reading the answers had its
    requests read chunk after chunk and queued without bound (issue 22: 8 connections took
    the process from 32 MB to 480 MB in 12 s).
    """

    def __init__(self, transport: asyncio.Transport, protocol: LimitedHttpToolsProtocol) -> None:
        super().__init__(transport)
        self._protocol = protocol

    def resume_reading(self) -> None:
        if self.read_paused and not self._protocol.holding():
            super().resume_reading()


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
        # Bytes received since the head began, while reading a head (see _parse).
        self._head_bytes = 0
        # Of the slice being parsed, the bytes before it (for the head cap's arithmetic).
        self._slice_bytes = 0
        self._refused = False
        # Body bytes still owed to a request that asked for an upgrade (see _ignore_upgrade).
        self._upgrade_body_left = 0
        # How much is parsed at once (smaller once the connection has pipelined).
        self._slice = FEED_SLICE_BYTES
        # Bytes read and not yet parsed, held while a pipelined request waits; None if none.
        self._backlog: memoryview | None = None
        # When the connection last came to have nothing to do (no request begun, none in
        # progress), as a number that only grows; None while it has. The oldest idle
        # connection is shed first.
        self._idle_since: int | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.flow = _GatedFlowControl(transport, self)
        if len(self.connections) > self.limits.max_connections and not self._shed_idle():
            # Every connection is busy: this one is closed before reading anything, the
            # cheapest refusal there is.
            self._refused = True
            transport.abort()
            return
        self._deadline = self.loop.time() + self.limits.header_timeout
        self._idle_since = next(_idle_order)
        cls = type(self)
        if cls._sweep is None:
            cls._sweep = self.loop.call_later(self.limits.sweep_interval, self._sweep_connections)

    def _shed_idle(self) -> bool:
        """Closes the connection idle the longest to make room; False if none is idle.

        As production servers do: a connection with nothing to do costs the sender nothing to
        lose (it reconnects), while one with a request under way is never cut for a newcomer.
        So an attacker holding idle connections, or reconnecting, cannot lock senders out.
        Runs only past the limit: one pass over the connections.
        """
        oldest: LimitedHttpToolsProtocol | None = None
        for connection in self.connections:
            if (
                connection is not self
                and isinstance(connection, LimitedHttpToolsProtocol)
                and connection._idle_since is not None
                and not connection._refused
                and (oldest is None or connection._idle_since < cast(int, oldest._idle_since))
            ):
                oldest = connection
        if oldest is None:
            return False
        oldest._refused = True
        oldest._idle_since = None
        oldest.transport.abort()
        return True

    def holding(self) -> bool:
        """Whether reading must stay paused: a request is queued, or bytes are unparsed."""
        return bool(self.pipeline) or self._backlog is not None

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._idle_since = None
        if self._backlog is not None:
            # Read before the pause took effect; parsed once the queue is through.
            self._backlog = memoryview(bytes(self._backlog) + data)
            return
        # No _unset_keepalive_if_required: no keep-alive timer is ever armed (see
        # on_response_complete).
        if self._upgrade_body_left:
            rest = self._take_upgrade_body(data)
            if not len(rest):
                return
            self._feed(memoryview(rest))
            return
        if len(data) <= self._slice:
            self._parse(data)
            if self.pipeline:
                self._slice = PIPELINED_SLICE_BYTES
                self.flow.pause_reading()
        else:
            self._feed(memoryview(data))

    def _feed(self, data: memoryview) -> None:
        """Parses `data` a slice at a time, stopping (and pausing reading) once a request is
        queued behind the one in progress: the rest waits until that one has started."""
        start = 0
        while start < len(data):
            if self._refused:
                return
            end = start + self._slice
            self._parse(data[start:end])
            start = end
            if self.pipeline:
                self._slice = PIPELINED_SLICE_BYTES
                if start < len(data):
                    self._backlog = data[start:]
                self.flow.pause_reading()
                return

    def on_response_complete(self) -> None:
        """uvicorn's, except that no keep-alive timer is armed: an idle connection gets the
        keep-alive timeout as its deadline, and the sweep closes it past that (as uvicorn's
        timer did, within a sweep interval). A timer per request, armed here and cancelled
        by the next request's first bytes, was paid by every request.

        Runs for every request, so holding() and the flow's resume_reading are inlined:
        resume_reading is called only if reading is paused (else it does nothing)."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        flow = self.flow
        pipeline = self.pipeline
        if flow.read_paused:
            flow.resume_reading()
        if pipeline:
            cycle, app = pipeline.pop()
            self._start_asgi_task(cycle, app)
        if self._refused:
            return
        if self._backlog is not None and not pipeline:
            backlog, self._backlog = self._backlog, None
            self._feed(backlog)
        if not pipeline and self._backlog is None:
            if flow.read_paused:
                flow.resume_reading()
            if self._phase == _IDLE:
                cycle = self.cycle
                if cycle is None or cycle.response_complete:
                    # Nothing to do: idle, and closed by the sweep past the keep-alive.
                    self._idle_since = next(_idle_order)
                    self._deadline = self.loop.time() + self.timeout_keep_alive

    def _parse(self, data: bytes | memoryview) -> None:
        """Feeds the parser, then reads where it got to off uvicorn's own state.

        One hook per piece rather than three per request (head done, message done): this runs
        for every request, and Python calls are what it costs. uvicorn sets `scope` when a
        message begins and makes its `cycle` when the head is complete; the cycle's
        `more_body` goes false when the body is complete.
        """
        phase = self._phase
        if phase == _IDLE:
            # The first bytes of the next request on a reused connection.
            phase = self._phase = _HEAD
            self._deadline = self.loop.time() + self.limits.header_timeout
            self._head_bytes = 0
        # A piece that starts inside a head is all head unless the head ends in it; the piece
        # in which a head begins is not counted, so the count never exceeds the head's size
        # and falls short of it by less than a slice. A head is refused once the count passes
        # the cap; one that completes is measured exactly (on_headers_complete).
        size = self._slice_bytes = len(data)
        if phase == _HEAD:
            self._head_bytes += size
        began = self.scope
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, _HeadTooLarge):
                self._refuse_when_answered(_HEADERS_TOO_LARGE)
                return
            self._refuse_when_answered(_BAD_REQUEST)
            return
        except httptools.HttpParserUpgrade as upgrade:
            self._ignore_upgrade(data[upgrade.args[0] :])
            return
        except httptools.HttpParserError:
            self._refuse_when_answered(_BAD_REQUEST)
            return
        cycle = self.cycle
        scope = self.scope
        if cycle is None or cycle.scope is not scope:
            # Inside a head. If a message began in this piece, its head gets its own clock
            # and count (from the next piece: the count falls short by less than a slice).
            if scope is not began:
                self._deadline = self.loop.time() + self.limits.header_timeout
                self._head_bytes = 0
            elif self._head_bytes > self.limits.max_header_bytes:
                self._refuse_when_answered(_HEADERS_TOO_LARGE)
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

    def _ignore_upgrade(self, rest: bytes | memoryview) -> None:
        """Serves a request that asked for a protocol upgrade as the plain request it also is
        (RFC 9110 7.8 lets a server ignore Upgrade; this one never upgrades).

        The parser stops at the end of such a request's head, taking it to have no body; so
        its body, as Content-Length declares it, is handed to the request here, and what
        follows it is parsed as the next request. (Before, the body was dropped, the request
        judged empty, and a request pipelined after it never answered.)
        """
        cycle = self.cycle
        declared = 0
        for name, value in self.headers:
            if name == b"transfer-encoding":
                self._refuse_when_answered(_UPGRADE_CHUNKED)
                return
            if name == b"content-length":
                declared = int(value)
        if declared and cycle is not None:
            cycle.more_body = True
            self._upgrade_body_left = declared
            self._phase = _BODY
            self._deadline = self.loop.time() + self.limits.body_timeout
            rest = self._take_upgrade_body(rest)
        else:
            self._phase = _IDLE
            self._deadline = None
        if len(rest):
            self._parse(rest)

    def _take_upgrade_body(self, data: bytes | memoryview) -> bytes | memoryview:
        """Hands an upgrade request's body bytes from `data` to it; returns what follows."""
        cycle = self.cycle
        taken = min(self._upgrade_body_left, len(data))
        self._upgrade_body_left -= taken
        if not cycle.response_complete:
            cycle.body += data[:taken]
            if len(cycle.body) > HIGH_WATER_LIMIT:
                self.flow.pause_reading()
        if not self._upgrade_body_left:
            cycle.more_body = False
            self._phase = _IDLE
            self._deadline = None
        cycle.message_event.set()
        return data[taken:]

    def on_headers_complete(self) -> None:
        limit = self.limits.max_header_bytes
        # The count so far and this piece bound the head's size; only a head that may be past
        # the cap is measured: request line and header fields as parsed, line ends included.
        if (
            self._head_bytes + self._slice_bytes + FEED_SLICE_BYTES > limit
            and self._head_size() > limit
        ):
            # Raised through the parser, so this request is neither started nor queued.
            raise _HeadTooLarge
        HttpToolsProtocol.on_headers_complete(self)

    def _head_size(self) -> int:
        # "METHOD SP target SP HTTP/1.1 CRLF", each "name: value CRLF", then CRLF.
        size = len(self.parser.get_method()) + len(self.url) + 14
        for name, value in self.headers:
            size += len(name) + len(value) + 4
        return size

    def _refuse_when_answered(self, response: bytes) -> None:
        """Refuses the request being read, once the requests before it have been answered:
        answering now would answer them, as HTTP/1.1 answers in order."""
        self._backlog = None
        self.pipeline.clear()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and cycle.scope is not self.scope:
            # An earlier request is still being answered: stop reading, refuse after it.
            self._refused = True
            self.flow.pause_reading()
            self._deadline = None

            def refuse_after(previous: Callable[[], None] = cycle.on_response) -> None:
                previous()
                self._refused = False
                self._refuse(response)

            cycle.on_response = refuse_after
            return
        self._refuse(response)

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
        self._idle_since = None
        self._backlog = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The app, if it is waiting for the body, is told the client went away, and what
            # it sends from now on is dropped (the response below is the one that counts).
            cycle.disconnected = True
            cycle.message_event.set()
        if response is not None and not self.transport.is_closing():
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
