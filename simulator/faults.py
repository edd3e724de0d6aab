"""Injected faults: which of the next API requests fail, and how."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, replace
from typing import Any

from simulator.errors import ApiError
from simulator.messages import Response
from simulator.routes import ROUTE_NAMES
from simulator.validation import (
    Problems,
    check_unknown_keys,
    is_int,
    require_object,
)

ANY_ROUTE = "*"
FAULT_ROUTES: tuple[str, ...] = (*ROUTE_NAMES, ANY_ROUTE)
STATUS_FAULTS = ("429", "500", "503")
FAULT_KINDS: tuple[str, ...] = (*STATUS_FAULTS, "delay", "reset", "commit_then_drop")
# Faults that end without any HTTP response: the request log records status null for them.
DROPPING_FAULTS = ("reset", "commit_then_drop")


@dataclass(frozen=True)
class Fault:
    id: int
    route: str
    fault: str
    count: int
    retry_after: int = 1
    delay_ms: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "route": self.route,
            "fault": self.fault,
            "count": self.count,
            "retryAfter": self.retry_after,
            "delayMs": self.delay_ms,
        }


class FaultPlan:
    """Pending faults, applied first-in first-out to the requests whose route they match."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []
        self._ids = itertools.count(1)

    def add(
        self,
        route: str,
        fault: str,
        count: int = 1,
        *,
        retry_after: int = 1,
        delay_ms: int = 0,
    ) -> Fault:
        if route not in FAULT_ROUTES:
            raise ValueError(f"unknown route {route!r}")
        if fault not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault!r}")
        if count < 1 or retry_after < 0 or delay_ms < 0:
            raise ValueError("count must be >= 1, retry_after and delay_ms >= 0")
        with self._lock:
            entry = Fault(next(self._ids), route, fault, count, retry_after, delay_ms)
            self._pending.append(entry)
            return entry

    def take(self, route: str) -> Fault | None:
        """Consume one use of the first pending fault matching ``route`` (or ``*``)."""
        with self._lock:
            for index, entry in enumerate(self._pending):
                if entry.route in (route, ANY_ROUTE):
                    if entry.count > 1:
                        self._pending[index] = replace(entry, count=entry.count - 1)
                    else:
                        del self._pending[index]
                    return replace(entry, count=1)
            return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._pending)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()


def status_response(fault: Fault) -> Response:
    """The response of a 429/500/503 fault; never touches state."""
    status = int(fault.fault)
    messages = {
        429: "rate limit exceeded (injected fault)",
        500: "internal server error (injected fault)",
        503: "service unavailable (injected fault)",
    }
    headers = {"Retry-After": str(fault.retry_after)} if status == 429 else {}
    return Response(status, ApiError(status, messages[status]).body(), headers)


def add_from_json(plan: FaultPlan, body: Any) -> Fault:
    """Validate a ``POST /_sim/faults`` body and register the fault it describes."""
    problems = Problems()
    obj = require_object(body)
    check_unknown_keys(
        obj, ("route", "fault", "count", "retryAfter", "delayMs"), "", problems, lenient=False
    )
    if obj.get("route") not in FAULT_ROUTES:
        problems.add("route", f"must be one of {', '.join(FAULT_ROUTES)}")
    if obj.get("fault") not in FAULT_KINDS:
        problems.add("fault", f"must be one of {', '.join(FAULT_KINDS)}")
    count = obj.get("count", 1)
    if not is_int(count) or count < 1:
        problems.add("count", "must be a positive integer")
    retry_after = obj.get("retryAfter", 1)
    # Retry-After carries whole seconds (RFC 9110 delay-seconds).
    if not is_int(retry_after) or retry_after < 0:
        problems.add("retryAfter", "must be a non-negative integer (seconds)")
    delay_ms = obj.get("delayMs")
    if obj.get("fault") == "delay" and delay_ms is None:
        problems.add("delayMs", "is required for a delay fault")
    elif delay_ms is not None and (not is_int(delay_ms) or delay_ms < 0):
        problems.add("delayMs", "must be a non-negative integer (milliseconds)")
    problems.raise_if_any()
    return plan.add(
        obj["route"], obj["fault"], count, retry_after=retry_after, delay_ms=delay_ms or 0
    )
