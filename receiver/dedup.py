"""Recognises a delivery Texter sends again, so it is acknowledged without a second hand-off.

Only hand-offs that succeeded are remembered: a delivery whose hand-off failed must be stored
when Texter retries it. A copy arriving while the first is still being handed off waits for
that outcome instead of racing it to the sink.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVarTuple

# Bounds the memory a burst can take; at ~200 bytes an entry this is ~20 MB.
DEFAULT_MAX_ENTRIES = 100_000

Args = TypeVarTuple("Args")


class Deduplicator:
    def __init__(
        self,
        window_seconds: float,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window_seconds
        self._max_entries = max_entries
        self._clock = clock
        # Kept in completion order, so the oldest entries are always first. An OrderedDict, as
        # a dict whose front keeps being deleted makes each look at its first key O(deletions).
        self._stored_at: OrderedDict[str, float] = OrderedDict()
        # Per key being handed off: the copies waiting for its outcome (True if stored).
        self._in_flight: dict[str, list[asyncio.Future[bool]]] = {}

    async def hand_off_once(
        self, key: str, hand_off: Callable[[*Args], Awaitable[None]], *args: *Args
    ) -> bool:
        """Runs `hand_off(*args)` unless `key` was handed off within the window.

        Returns True if it ran, False for a duplicate; an exception from `hand_off` propagates
        and leaves the key unremembered.
        """
        while True:
            if self._is_remembered(key):
                return False
            waiters = self._in_flight.get(key)
            if waiters is None:
                break
            # A future per waiter, so a waiter that is cancelled affects no other.
            outcome: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            waiters.append(outcome)
            if await outcome:
                return False
        self._in_flight[key] = []
        stored = False
        try:
            await hand_off(*args)
            stored = True
        finally:
            waiters = self._in_flight.pop(key)
            if stored:
                self._remember(key)
            for outcome in waiters:
                if not outcome.done():
                    outcome.set_result(stored)
        return True

    def __len__(self) -> int:
        return len(self._stored_at)

    def _is_remembered(self, key: str) -> bool:
        stored_at = self._stored_at.get(key)
        return stored_at is not None and self._clock() - stored_at < self._window

    def _remember(self, key: str) -> None:
        if self._window <= 0:
            return
        now = self._clock()
        entries = self._stored_at
        entries[key] = now
        entries.move_to_end(key)
        horizon = now - self._window
        while entries:
            oldest = next(iter(entries))
            if entries[oldest] > horizon and len(entries) <= self._max_entries:
                break
            entries.popitem(last=False)
