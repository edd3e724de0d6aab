"""ListingSnapshot: one listing (or one failure) shared by every caller of a process."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from texter_webhooks.texter.errors import UnavailableError
from texter_webhooks.texter.snapshot import ListingSnapshot


class CountingFetch:
    def __init__(self, *, fail: bool = False, delay: float = 0.05) -> None:
        self.calls = 0
        self.fail = fail
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self) -> list[dict]:
        with self._lock:
            self.calls += 1
        time.sleep(self.delay)  # a slow Texter: the others arrive while this one waits
        if self.fail:
            raise UnavailableError("list", "Texter is unavailable", status=503)
        return [{"_id": "a"}]


def test_concurrent_callers_share_one_listing() -> None:
    fetch = CountingFetch()
    snapshot = ListingSnapshot(fetch)
    with ThreadPoolExecutor(max_workers=4) as pool:  # the SDK's provider server shape
        results = list(pool.map(lambda _: snapshot.scenarios(), range(16)))
    assert fetch.calls == 1
    assert all(r == [{"_id": "a"}] for r in results)


def test_a_failed_listing_fails_every_waiting_caller_without_fetching_again() -> None:
    fetch = CountingFetch(fail=True)
    snapshot = ListingSnapshot(fetch)

    def call(_: int) -> str:
        with pytest.raises(UnavailableError) as failed:
            snapshot.scenarios()
        return str(failed.value)

    with ThreadPoolExecutor(max_workers=4) as pool:
        messages = list(pool.map(call, range(8)))
    assert fetch.calls == 1
    assert all("HTTP 503" in m for m in messages)


def test_invalidate_makes_the_next_caller_list_again_and_a_failure_expires() -> None:
    fetch = CountingFetch(delay=0)
    snapshot = ListingSnapshot(fetch, ttl=30)
    snapshot.scenarios()
    snapshot.invalidate()
    snapshot.scenarios()
    assert fetch.calls == 2

    failing = CountingFetch(fail=True, delay=0)
    expiring = ListingSnapshot(failing, ttl=0)
    for _ in range(2):
        with pytest.raises(UnavailableError):
            expiring.scenarios()
    assert failing.calls == 2  # past the TTL a failure is asked again, not kept forever
