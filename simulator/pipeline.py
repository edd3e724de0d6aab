"""The order in which an API request meets latency, faults and the handlers.

Order matters for the fault kinds: ``reset`` aborts before the body is read or anything is
done; 429/500/503 answer after the body is read (keeping a keep-alive connection usable)
without touching state; ``commit_then_drop`` runs the handler, so the change is committed and
persisted, then aborts instead of answering.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from simulator.app import Simulator
from simulator.config import API_PREFIX
from simulator.errors import ApiError
from simulator.exchange import Exchange
from simulator.faults import STATUS_FAULTS, status_response
from simulator.messages import ApiRequest, Response
from simulator.routes import match


def serve_api(sim: Simulator, exchange: Exchange) -> int | None:
    """Serve one API request; the status sent, or None when the connection was dropped.

    The request log gets the status before the answer goes out: whoever has the answer
    finds the request logged."""
    entry = sim.requests.start(exchange.method, exchange.path)
    logged = _LoggingExchange(exchange, lambda status: sim.requests.finish(entry, status))
    status: int | None = None
    try:
        status = _serve(sim, logged, entry)
    finally:
        if status is None:
            sim.requests.finish(entry, None)
    return status


class _LoggingExchange:
    """The exchange, recording a response's status just before sending it."""

    def __init__(self, exchange: Exchange, record: Callable[[int], None]) -> None:
        self._exchange = exchange
        self._record = record

    def respond(self, response: Response) -> None:
        self._record(response.status)
        self._exchange.respond(response)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._exchange, name)


def _serve(sim: Simulator, exchange: Exchange, entry: dict[str, object]) -> int | None:
    sim.apply_latency()
    try:
        route, params = match(
            exchange.method, _relative(exchange.method, exchange.path), sim.routes
        )
    except ApiError as err:
        return _reply_error(exchange, err)
    sim.requests.set_route(entry, route.name)

    fault = sim.faults.take(route.name)
    if fault is not None and fault.fault == "reset":
        exchange.drop()
        return None
    try:
        body = exchange.read_body()
    except ApiError as err:
        return _reply_error(exchange, err)
    if fault is not None and fault.fault == "delay":
        sim.sleep(fault.delay_ms / 1000)
    if fault is not None and fault.fault in STATUS_FAULTS:
        return _reply(exchange, status_response(fault))

    request = ApiRequest(
        method=exchange.method,
        path=exchange.path,
        query=exchange.query,
        headers=exchange.headers,
        body=body,
        path_params=params,
    )
    response = sim.api.handle(route, request)
    if fault is not None and fault.fault == "commit_then_drop":
        exchange.drop()
        return None
    return _reply(exchange, response)


def _relative(method: str, path: str) -> str:
    if not path.startswith(API_PREFIX + "/"):
        raise ApiError(404, f"no such endpoint: {method} {path}")
    return path[len(API_PREFIX) :]


def _reply(exchange: Exchange, response: Response) -> int:
    exchange.respond(response)
    return response.status


def _reply_error(exchange: Exchange, err: ApiError) -> int:
    if err.status in (404, 405):
        # Consume the body so a keep-alive connection stays in step for the next request.
        with contextlib.suppress(ApiError):
            exchange.read_body()
    return _reply(exchange, Response(err.status, err.body(), err.headers))
