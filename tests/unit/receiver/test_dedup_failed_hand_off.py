"""Copies of a delivery waiting on a hand-off that fails: one of them hands itself off, and
the rest wait for that one, so a delivery Texter sent several times is stored once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from receiver.app import ReceiverApp
from receiver.auth import SecretMatcher
from receiver.dedup import Deduplicator
from receiver.delivery import Delivery
from receiver.request_log import RequestLog
from receiver.sinks.base import UnstorableDelivery
from tests.unit.receiver.conftest import MAX_BODY_BYTES, SECRET
from tests.unit.receiver.fakes import RecordingSink, until
from tests.unit.receiver.test_dedup_waiters import COPIES, CountingDeduplicator

pytestmark = pytest.mark.anyio


@pytest.fixture
def counting_dedup() -> CountingDeduplicator:
    return CountingDeduplicator(600)


@pytest.fixture
async def receiver(
    sink: RecordingSink, request_log: RequestLog, counting_dedup: CountingDeduplicator
) -> AsyncIterator[httpx.AsyncClient]:
    app = ReceiverApp(
        matcher=SecretMatcher([SECRET.encode()]),
        sink=sink,
        dedup=counting_dedup,
        max_body_bytes=MAX_BODY_BYTES,
        request_log=request_log,
    )
    await app.startup()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        yield client
    await app.shutdown()


async def test_after_a_failed_hand_off_one_waiting_copy_is_stored_and_the_rest_are_duplicates(
    receiver: httpx.AsyncClient, sink: RecordingSink, counting_dedup: CountingDeduplicator
) -> None:
    payload = json.dumps({"eventName": "chatAssigned", "eventData": {"chat": {"_id": "c1"}}})

    async def deliver() -> httpx.Response:
        return await receiver.post(
            f"/hooks/{SECRET}", content=payload, headers={"content-type": "application/json"}
        )

    sink.fail_next = 1  # only the first hand-off fails: the sink is back for the copies
    sink.gate.clear()
    first = asyncio.create_task(deliver())
    await until(lambda: sink.attempts == 1)
    copies = [asyncio.create_task(deliver()) for _ in range(COPIES)]
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


def delivery_of(chat_id: str) -> str:
    return json.dumps({"eventName": "chatAssigned", "eventData": {"chat": {"_id": chat_id}}})


async def test_a_delivery_the_sink_refuses_is_422_so_texter_does_not_retry_it(
    request_log: RequestLog,
) -> None:
    sink = RefusingSink()
    app = ReceiverApp(
        matcher=SecretMatcher([SECRET.encode()]),
        sink=sink,
        dedup=Deduplicator(600),
        max_body_bytes=MAX_BODY_BYTES,
        request_log=request_log,
    )
    await app.startup()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        headers = {"content-type": "application/json"}
        refused = await client.post(
            f"/hooks/{SECRET}", content=delivery_of("refused-chat"), headers=headers
        )
        stored = await client.post(f"/hooks/{SECRET}", content=delivery_of("c2"), headers=headers)
        health = await client.get("/healthz")
    await app.shutdown()

    assert refused.status_code == 422
    assert refused.json() == {"error": "the delivery cannot be stored"}
    assert "retry-after" not in refused.headers
    assert stored.status_code == 200  # only that delivery: the sink is well
    assert len(sink.stored) == 1
    assert health.status_code == 200


async def test_a_copy_not_stored_within_the_hold_is_503_with_retry_after(
    sink: RecordingSink, request_log: RequestLog
) -> None:
    app = ReceiverApp(
        matcher=SecretMatcher([SECRET.encode()]),
        sink=sink,
        dedup=Deduplicator(600, copy_deadline_seconds=0.05),
        max_body_bytes=MAX_BODY_BYTES,
        request_log=request_log,
    )
    await app.startup()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:

        async def deliver() -> httpx.Response:
            return await client.post(
                f"/hooks/{SECRET}",
                content=delivery_of("c1"),
                headers={"content-type": "application/json"},
            )

        sink.gate.clear()  # the first hand-off is held past the copy's hold
        first = asyncio.create_task(deliver())
        await until(lambda: sink.attempts == 1)
        async with asyncio.timeout(10):  # a bound for a copy that would wait forever
            copy = await deliver()
        sink.gate.set()
        stored = await first
    await app.shutdown()

    assert copy.status_code == 503
    assert copy.headers["retry-after"] == "1"
    assert stored.status_code == 200
    assert len(sink.stored) == 1
