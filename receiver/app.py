"""The receiver as an ASGI app: routing, the checks on a delivery, its hand-off, its log line.

Plain ASGI rather than a framework: the request path is short and fixed, and in the benchmark
(bench/receiver) Starlette's routing and Request/Response objects alone cost more CPU per
request than all of the receiver's own work (the figures: bench/README.md).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from receiver.asgi import (
    CLOSE_CONNECTION,
    BodyHeaders,
    BodyTooLarge,
    ClientDisconnected,
    Headers,
    Receive,
    Scope,
    Send,
    discard_body,
    host_problem,
    is_json_content_type,
    read_body,
    read_rest_of_body,
    send_json,
    send_raw_json,
)
from receiver.auth import HOOKS_PATH, HOOKS_PREFIX, SecretMatcher
from receiver.dedup import Deduplicator
from receiver.delivery import utc_timestamp
from receiver.envelope import InvalidEnvelope, MalformedBody, parse_delivery
from receiver.events import KNOWN_EVENT_NAMES
from receiver.request_log import RequestLog
from receiver.settings import DEFAULT_BODY_TIMEOUT_SECONDS, Settings
from receiver.sinks.base import Sink, UnstorableDelivery
from receiver.sinks.factory import build_sink

lifecycle_logger = logging.getLogger("receiver")

HEALTH_PATH = "/healthz"
# Not HTTP statuses sent to anyone: what the log line shows for a client that went away.
CLIENT_CLOSED_REQUEST = 499
# An oversize body is read and dropped up to this much before the 413, so a sender that
# writes its whole body before reading gets the 413 rather than a connection reset. It is
# past Cloud Run's own request limit (32 MiB), so any body Cloud Run forwards is drained;
# a larger declared length is refused at once, and the connection closed.
MAX_DISCARD_BYTES = 64 * 1024 * 1024

_OK = b'{"status":"ok"}'
_FAILING = b'{"status":"failing"}'
_NOT_FOUND = b'{"error":"not found"}'
_METHOD_NOT_ALLOWED = b'{"error":"method not allowed"}'
_UNSUPPORTED_MEDIA_TYPE = b'{"error":"the content type must be application/json"}'
_UNSUPPORTED_ENCODING = b'{"error":"the content encoding must be identity"}'
_UNSUPPORTED_TRANSFER = b'{"error":"only the chunked transfer coding is supported"}'
_TWO_CONTENT_TYPES = b'{"error":"more than one Content-Type header"}'
_TOO_LARGE = b'{"error":"the body is too large"}'
_UNAVAILABLE = b'{"error":"the delivery could not be stored; retry later"}'
_INTERNAL_ERROR = b'{"error":"internal error"}'
# One answer for every refused credential: which part was wrong is for the log alone.
_UNAUTHORIZED = b'{"error":"missing or invalid bearer token"}'
_BEARER_CHALLENGE = ((b"www-authenticate", b"Bearer"),)
_UNSTORABLE = b'{"error":"the delivery cannot be stored"}'
_RETRY_AFTER = ((b"retry-after", b"1"),)
# A 200 is {"status":"accepted"|"duplicate","deliveryKey":"<64 hex digits>"}: its length is
# known from its status, so each head is built once and shared by every response (nothing
# between the app and uvicorn rewrites messages; uvicorn only reads them), and so is the
# body's text up to the key.
_ACKNOWLEDGED = {
    fresh: (
        status,
        {
            "type": "http.response.start",
            "status": 200,
            "headers": (
                (b"content-type", b"application/json"),
                (
                    b"content-length",
                    b"%d" % (len(b'{"status":"","deliveryKey":""}') + len(status) + 64),
                ),
            ),
        },
        b'{"status":"%s","deliveryKey":"' % status.encode(),
    )
    for fresh, status in ((True, "accepted"), (False, "duplicate"))
}
_ACKNOWLEDGED_END = b'"}'
_ALLOW_POST = ((b"allow", b"POST"),)
_ALLOW_GET = ((b"allow", b"GET"),)
_ACCEPT_IDENTITY = ((b"accept-encoding", b"identity"),)
# Headers that take a request off the plain path, to be checked one by one.
_UNPLAIN_HEADERS = frozenset((b"content-encoding", b"transfer-encoding", b"expect"))
_perf_counter = time.perf_counter
_HOOKS_PREFIX_LENGTH = len(HOOKS_PREFIX)
_DEBUG = logging.DEBUG
_INFO = logging.INFO
_WARNING = logging.WARNING
_ERROR = logging.ERROR


@dataclass(slots=True)
class Outcome:
    """What the log line says about one request."""

    status: int
    message: str
    severity: int = logging.INFO
    event_name: str | None = None
    delivery_key: str = ""


# What an accepted delivery of a known event returns when DEBUG lines are not written: the
# line is never built, so neither are its fields.
_UNLOGGED_ACKNOWLEDGEMENT = Outcome(200, "acknowledged", _DEBUG)


class ReceiverApp:
    def __init__(
        self,
        *,
        matcher: SecretMatcher,
        sink: Sink,
        dedup: Deduplicator,
        max_body_bytes: int,
        request_log: RequestLog | None = None,
        body_timeout_seconds: float = DEFAULT_BODY_TIMEOUT_SECONDS,
        clock: Callable[[], str] = utc_timestamp,
    ) -> None:
        self._matcher = matcher
        self._sink = sink
        self._dedup = dedup
        self._max_body_bytes = max_body_bytes
        self._log = request_log if request_log is not None else RequestLog()
        self._log_level = self._log.level
        self._body_timeout = body_timeout_seconds
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        started = _perf_counter()
        try:
            path: str = scope["path"]
            # The hot paths first: a POST to the hook with a matching secret in its path, or
            # to the bare hook (its Bearer token checked in _accept). Anything else, a wrong
            # path secret included, is sorted out by _route.
            if (
                scope["method"] == "POST"
                and path.startswith(HOOKS_PREFIX)
                and self._matcher.matches(path[_HOOKS_PREFIX_LENGTH:])
            ):
                outcome = await self._accept(scope, receive, send)
            elif path == HOOKS_PATH and scope["method"] == "POST":
                outcome = await self._accept(scope, receive, send, bearer_required=True)
            else:
                outcome = await self._route(scope, receive, send)
        except Exception:
            # A bug must cost one request a 500, not the connection; the log keeps the trace.
            lifecycle_logger.exception("unhandled error in a request")
            outcome = Outcome(500, "internal error", _ERROR)
            # Fails if the response had already started; there is nothing more to tell then.
            with contextlib.suppress(Exception):
                await send_raw_json(send, 500, _INTERNAL_ERROR)
        if outcome.severity >= self._log_level:
            event_name = outcome.event_name
            self._log.request(
                outcome.severity,
                outcome.message,
                scope["method"],
                self._matcher.redact_path(scope["path"]),
                outcome.status,
                _perf_counter() - started,
                event_name,
                event_name is not None and event_name in KNOWN_EVENT_NAMES,
                outcome.delivery_key,
            )

    async def startup(self) -> None:
        await self._sink.start()

    async def shutdown(self) -> None:
        try:
            await self._sink.close()
        finally:
            self._log.flush()

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> Outcome:
        path: str = scope["path"]
        method: str = scope["method"]
        problem = host_problem(scope, sum(1 for name, _ in scope["headers"] if name == b"host"))
        if problem is not None:
            return await _reject(send, 400, problem)
        if path == HOOKS_PATH:
            # The URL is public in this form, so a 405 before the token tells nothing.
            if method != "POST":
                return await _reply(
                    send, 405, _METHOD_NOT_ALLOWED, "method not allowed", _ALLOW_POST
                )
            return await self._accept(scope, receive, send, bearer_required=True)
        if path.startswith(HOOKS_PREFIX):
            candidate = path[len(HOOKS_PREFIX) :]
            if "/" in candidate or not self._matcher.matches(candidate):
                return await _reply(send, 404, _NOT_FOUND, "no such hook")
            if method != "POST":
                return await _reply(
                    send, 405, _METHOD_NOT_ALLOWED, "method not allowed", _ALLOW_POST
                )
            return await self._accept(scope, receive, send)
        if path == HEALTH_PATH:
            if method != "GET":
                return await _reply(
                    send, 405, _METHOD_NOT_ALLOWED, "method not allowed", _ALLOW_GET
                )
            return await self._health(send)
        return await _reply(send, 404, _NOT_FOUND, "no such path")

    async def _health(self, send: Send) -> Outcome:
        failure = await self._sink.check()
        if failure is None:
            return await _reply(send, 200, _OK, "healthy", severity=_DEBUG)
        # The reason goes to the log only: /healthz is public.
        return await _reply(send, 503, _FAILING, f"unhealthy: {failure}", severity=_ERROR)

    async def _accept(
        self, scope: Scope, receive: Receive, send: Send, *, bearer_required: bool = False
    ) -> Outcome:
        """Takes a delivery whose URL is right; its credentials are checked first.

        With `bearer_required` (the bare hook) an Authorization header must carry a Bearer
        token matching a secret; without (the path's secret matched), one that is present
        must still match: a credential that is sent is never ignored.
        """
        # The plain case, as Texter sends it: each header once, one Content-Type, a
        # Content-Length, no coding, no Expect. A dict finds that without a Python loop; any
        # other request goes the careful way.
        raw_headers = scope["headers"]
        headers = dict(raw_headers)
        length = headers.get(b"content-length")
        if (
            length is None
            or len(headers) != len(raw_headers)
            or b"host" not in headers
            or not _UNPLAIN_HEADERS.isdisjoint(headers)
            or not is_json_content_type(headers.get(b"content-type"))
        ):
            return await self._accept_unusual(scope, receive, send, bearer_required)
        try:
            declared = int(length)
        except ValueError:
            declared = -1
        if not 0 <= declared <= self._max_body_bytes:
            return await self._accept_unusual(scope, receive, send, bearer_required)
        # Each header is here once (the check above), so this is the only Authorization.
        authorization = headers.get(b"authorization")
        if authorization is not None or bearer_required:
            problem = self._matcher.credentials_problem(
                () if authorization is None else (authorization,), required=bearer_required
            )
            if problem is not None:
                return await _unauthorized(send, problem)
        message = await receive()
        body: bytes = message.get("body", b"")
        if (
            message.get("more_body", False)
            or message["type"] != "http.request"
            or len(body) > self._max_body_bytes
        ):
            # More than one message, or the client gone: the general reader sorts it out.
            reading = read_rest_of_body(receive, message, self._max_body_bytes)
            return await self._read_then_hand_off(reading, receive, send)
        return await self._hand_off(body, send)

    async def _accept_unusual(
        self, scope: Scope, receive: Receive, send: Send, bearer_required: bool
    ) -> Outcome:
        headers = BodyHeaders(scope["headers"])
        problem = host_problem(scope, headers.hosts)
        if problem is not None:
            return await _reject(send, 400, problem)
        # Before anything about the body: an unauthenticated sender learns nothing of it.
        problem = self._matcher.credentials_problem(
            [value for name, value in scope["headers"] if name == b"authorization"],
            required=bearer_required,
        )
        if problem is not None:
            return await _unauthorized(send, problem)
        if headers.content_types > 1:
            return await _reply(
                send, 400, _TWO_CONTENT_TYPES, "rejected: two Content-Types", severity=_WARNING
            )
        if headers.transfer_coding is not None:
            return await _reply(
                send,
                501,
                _UNSUPPORTED_TRANSFER,
                "rejected: a transfer coding other than chunked",
                CLOSE_CONNECTION,
                severity=_WARNING,
            )
        if headers.content_encoding is not None:
            return await _reply(
                send,
                415,
                _UNSUPPORTED_ENCODING,
                "rejected: content encoding " + headers.content_encoding.decode("latin-1")[:40],
                _ACCEPT_IDENTITY,
                severity=_WARNING,
            )
        if not is_json_content_type(headers.content_type):
            return await _reply(
                send, 415, _UNSUPPORTED_MEDIA_TYPE, "rejected: not JSON", severity=_WARNING
            )
        length = headers.content_length
        if length is not None and length > self._max_body_bytes:
            if headers.expect_continue or length > MAX_DISCARD_BYTES:
                # Nothing to drain (the sender waits for a 100 Continue it will not get), or
                # too much to: answer now, and close since the body is left unread.
                return await _reply(
                    send,
                    413,
                    _TOO_LARGE,
                    "rejected: declared body too large",
                    CLOSE_CONNECTION,
                    severity=_WARNING,
                )
            return await self._refuse_too_large(receive, send, read=0, complete=False)
        return await self._read_then_hand_off(
            read_body(receive, self._max_body_bytes), receive, send
        )

    async def _read_then_hand_off(
        self, reading: Awaitable[bytes], receive: Receive, send: Send
    ) -> Outcome:
        """The body from `reading`, handed off; too large or abandoned, answered as such."""
        try:
            body = await reading
        except BodyTooLarge as too_large:
            return await self._refuse_too_large(
                receive, send, read=too_large.read, complete=too_large.complete
            )
        except ClientDisconnected:
            return Outcome(CLIENT_CLOSED_REQUEST, "client closed the request", _WARNING)
        return await self._hand_off(body, send)

    async def _hand_off(self, body: bytes, send: Send) -> Outcome:
        try:
            delivery = parse_delivery(body, self._clock())
        except MalformedBody as error:
            return await _reject(send, 400, f"malformed body: {error}")
        except InvalidEnvelope as error:
            return await _reject(send, 422, f"invalid envelope: {error}")
        key = delivery.key
        event_name = delivery.event_name
        try:
            fresh = await self._dedup.hand_off_once(key, self._sink.store, delivery)
        except UnstorableDelivery as error:
            # Only this delivery: the sink and every other delivery are well.
            await send_raw_json(send, 422, _UNSTORABLE)
            return Outcome(422, f"hand-off refused: {error}", _WARNING, event_name, key)
        except TimeoutError:
            await send_raw_json(send, 503, _UNAVAILABLE, _RETRY_AFTER)
            return Outcome(503, "not stored within the hold", _ERROR, event_name, key)
        except Exception as error:
            await send_raw_json(send, 503, _UNAVAILABLE, _RETRY_AFTER)
            return Outcome(503, f"hand-off failed: {error}", _ERROR, event_name, key)
        status, head, body_start = _ACKNOWLEDGED[fresh]
        await send(head)
        await send(
            {
                "type": "http.response.body",
                "body": body_start + key.encode() + _ACKNOWLEDGED_END,
            }
        )
        if event_name in KNOWN_EVENT_NAMES:
            # DEBUG: even a line built by hand and written once per loop turn is a sizeable
            # share of the request's CPU (bench/README.md, receiver-null-verbose); Cloud Run
            # logs every request's status and latency already, and the sink has the event.
            if self._log_level > _DEBUG:
                return _UNLOGGED_ACKNOWLEDGEMENT
            return Outcome(200, status, _DEBUG, event_name, key)
        return Outcome(200, f"{status} unknown event", _WARNING, event_name, key)

    async def _refuse_too_large(
        self, receive: Receive, send: Send, *, read: int, complete: bool
    ) -> Outcome:
        """Drains what is left of the body (within bounds), then answers 413."""
        if not complete:
            complete = await discard_body(receive, MAX_DISCARD_BYTES - read, self._body_timeout)
        # Once the whole body is read the connection can serve the next request.
        return await _reply(
            send,
            413,
            _TOO_LARGE,
            "rejected: body too large",
            () if complete else CLOSE_CONNECTION,
            severity=_WARNING,
        )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as error:
                    lifecycle_logger.exception("the sink did not start")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.shutdown()
                except Exception as error:
                    lifecycle_logger.exception("the sink did not close cleanly")
                    await send({"type": "lifespan.shutdown.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(settings: Settings, sink: Sink | None = None) -> ReceiverApp:
    """The app `settings` describe; `sink` replaces the configured one (tests)."""
    return ReceiverApp(
        matcher=SecretMatcher(settings.secrets),
        sink=sink
        if sink is not None
        else build_sink(settings.sink, hold_seconds=settings.hold_seconds),
        dedup=Deduplicator(
            settings.dedup_window_seconds,
            max_entries=settings.dedup_max_keys,
            copy_deadline_seconds=settings.hold_seconds,
        ),
        max_body_bytes=settings.max_body_bytes,
        request_log=RequestLog(logging.getLevelNamesMapping()[settings.log_level]),
        body_timeout_seconds=settings.body_timeout_seconds,
    )


async def _reply(
    send: Send,
    status: int,
    body: bytes,
    message: str,
    headers: Headers = (),
    *,
    severity: int = _INFO,
) -> Outcome:
    await send_raw_json(send, status, body, headers)
    return Outcome(status, message, severity)


async def _unauthorized(send: Send, problem: str) -> Outcome:
    # `problem` names what was wrong, never a header's value: it goes to the log only.
    return await _reply(send, 401, _UNAUTHORIZED, "unauthorized: " + problem, _BEARER_CHALLENGE)


async def _reject(send: Send, status: int, error: str) -> Outcome:
    await send_json(send, status, {"error": error})
    return Outcome(status, error, _WARNING)
