"""The Pub/Sub sink, through a publisher with google-cloud-pubsub's interface."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

import pytest

from receiver.delivery import Delivery
from receiver.sinks.base import SinkUnavailable, UnstorableDelivery
from receiver.sinks.pubsub import PubSubSink
from tests.unit.receiver.fakes import FakePublisher, ManualClockLoop, finished, turns, until

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
    await until(lambda: len(publisher.futures) == 1)

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
    await until(lambda: len(publisher.futures) == 1)
    await turns()
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
    await until(lambda: len(publisher.futures) == 1)

    publisher.futures[0].set_exception(RuntimeError("403 permission denied"))

    with pytest.raises(SinkUnavailable, match="403 permission denied"):
        await store


async def test_a_message_the_client_refuses_fails_alone_and_leaves_the_sink_well() -> None:
    # Issue 22: one delivery the client would not take flipped /healthz to 503 until another
    # delivery published.
    class Refusing(FakePublisher):
        def publish(self, topic: str, data: bytes, /, **attrs: str) -> Future[str]:
            if attrs["eventName"] == "bad":
                raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
            return super().publish(topic, data, **attrs)

    publisher = Refusing()
    sink = PubSubSink(TOPIC, publisher)

    with pytest.raises(UnstorableDelivery, match="surrogates"):
        await sink.store(DELIVERY._replace(event_name="bad"))

    assert await sink.check() is None
    good = asyncio.create_task(sink.store(DELIVERY))
    await until(lambda: len(publisher.futures) == 1)
    publisher.futures[0].set_result("1")
    await good
    assert await sink.check() is None


async def test_a_publish_call_that_fails_otherwise_is_unavailable() -> None:
    class Stopped(FakePublisher):
        def publish(self, topic: str, data: bytes, /, **attrs: str) -> Future[str]:
            raise RuntimeError("Cannot publish on a stopped publisher.")

    sink = PubSubSink(TOPIC, Stopped())
    with pytest.raises(SinkUnavailable, match="stopped publisher"):
        await sink.store(DELIVERY)
    assert await sink.check() is not None


async def test_at_most_max_in_flight_messages_are_handed_to_the_client_during_a_stall() -> None:
    # Issue 22: the client commits each batch on a thread of its own, held for the batch's
    # retries; during a stall every delivery handed over added one.
    publisher = FakePublisher()
    sink = PubSubSink(TOPIC, publisher, hold_seconds=0.3, max_in_flight=3)

    stores = [
        asyncio.create_task(sink.store(DELIVERY._replace(key=f"{n:064x}"))) for n in range(10)
    ]
    await until(lambda: len(publisher.published) == 3)
    await turns()
    assert len(publisher.published) == 3

    publisher.futures[0].set_result("1")
    await until(lambda: len(publisher.published) == 4)
    await turns()
    assert len(publisher.published) == 4
    outcomes = await asyncio.gather(*stores, return_exceptions=True)
    assert outcomes[0] is None
    assert all(isinstance(outcome, SinkUnavailable) for outcome in outcomes[1:])


def test_a_delivery_is_held_while_the_publish_is_retried_until_confirmed() -> None:
    loop = ManualClockLoop(now=1000.0)
    publisher = FakePublisher()

    async def scenario() -> None:
        sink = PubSubSink(TOPIC, publisher, hold_seconds=5)
        store = asyncio.create_task(sink.store(DELIVERY))
        await until(lambda: len(publisher.futures) == 1)

        # The client retries within the hold; the delivery waits for its outcome, not a
        # timer of its own shorter than the hold.
        loop.now = 1004.99
        await turns()
        assert not store.done()
        publisher.futures[0].set_result("1")
        assert await finished(store)
        await store

    loop.run(scenario())


async def test_a_publish_that_never_resolves_times_out_as_unavailable() -> None:
    sink = PubSubSink(TOPIC, FakePublisher(), hold_seconds=0.05)

    with pytest.raises(SinkUnavailable, match="not confirmed within"):
        await sink.store(DELIVERY)


async def test_the_sink_is_failing_from_a_failed_publish_to_the_next_good_one() -> None:
    publisher = FakePublisher()
    sink = PubSubSink(TOPIC, publisher, hold_seconds=0.05)
    assert await sink.check() is None

    with pytest.raises(SinkUnavailable):
        await sink.store(DELIVERY)
    assert "not confirmed" in (await sink.check() or "")

    store = asyncio.create_task(sink.store(DELIVERY))
    await until(lambda: len(publisher.futures) == 2)
    publisher.futures[-1].set_result("id")
    await store
    assert await sink.check() is None


async def test_close_stops_the_client() -> None:
    stopped = threading.Event()
    sink = PubSubSink(TOPIC, FakePublisher(), on_close=stopped.set)

    await sink.close()

    assert stopped.is_set()
