"""The Pub/Sub sink, through a publisher with google-cloud-pubsub's interface."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

import pytest

from receiver.delivery import Delivery
from receiver.sinks.base import SinkUnavailable
from receiver.sinks.pubsub import PubSubSink
from tests.unit.receiver.fakes import FakePublisher

pytestmark = pytest.mark.anyio

TOPIC = "projects/my-project/topics/texter-events"
BODY = b'{"eventName": "chatResolved", "eventData": {"chat": {"_id": "c1", "n": 1.0E+400}}}'
DELIVERY = Delivery(
    key="ab" * 32,
    event_name="chatResolved",
    body=BODY,
    received_at="2026-01-02T03:04:05.000006Z",
)


async def test_a_delivery_is_published_as_received_with_its_name_and_key_as_attributes() -> None:
    publisher = FakePublisher()
    sink = PubSubSink(TOPIC, publisher)
    store = asyncio.create_task(sink.store(DELIVERY))
    await asyncio.sleep(0.01)

    publisher.futures[0].set_result("message-id-1")
    await store

    [(topic, data, attrs)] = publisher.published
    assert topic == TOPIC
    assert data == BODY
    assert attrs == {
        "eventName": "chatResolved",
        "deliveryKey": "ab" * 32,
        "receivedAt": "2026-01-02T03:04:05.000006Z",
    }


async def test_store_waits_for_the_publish_future_resolved_on_another_thread() -> None:
    publisher = FakePublisher()
    sink = PubSubSink(TOPIC, publisher)
    store = asyncio.create_task(sink.store(DELIVERY))
    await asyncio.sleep(0.05)
    assert not store.done()

    # The client resolves its futures on its own threads.
    resolver = threading.Thread(target=publisher.futures[0].set_result, args=("id",))
    resolver.start()
    await asyncio.wait_for(store, timeout=5)
    resolver.join()


async def test_a_failed_publish_is_unavailable() -> None:
    publisher = FakePublisher()
    sink = PubSubSink(TOPIC, publisher)
    store = asyncio.create_task(sink.store(DELIVERY))
    await asyncio.sleep(0.01)

    publisher.futures[0].set_exception(RuntimeError("403 permission denied"))

    with pytest.raises(SinkUnavailable, match="403 permission denied"):
        await store


async def test_a_publish_call_that_raises_is_unavailable() -> None:
    class Refusing(FakePublisher):
        def publish(self, topic: str, data: bytes, /, **attrs: str) -> Future[str]:
            raise ValueError("message too large")

    with pytest.raises(SinkUnavailable, match="message too large"):
        await PubSubSink(TOPIC, Refusing()).store(DELIVERY)


async def test_a_publish_that_never_resolves_times_out_as_unavailable() -> None:
    sink = PubSubSink(TOPIC, FakePublisher(), timeout_seconds=0.05)

    with pytest.raises(SinkUnavailable, match="timed out"):
        await sink.store(DELIVERY)


async def test_the_sink_is_failing_from_a_failed_publish_to_the_next_good_one() -> None:
    publisher = FakePublisher()
    sink = PubSubSink(TOPIC, publisher, timeout_seconds=0.05)
    assert await sink.check() is None

    with pytest.raises(SinkUnavailable):
        await sink.store(DELIVERY)
    assert "timed out" in (await sink.check() or "")

    store = asyncio.create_task(sink.store(DELIVERY))
    await asyncio.sleep(0.01)
    publisher.futures[-1].set_result("id")
    await store
    assert await sink.check() is None


async def test_close_stops_the_client() -> None:
    stopped = threading.Event()
    sink = PubSubSink(TOPIC, FakePublisher(), on_close=stopped.set)

    await sink.close()

    assert stopped.is_set()
