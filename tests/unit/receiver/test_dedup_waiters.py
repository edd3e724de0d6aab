"""Copies of one delivery waiting on a hand-off that fails: none of them counts as stored,
and one of them then hands itself off while the rest wait for it (stored once). A delivery
the sink refuses is a 422 (Texter does not retry it); a copy not stored within the hold is a
503 with Retry-After.

No timed sleeps: a copy's path from hand_off_once to its wait has no suspension point, so a
copy that has entered hand_off_once and is suspended without calling the sink is waiting;
`until` only yields to the loop (no time passes) until the copies have entered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TypeVarTuple

import httpx
import pytest

from receiver.app import ReceiverApp
from receiver.auth import SecretMatcher
from receiver.dedup import Deduplicator
from receiver.delivery import Delivery
from receiver.request_log import RequestLog
from receiver.sinks.base import UnstorableDelivery
from tests.unit.receiver.conftest import MAX_BODY_BYTES, SECRET, serving
from tests.unit.receiver.fakes import RecordingSink, until

pytestmark = pytest.mark.anyio

Args = TypeVarTuple("Args")
COPIES = 3
KEY = "delivery-key"


class SinkDown:
    """A hand-off that fails; the first call is held until `release` is set."""

    def __init__(self) -> None:
        self.calls = 0
        self.down = True
        self.release = asyncio.Event()

    async def __call__(self) -> None:
        self.calls += 1
        await self.release.wait()
        if self.down:
            raise OSError("sink down")


class CountingDeduplicator(Deduplicator):
    """A Deduplicator that counts the requests that reached it."""

    entered = 0

    async def hand_off_once(
        self, key: str, hand_off: Callable[[*Args], Awaitable[None]], *args: *Args
    ) -> bool:
        self.entered += 1
        return await super().hand_off_once(key, hand_off, *args)


async def test_copies_waiting_on_a_failed_hand_off_are_not_stored_and_the_key_is_not_kept() -> None:
    dedup = CountingDeduplicator(60)
    sink = SinkDown()
    first = asyncio.create_task(dedup.hand_off_once(KEY, sink))
    await until(lambda: sink.calls == 1)
    copies = [asyncio.create_task(dedup.hand_off_once(KEY, sink)) for _ in range(COPIES)]
    await until(lambda: dedup.entered == 1 + COPIES)
    # Entered, suspended, and the sink not called again: every copy waits on the first.
    assert sink.calls == 1
    assert not first.done()
    assert not any(copy.done() for copy in copies)

    sink.release.set()
    outcomes = await asyncio.gather(first, *copies, return_exceptions=True)

    # None was told "stored" (False, a duplicate): each handed itself off and failed too.
    assert [type(outcome) for outcome in outcomes] == [OSError] * (1 + COPIES)
    assert sink.calls == 1 + COPIES
    # And the key was not remembered: a later copy is handed off, and then it is stored.
    sink.down = False
    assert await dedup.hand_off_once(KEY, sink) is True
    assert sink.calls == 2 + COPIES
    assert await dedup.hand_off_once(KEY, sink) is False


@pytest.fixture
def counting_dedup() -> CountingDeduplicator:
    return CountingDeduplicator(600)


def dedup_app(sink: RecordingSink, dedup: Deduplicator, request_log: RequestLog) -> ReceiverApp:
    return ReceiverApp(
        matcher=SecretMatcher([SECRET.encode()]),
        sink=sink,
        dedup=dedup,
        max_body_bytes=MAX_BODY_BYTES,
        request_log=request_log,
    )


@pytest.fixture
def app(
    sink: RecordingSink, request_log: RequestLog, counting_dedup: CountingDeduplicator
) -> ReceiverApp:
    return dedup_app(sink, counting_dedup, request_log)


def delivery_of(chat_id: str) -> str:
    return json.dumps({"eventName": "chatAssigned", "eventData": {"chat": {"_id": chat_id}}})


async def deliver(client: httpx.AsyncClient, chat_id: str = "c1") -> httpx.Response:
    return await client.post(
        f"/hooks/{SECRET}",
        content=delivery_of(chat_id),
        headers={"content-type": "application/json"},
    )


async def test_copies_of_a_delivery_whose_hand_off_fails_are_each_answered_503_not_duplicate(
    client: httpx.AsyncClient, sink: RecordingSink, counting_dedup: CountingDeduplicator
) -> None:
    sink.fail_next = 1 + COPIES  # the sink is down for the first and every waiting copy
    sink.gate.clear()
    requests = [asyncio.create_task(deliver(client)) for _ in range(1 + COPIES)]
    await until(lambda: counting_dedup.entered == 1 + COPIES)
    assert sink.attempts == 1  # the copies wait for the first's outcome

    sink.gate.set()
    answers = [await request for request in requests]

    assert [answer.status_code for answer in answers] == [503] * (1 + COPIES)
    assert sink.stored == []
    # Texter's next retry is stored: the failure left nothing remembered.
    retried = await deliver(client)
    assert retried.status_code == 200
    assert retried.json()["status"] == "accepted"
    assert len(sink.stored) == 1


async def test_after_a_failed_hand_off_one_waiting_copy_is_stored_and_the_rest_are_duplicates(
    client: httpx.AsyncClient, sink: RecordingSink, counting_dedup: CountingDeduplicator
) -> None:
    sink.fail_next = 1  # only the first hand-off fails: the sink is back for the copies
    sink.gate.clear()
    first = asyncio.create_task(deliver(client))
    await until(lambda: sink.attempts == 1)
    copies = [asyncio.create_task(deliver(client)) for _ in range(COPIES)]
    await until(lambda: counting_dedup.entered == 1 + COPIES)
    assert sink.attempts == 1  # the copies wait for the first's outcome

    sink.gate.set()
    failed = await first
    answers = [await copy for copy in copies]

    assert failed.status_code == 503
    assert [answer.status_code for answer in answers] == [200] * COPIES
    statuses = sorted(answer.json()["status"] for answer in answers)
    assert statuses == ["accepted"] + ["duplicate"] * (COPIES - 1)
    assert sink.attempts == 2  # the failed one, then one copy: the others waited for it
    assert len(sink.stored) == 1


class RefusingSink(RecordingSink):
    """A sink that refuses what one chat's deliveries carry, and stores the rest."""

    async def store(self, delivery: Delivery) -> None:
        if b"refused-chat" in delivery.body:
            self.attempts += 1
            raise UnstorableDelivery("the sink refuses what it carries")
        await super().store(delivery)


async def test_a_delivery_the_sink_refuses_is_422_so_texter_does_not_retry_it(
    request_log: RequestLog,
) -> None:
    sink = RefusingSink()
    async with serving(dedup_app(sink, Deduplicator(600), request_log)) as client:
        refused = await deliver(client, "refused-chat")
        stored = await deliver(client, "c2")
        health = await client.get("/healthz")

    assert refused.status_code == 422
    assert refused.json() == {"error": "the delivery cannot be stored"}
    assert "retry-after" not in refused.headers
    assert stored.status_code == 200  # only that delivery: the sink is well
    assert len(sink.stored) == 1
    assert health.status_code == 200


async def test_a_copy_not_stored_within_the_hold_is_503_with_retry_after(
    sink: RecordingSink, request_log: RequestLog
) -> None:
    held = dedup_app(sink, Deduplicator(600, copy_deadline_seconds=0.05), request_log)
    async with serving(held) as client:
        sink.gate.clear()  # the first hand-off is held past the copy's hold
        first = asyncio.create_task(deliver(client))
        await until(lambda: sink.attempts == 1)
        async with asyncio.timeout(10):  # a bound for a copy that would wait forever
            copy = await deliver(client)
        sink.gate.set()
        stored = await first

    assert copy.status_code == 503
    assert copy.headers["retry-after"] == "1"
    assert stored.status_code == 200
    assert len(sink.stored) == 1
