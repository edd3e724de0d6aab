"""Duplicate deliveries: remembered for a window, only once stored, never raced to the sink."""

from __future__ import annotations

import asyncio

import pytest

from receiver.dedup import Deduplicator
from tests.unit.receiver.fakes import ManualClockLoop, turns, until

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class HandOffs:
    def __init__(self) -> None:
        self.calls = 0
        self.fail = False
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self) -> None:
        self.calls += 1
        await self.release.wait()
        if self.fail:
            raise OSError("sink down")


async def test_a_key_seen_within_the_window_is_a_duplicate() -> None:
    clock, hand_off = Clock(), HandOffs()
    dedup = Deduplicator(60, clock=clock)

    assert await dedup.hand_off_once("k", hand_off)
    clock.now += 59.9
    assert not await dedup.hand_off_once("k", hand_off)
    assert hand_off.calls == 1


async def test_a_key_is_forgotten_after_the_window() -> None:
    clock, hand_off = Clock(), HandOffs()
    dedup = Deduplicator(60, clock=clock)
    await dedup.hand_off_once("k", hand_off)

    clock.now += 60
    assert await dedup.hand_off_once("k", hand_off)
    assert hand_off.calls == 2


async def test_a_failed_hand_off_is_not_remembered() -> None:
    hand_off = HandOffs()
    dedup = Deduplicator(60, clock=Clock())
    hand_off.fail = True

    with pytest.raises(OSError, match="sink down"):
        await dedup.hand_off_once("k", hand_off)

    hand_off.fail = False
    assert await dedup.hand_off_once("k", hand_off)
    assert hand_off.calls == 2


async def test_a_copy_during_a_hand_off_waits_and_is_a_duplicate_if_it_succeeds() -> None:
    hand_off = HandOffs()
    dedup = Deduplicator(60, clock=Clock())
    hand_off.release.clear()
    first = asyncio.create_task(dedup.hand_off_once("k", hand_off))
    await asyncio.sleep(0)
    copy = asyncio.create_task(dedup.hand_off_once("k", hand_off))
    await turns()  # the copy runs until it waits for the hand-off in flight
    assert not copy.done()

    hand_off.release.set()

    assert await first
    assert not await copy
    assert hand_off.calls == 1


async def test_a_copy_during_a_failing_hand_off_hands_off_itself() -> None:
    hand_off = HandOffs()
    dedup = Deduplicator(60, clock=Clock())
    hand_off.release.clear()
    hand_off.fail = True
    first = asyncio.create_task(dedup.hand_off_once("k", hand_off))
    await asyncio.sleep(0)
    copy = asyncio.create_task(dedup.hand_off_once("k", hand_off))
    await turns()  # the copy runs until it waits for the hand-off in flight

    hand_off.release.set()
    with pytest.raises(OSError, match="sink down"):
        await first
    with pytest.raises(OSError, match="sink down"):
        await copy

    assert hand_off.calls == 2


async def test_a_cancelled_copy_does_not_disturb_the_hand_off() -> None:
    hand_off = HandOffs()
    dedup = Deduplicator(60, clock=Clock())
    hand_off.release.clear()
    first = asyncio.create_task(dedup.hand_off_once("k", hand_off))
    await asyncio.sleep(0)
    copy = asyncio.create_task(dedup.hand_off_once("k", hand_off))
    await turns()  # the copy runs until it waits for the hand-off in flight

    copy.cancel()
    hand_off.release.set()

    assert await first
    assert not await dedup.hand_off_once("k", hand_off)


async def test_memory_is_bounded_by_evicting_the_oldest() -> None:
    clock, hand_off = Clock(), HandOffs()
    dedup = Deduplicator(60, max_entries=3, clock=clock)
    for key in "abcd":
        clock.now += 1
        await dedup.hand_off_once(key, hand_off)

    assert len(dedup) <= 3
    assert await dedup.hand_off_once("a", hand_off)
    assert not await dedup.hand_off_once("d", hand_off)


async def test_expired_keys_are_dropped_within_a_window_as_new_ones_arrive() -> None:
    clock, hand_off = Clock(), HandOffs()
    dedup = Deduplicator(60, clock=clock)
    for key in "abc":
        await dedup.hand_off_once(key, hand_off)

    clock.now += 61
    await dedup.hand_off_once("d", hand_off)
    clock.now += 61
    await dedup.hand_off_once("e", hand_off)

    assert len(dedup) == 2
    assert await dedup.hand_off_once("a", hand_off)


async def test_after_a_quiet_window_nothing_old_is_held() -> None:
    clock, hand_off = Clock(), HandOffs()
    dedup = Deduplicator(60, clock=clock)
    for key in "abc":
        await dedup.hand_off_once(key, hand_off)

    clock.now += 121
    await dedup.hand_off_once("d", hand_off)

    assert len(dedup) == 1


async def test_a_key_is_a_duplicate_for_its_whole_window_across_turnovers() -> None:
    clock, hand_off = Clock(), HandOffs()
    dedup = Deduplicator(60, clock=clock)
    await dedup.hand_off_once("first", hand_off)
    clock.now += 59
    await dedup.hand_off_once("k", hand_off)

    # Past a turnover after "k" was stored, but within its window: still a duplicate.
    for step in range(1, 6):
        clock.now += 11.5
        await dedup.hand_off_once(f"other-{step}", hand_off)
        assert not await dedup.hand_off_once("k", hand_off)
    clock.now += 2.6
    assert await dedup.hand_off_once("k", hand_off)


async def test_a_zero_window_remembers_nothing() -> None:
    hand_off = HandOffs()
    dedup = Deduplicator(0, clock=Clock())

    assert await dedup.hand_off_once("k", hand_off)
    assert await dedup.hand_off_once("k", hand_off)
    assert len(dedup) == 0


def test_each_copy_is_answered_within_its_own_deadline() -> None:
    # Issue 22: during a stall the k-th copy of a delivery waited for the one before it to
    # fail, then handed off with a fresh timeout: answered after k timeouts. On a clock the
    # test moves, so what is checked is when each copy is answered, not how fast.
    deadline = 0.2
    loop = ManualClockLoop(now=1000.0)
    answered: list[float] = []

    async def scenario() -> None:
        dedup = Deduplicator(600, copy_deadline_seconds=deadline)

        async def stalled_sink() -> None:
            # What a sink does during a stall: fails once its own hold has passed.
            await asyncio.sleep(deadline)
            raise RuntimeError("not confirmed")

        async def copy() -> None:
            try:
                await dedup.hand_off_once("k", stalled_sink)
            except (RuntimeError, TimeoutError):
                answered.append(loop.time())

        copies = [asyncio.create_task(copy()) for _ in range(5)]
        await turns()
        assert answered == []
        loop.now = 1000.0 + deadline
        await until(lambda: all(task.done() for task in copies))

    loop.run(scenario())

    # All five when one deadline has passed, not 1, 2, ... 5 of them.
    assert answered == [1000.0 + deadline] * 5
