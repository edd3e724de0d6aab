"""Recognises a delivery Texter sends again, so it is acknowledged without a second hand-off.

Only hand-offs that succeeded are remembered: a delivery whose hand-off failed must be stored
when Texter retries it. A copy arriving while the first is still being handed off waits for
that outcome instead of racing it to the sink, within its own deadline (the hold): should the
first fail, the copy hands itself off with what is left of its own time, never a fresh hold,
so the k-th copy is not answered after k holds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVarTuple

from receiver.settings import DEFAULT_DEDUP_MAX_KEYS, DEFAULT_HOLD_SECONDS

# Bounds the memory a burst can take (RECEIVER_DEDUP_MAX_KEYS; ~175 bytes a key).
DEFAULT_MAX_ENTRIES = DEFAULT_DEDUP_MAX_KEYS

Args = TypeVarTuple("Args")


class Deduplicator:
    """Keys in two generations, each a plain dict of key -> time stored.

    Keys are stored in the recent generation; at a turnover (once a window has passed since
    the last, or when the recent one is full) it becomes the older one and the older one is
    dropped whole. A key therefore stays at least a window (unless memory runs short, when
    the oldest go first) and is judged by its own time, so a duplicate is exactly a key
    stored less than a window ago. Rather than one ordered map trimmed at every request (a
    cost every request paid; the figure: bench/README.md), this costs a dict insert and,
    once a window, dropping a dict.
    """

    def __init__(
        self,
        window_seconds: float,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        copy_deadline_seconds: float = DEFAULT_HOLD_SECONDS,
    ) -> None:
        self._window = window_seconds
        self._copy_deadline = copy_deadline_seconds
        self._generation_size = max(1, max_entries // 2)
        self._clock = clock
        self._recent: dict[str, float] = {}
        self._older: dict[str, float] = {}
        self._turnover_at = clock() + window_seconds
        # Per key being handed off: the copies waiting for its outcome (True if stored); None
        # until a copy comes, which is rare, so the common case allocates no list.
        self._in_flight: dict[str, list[asyncio.Future[bool]] | None] = {}

    async def hand_off_once(
        self, key: str, hand_off: Callable[[*Args], Awaitable[None]], *args: *Args
    ) -> bool:
        """Runs `hand_off(*args)` unless `key` was handed off within the window.

        Returns True if it ran, False for a duplicate; an exception from `hand_off` propagates
        and leaves the key unremembered.
        """
        in_flight = self._in_flight
        # The common case, a key never seen, goes straight on; any other waits or is refused.
        if key in self._recent or key in self._older or key in in_flight:
            return await self._hand_off_copy(key, hand_off, *args)
        # _hand_off, inline: a coroutine less for every delivery.
        in_flight[key] = None
        stored = False
        try:
            await hand_off(*args)
            stored = True
        finally:
            self._settle(key, stored)
        return True

    async def _hand_off(
        self, key: str, hand_off: Callable[[*Args], Awaitable[None]], *args: *Args
    ) -> None:
        """Hands off `key` (a copy's path; hand_off_once inlines it for the common case)."""
        in_flight = self._in_flight
        in_flight[key] = None
        stored = False
        try:
            await hand_off(*args)
            stored = True
        finally:
            self._settle(key, stored)

    def _settle(self, key: str, stored: bool) -> None:
        """Ends `key`'s hand-off: remembers it if stored, and tells the copies waiting."""
        waiters = self._in_flight.pop(key)
        if stored and self._window > 0:
            self._remember(key)
        if waiters:
            for outcome in waiters:
                if not outcome.done():
                    outcome.set_result(stored)

    async def _hand_off_copy(
        self, key: str, hand_off: Callable[[*Args], Awaitable[None]], *args: *Args
    ) -> bool:
        """A key seen before: within the copy's own deadline, waits for the copy in flight,
        and hands off if that one failed (or the key has expired). Raises TimeoutError past
        the deadline. Rare, so the timer it costs is paid only here."""
        async with asyncio.timeout(self._copy_deadline):
            if not await self._wait_for_copy(key):
                return False
            await self._hand_off(key, hand_off, *args)
            return True

    async def _wait_for_copy(self, key: str) -> bool:
        """For a key seen before: False if it is a duplicate, True if it is to be handed off
        (it was remembered but has expired, or the copy in flight failed)."""
        in_flight = self._in_flight
        while True:
            stored_at = self._recent.get(key)
            if stored_at is None:
                stored_at = self._older.get(key)
            if stored_at is not None and self._clock() - stored_at < self._window:
                return False
            if key not in in_flight:
                return True
            waiters = in_flight[key]
            if waiters is None:
                waiters = in_flight[key] = []
            # A future per waiter, so a waiter that is cancelled affects no other.
            outcome: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            waiters.append(outcome)
            if await outcome:
                return False

    def __len__(self) -> int:
        """Keys held, expired ones not yet dropped included."""
        return len(self._recent) + len(self._older)

    def _remember(self, key: str) -> None:
        now = self._clock()
        if now >= self._turnover_at or len(self._recent) >= self._generation_size:
            if now >= self._turnover_at + self._window:
                # Idle for a window or more: everything held has expired.
                self._older = {}
            else:
                self._older = self._recent
            self._recent = {}
            self._turnover_at = now + self._window
        self._recent[key] = now
