"""One Texter `list` shared by the many resources a provider process serves.

Texter has no single-get, so each refresh read and each pre-create lookup would list every
scenario: N resources, N lists. The provider process lives for one command and serves its
resources concurrently, so they share one listing, fetched once by whichever asks first.
A listing is dropped when the process itself writes (`invalidate`), so a read never
misses what this process just made or changed.

A failed listing is shared the same way: every caller waiting for it gets its error at
once, and callers for the rest of the TTL get it without asking again. Otherwise each
resource of a refresh during an outage would list again in turn, one full retry deadline
each, one after another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from texter_webhooks.texter.scenario import Scenario


class ListingSnapshot:
    def __init__(self, fetch: Callable[[], list[Scenario]], ttl: float = 30.0) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._lock = threading.Lock()
        self._taken: float | None = None
        self._scenarios: list[Scenario] = []
        self._failure: Exception | None = None

    def scenarios(self) -> list[Scenario]:
        # Held while fetching: concurrent callers wait for the one listing (or failure).
        with self._lock:
            now = time.monotonic()
            if self._taken is None or now - self._taken > self._ttl:
                try:
                    self._scenarios = self._fetch()
                    self._failure = None
                except Exception as exc:
                    self._failure = exc
                    raise
                finally:
                    self._taken = time.monotonic()
            if self._failure is not None:
                raise self._failure
            return self._scenarios

    def invalidate(self) -> None:
        with self._lock:
            self._taken = None
