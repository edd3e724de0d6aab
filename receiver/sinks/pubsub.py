"""Publishes each delivery to a Pub/Sub topic, acknowledging only once Pub/Sub has accepted it.

A message's data is the delivery's body exactly as received; its attributes are eventName,
deliveryKey (hex sha256 of that body) and receivedAt. The client batches messages (10 ms or
100 messages) and talks gRPC; with PUBSUB_EMULATOR_HOST set it talks to that emulator.

After a failed or timed-out publish the sink is failing until a publish succeeds, and
/healthz says so: a client that is wedged (or an instance cut off from Pub/Sub) is replaced by
the platform instead of answering 503 for ever.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, Protocol

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
        # Why the last publish failed; None once one has succeeded since.
        self._failure: str | None = None

    async def start(self) -> None:
        pass

    async def store(self, delivery: Delivery) -> None:
        try:
            future = self._publisher.publish(self._topic, delivery.body, **delivery.attributes())
            # The future's result is read in its done-callback, on the publisher's thread;
            # nothing blocks the event loop, and no thread is held per request in flight.
            await asyncio.wait_for(asyncio.wrap_future(future), self._timeout)
        except TimeoutError:
            # The message may still be published; Texter's retry then gives a copy under the
            # same deliveryKey attribute, which subscribers can drop.
            self._failure = f"publish to {self._topic} timed out after {self._timeout:g} s"
            raise SinkUnavailable(self._failure) from None
        except Exception as error:
            self._failure = f"publish to {self._topic} failed: {error}"
            raise SinkUnavailable(self._failure) from error
        self._failure = None

    async def check(self) -> str | None:
        # No probe: publishing one would put a message in the topic, and reading the topic
        # needs a permission the receiver is not given. The last publish's outcome tells.
        return self._failure

    async def close(self) -> None:
        if self._on_close is not None:
            # PublisherClient.stop() flushes queued messages, blocking until they are sent.
            await asyncio.to_thread(self._on_close)


def create_pubsub_sink(
    topic: str, *, timeout_seconds: float = DEFAULT_PUBLISH_TIMEOUT_SECONDS
) -> PubSubSink:
    # Imported here: google-cloud-pubsub takes most of a second to import, which every
    # other sink's cold start would otherwise pay.
    from google.api_core import exceptions, retry
    from google.cloud import pubsub_v1

    # The library's default retries a publish for 10 minutes with back-off growing 4x up to
    # 60 s: long after the sender was told 503, and slow to notice Pub/Sub is back. These
    # give up when the sender is answered, and retry at most a second apart.
    options: Any = pubsub_v1.types.PublisherOptions(
        retry=retry.Retry(
            initial=0.05,
            maximum=1.0,
            multiplier=2.0,
            predicate=retry.if_exception_type(
                exceptions.Aborted,
                exceptions.Cancelled,
                exceptions.DeadlineExceeded,
                exceptions.InternalServerError,
                exceptions.ResourceExhausted,
                exceptions.ServiceUnavailable,
                exceptions.Unknown,
            ),
            timeout=timeout_seconds,
        ),
        timeout=timeout_seconds,
    )
    client = pubsub_v1.PublisherClient(publisher_options=options)
    return PubSubSink(topic, client, timeout_seconds=timeout_seconds, on_close=client.stop)
