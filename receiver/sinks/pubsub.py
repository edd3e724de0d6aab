"""Publishes each delivery to a Pub/Sub topic, acknowledging only once Pub/Sub has accepted it."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Protocol

from receiver.delivery import Delivery
from receiver.sinks.base import SinkUnavailable

# Answer 503 well before a sender would give up on us, so its retry is what happens next.
DEFAULT_PUBLISH_TIMEOUT_SECONDS = 10.0


class Publisher(Protocol):
    """What the sink uses of google.cloud.pubsub_v1.PublisherClient."""

    def publish(
        self, topic: str, data: bytes, /, **attrs: str
    ) -> concurrent.futures.Future[str]: ...


class PubSubSink:
    def __init__(
        self,
        topic: str,
        publisher: Publisher,
        *,
        timeout_seconds: float = DEFAULT_PUBLISH_TIMEOUT_SECONDS,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._topic = topic
        self._publisher = publisher
        self._timeout = timeout_seconds
        self._on_close = on_close

    async def start(self) -> None:
        pass

    async def store(self, delivery: Delivery) -> None:
        try:
            future = self._publisher.publish(
                self._topic,
                delivery.record_json(),
                eventName=delivery.event_name,
                deliveryKey=delivery.key,
            )
            # The future's result is read in its done-callback, on the publisher's thread;
            # nothing blocks the event loop, and no thread is held per request in flight.
            await asyncio.wait_for(asyncio.wrap_future(future), self._timeout)
        except TimeoutError:
            # The message may still be published; Texter's retry then gives a copy under the
            # same deliveryKey attribute, which subscribers can drop.
            raise SinkUnavailable(f"publish to {self._topic} timed out") from None
        except Exception as error:
            raise SinkUnavailable(f"publish to {self._topic} failed: {error}") from error

    async def close(self) -> None:
        if self._on_close is not None:
            # PublisherClient.stop() flushes queued messages, blocking until they are sent.
            await asyncio.to_thread(self._on_close)


def create_pubsub_sink(topic: str) -> PubSubSink:
    # Imported here: google-cloud-pubsub takes most of a second to import, which every
    # other sink's cold start would otherwise pay.
    from google.cloud import pubsub_v1

    client = pubsub_v1.PublisherClient()
    return PubSubSink(topic, client, on_close=client.stop)
