"""ListingSnapshot after a failed listing: the failure is shared for the TTL, then (or
after `invalidate`) Texter is asked again and its answer served. The clock is the test's."""

from __future__ import annotations

from typing import Any

import pytest

from texter_webhooks.texter import snapshot
from texter_webhooks.texter.errors import UnavailableError
from texter_webhooks.texter.snapshot import ListingSnapshot


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class Texter:
    """A listing that fails while Texter is down."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0

    def __call__(self) -> list[dict[str, Any]]:
        self.calls += 1
        if self.down:
            raise UnavailableError("list", "Texter is unavailable", status=503)
        return [{"_id": "a"}]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(snapshot, "time", clock)
    return clock


def test_a_failure_is_shared_for_the_ttl_then_texter_is_asked_again(clock: Clock) -> None:
    texter = Texter()
    listing = ListingSnapshot(texter, ttl=10)
    with pytest.raises(UnavailableError):
        listing.scenarios()
    texter.down = False
    clock.now += 5
    with pytest.raises(UnavailableError):
        listing.scenarios()  # within the TTL: the same failure, Texter not asked
    assert texter.calls == 1
    clock.now += 6
    assert listing.scenarios() == [{"_id": "a"}]  # Texter is back
    assert texter.calls == 2


def test_invalidate_asks_texter_again_within_the_ttl(clock: Clock) -> None:
    texter = Texter()
    listing = ListingSnapshot(texter, ttl=10)
    with pytest.raises(UnavailableError):
        listing.scenarios()
    texter.down = False
    listing.invalidate()
    assert listing.scenarios() == [{"_id": "a"}]
    assert texter.calls == 2
