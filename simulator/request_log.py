"""The log of API requests served by ``GET /_sim/requests`` (control requests are not logged)."""

from __future__ import annotations

import copy
import threading
from collections import deque
from typing import Any

from simulator.ids import now_ms

# Bounded so a long-running local stack does not grow without limit.
MAX_ENTRIES = 10_000


class RequestLog:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=max_entries)

    def start(self, method: str, path: str) -> dict[str, Any]:
        """Record a request as it arrives; ``status`` stays null until it is answered."""
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "route": None,
            "status": None,
            "ts": now_ms(),
        }
        with self._lock:
            self._entries.append(entry)
        return entry

    def set_route(self, entry: dict[str, Any], route: str) -> None:
        with self._lock:
            entry["route"] = route

    def finish(self, entry: dict[str, Any], status: int | None) -> None:
        with self._lock:
            entry["status"] = status

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._entries))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
