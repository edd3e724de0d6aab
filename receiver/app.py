"""The receiver as an ASGI app: routing, the checks on a delivery, its hand-off, its log line.

Plain ASGI rather than a framework: the request path is short and fixed, and in the benchmark
(bench/receiver) Starlette's routing and Request/Response objects alone cost ~50 us of CPU per
request, where all of the receiver's own work costs ~120 us.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from receiver.asgi import (
    CLOSE_CONNECTION,
    BodyTooLarge,
    ClientDisconnected,
    Headers,
    Receive,
    Scope,
    Send,
    declared_length,
    header,
    is_json_content_type,
    read_body,
    send_json,
    send_raw_json,
)
from receiver.auth import HOOKS_PREFIX, SecretMatcher
from receiver.dedup import Deduplicator
from receiver.delivery import utc_timestamp
from receiver.envelope import InvalidEnvelope, MalformedBody, parse_delivery
from receiver.events import is_known_event
from receiver.logs import FIELDS
from receiver.settings import Settings
from receiver.sinks.base import Sink
from receiver.sinks.factory import build_sink

logger = logging.getLogger("receiver.requests")
lifecycle_logger = logging.getLogger("receiver")

HEALTH_PATH = "/healthz"
# Not HTTP statuses sent to anyone: what the log line shows for a client that went away.
CLIENT_CLOSED_REQUEST = 499

_OK = b'{"status":"ok"}'
_NOT_FOUND = b'{"error":"not found"}'
_METHOD_NOT_ALLOWED = b'{"error":"method not allowed"}'
_UNSUPPORTED_MEDIA_TYPE = b'{"error":"the content type must be application/json"}'
_TOO_LARGE = b'{"error":"the body is too large"}'
_UNAVAILABLE = b'{"error":"the delivery could not be stored; retry later"}'
_INTERNAL_ERROR = b'{"error":"internal error"}'


@dataclass(slots=True)
class Outcome:
    """What the log line says about one request."""

    status: int
    message: str
    severity: int = logging.INFO
    event_name: str | None = None
    delivery_key: str | None = None


class ReceiverApp:
    def __init__(
        self,
        *,
        matcher: SecretMatcher,
        sink: Sink,
        dedup: Deduplicator,
        max_body_bytes: int,
        clock: Callable[[], str] = utc_timestamp,
    ) -> None:
        self._matcher = matcher
        self._sink = sink
        self._dedup = dedup
        self._max_body_bytes = max_body_bytes
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def startup(self) -> None:
        await self._sink.start()

    async def shutdown(self) -> None:
        await self._sink.close()

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        try:
            outcome = await self._route(scope, receive, send)
        except Exception:
            # A bug must cost one request a 500, not the connection; the log keeps the trace.
            lifecycle_logger.exception("unhandled error in a request")
            outcome = Outcome(500, "internal error", logging.ERROR)
            # Fails if the response had already started; there is nothing more to tell then.
            with contextlib.suppress(Exception):
                await send_raw_json(send, 500, _INTERNAL_ERROR)
        self._log(scope, outcome, time.perf_counter() - started)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> Outcome:
        path: str = scope["path"]
        method: str = scope["method"]
        if path.startswith(HOOKS_PREFIX):
            candidate = path[len(HOOKS_PREFIX) :]
            if "/" in candidate or not self._matcher.matches(candidate):
                return await _reply(send, 404, _NOT_FOUND, "no such hook")
            if method != "POST":
                return await _reply(
                    send, 405, _METHOD_NOT_ALLOWED, "method not allowed", [(b"allow", b"POST")]
                )
            return await self._accept(scope, receive, send)
        if path == HEALTH_PATH:
            if method != "GET":
                return await _reply(
                    send, 405, _METHOD_NOT_ALLOWED, "method not allowed", [(b"allow", b"GET")]
                )
            return await _reply(send, 200, _OK, "healthy")
        return await _reply(send, 404, _NOT_FOUND, "no such path")

    async def _accept(self, scope: Scope, receive: Receive, send: Send) -> Outcome:
        if not is_json_content_type(header(scope, b"content-type")):
            return await _reply(
                send, 415, _UNSUPPORTED_MEDIA_TYPE, "rejected: not JSON", severity=logging.WARNING
            )
        length = declared_length(scope)
        if length is not None and length > self._max_body_bytes:
            return await _reply(
                send,
                413,
                _TOO_LARGE,
                "rejected: declared body too large",
                CLOSE_CONNECTION,
                severity=logging.WARNING,
            )
        try:
            body = await read_body(receive, self._max_body_bytes)
        except BodyTooLarge:
            return await _reply(
                send,
                413,
                _TOO_LARGE,
                "rejected: body too large",
                CLOSE_CONNECTION,
                severity=logging.WARNING,
            )
        except ClientDisconnected:
            return Outcome(CLIENT_CLOSED_REQUEST, "client closed the request", logging.WARNING)
        try:
            delivery = parse_delivery(body, self._clock())
        except MalformedBody as error:
            return await _reject(send, 400, f"malformed body: {error}")
        except InvalidEnvelope as error:
            return await _reject(send, 422, f"invalid envelope: {error}")

        known = is_known_event(delivery.event_name)
        try:
            fresh = await self._dedup.hand_off_once(
                delivery.key, partial(self._sink.store, delivery)
            )
        except Exception as error:
            await send_raw_json(send, 503, _UNAVAILABLE, [(b"retry-after", b"1")])
            return Outcome(
                503, f"hand-off failed: {error}", logging.ERROR, delivery.event_name, delivery.key
            )
        status = "accepted" if fresh else "duplicate"
        await send_raw_json(
            send, 200, f'{{"status":"{status}","deliveryKey":"{delivery.key}"}}'.encode()
        )
        if known:
            return Outcome(200, status, logging.INFO, delivery.event_name, delivery.key)
        return Outcome(
            200, f"{status} unknown event", logging.WARNING, delivery.event_name, delivery.key
        )

    def _log(self, scope: Scope, outcome: Outcome, seconds: float) -> None:
        if not logger.isEnabledFor(outcome.severity):
            return
        fields: dict[str, Any] = {
            "httpRequest": {
                "requestMethod": scope["method"],
                "requestUrl": self._matcher.redact_path(scope["path"]),
                "status": outcome.status,
                "latency": f"{seconds:.6f}s",
            }
        }
        if outcome.event_name is not None:
            fields["eventName"] = outcome.event_name
            fields["knownEvent"] = is_known_event(outcome.event_name)
        if outcome.delivery_key is not None:
            fields["deliveryKey"] = outcome.delivery_key
        logger.log(outcome.severity, outcome.message, extra={FIELDS: fields})

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
        sink=sink if sink is not None else build_sink(settings.sink),
        dedup=Deduplicator(settings.dedup_window_seconds),
        max_body_bytes=settings.max_body_bytes,
    )


async def _reply(
    send: Send,
    status: int,
    body: bytes,
    message: str,
    headers: Headers = (),
    *,
    severity: int = logging.INFO,
) -> Outcome:
    await send_raw_json(send, status, body, headers)
    return Outcome(status, message, severity)


async def _reject(send: Send, status: int, error: str) -> Outcome:
    await send_json(send, status, {"error": error})
    return Outcome(status, error, logging.WARNING)
