"""Publishes each delivery to a Pub/Sub topic, acknowledging only once Pub/Sub has accepted it.

A message's data is the delivery's body exactly as received; its attributes are eventName,
deliveryKey (hex sha256 of that body) and receivedAt. The client batches messages (10 ms or
100 messages) and talks gRPC; with PUBSUB_EMULATOR_HOST set it talks to that emulator.

After a failed or timed-out publish the sink is failing until a publish succeeds, and
/healthz says so: a client that is wedged (or an instance cut off from Pub/Sub) is replaced by
the platform instead of answering 503 for ever.

Hold, don't drop: Texter documents no retry, so a 503 may be a lost event. A publish is
retried by the client (at most a second apart) for as long as the delivery is held
(RECEIVER_HOLD_SECONDS), and only then answered 503.

Bounded during a stall: the client commits each batch on a thread of its own that lives as
long as the batch's retries, so a stall at N deliveries a second would hold N x hold threads
(what a stall held, measured: bench/README.md). At most MAX_PUBLISHES_IN_FLIGHT messages are
handed to the client at once; a delivery past that waits for a slot, within its own hold. (The
client's own flow control either blocks the calling thread, here the event loop, or refuses
the message at once; neither holds it.)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, Protocol

from receiver.delivery import Delivery
from receiver.settings import DEFAULT_HOLD_SECONDS
from receiver.sinks.base import SinkUnavailable, UnstorableDelivery

# Messages handed to the client and not yet confirmed, at most: bounds its threads (one per
# batch at most) and memory (this many bodies) during a stall. Cloud Run sends at most its
# concurrency setting (80 by default) requests to an instance at once.
MAX_PUBLISHES_IN_FLIGHT = 100
# One publish attempt's deadline: an attempt stuck on a dead connection is abandoned and
# retried within the hold rather than waited on for all of it.
ATTEMPT_TIMEOUT_SECONDS = 5.0


# What PublisherClient.publish raises for a message it will not take (an attribute or data of
# the wrong type or encoding, a message too large): a fault of that message alone.
_REFUSED_BY_THE_CLIENT = (TypeError, ValueError)


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
        hold_seconds: float = DEFAULT_HOLD_SECONDS,
        max_in_flight: int = MAX_PUBLISHES_IN_FLIGHT,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._topic = topic
        self._publisher = publisher
        self._hold = hold_seconds
        self._slots = asyncio.Semaphore(max_in_flight)
        self._on_close = on_close
        # Why the last publish failed; None once one has succeeded since.
        self._failure: str | None = None

    async def start(self) -> None:
        pass

    async def store(self, delivery: Delivery) -> None:
        try:
            async with asyncio.timeout(self._hold):
                async with self._slots:
                    await self._publish(delivery)
        except TimeoutError:
            # The message may still be published; a retry then gives a copy under the same
            # deliveryKey attribute, which subscribers can drop.
            self._failure = f"publish to {self._topic} not confirmed within {self._hold:g} s"
            raise SinkUnavailable(self._failure) from None
        self._failure = None

    async def _publish(self, delivery: Delivery) -> None:
        try:
            future = self._publisher.publish(self._topic, delivery.body, **delivery.attributes())
        except _REFUSED_BY_THE_CLIENT as error:
            # The client refused this message before sending anything (what it carries): the
            # sink is as well as it was, and so are the other deliveries.
            raise UnstorableDelivery(f"the Pub/Sub client refused it: {error}") from None
        except Exception as error:
            self._failure = f"publish to {self._topic} failed: {error}"
            raise SinkUnavailable(self._failure) from error
        try:
            # The future's result is read in its done-callback, on the publisher's thread;
            # nothing blocks the event loop, and no thread is held per request in flight.
            await asyncio.wrap_future(future)
        except Exception as error:
            self._failure = f"publish to {self._topic} failed: {error}"
            raise SinkUnavailable(self._failure) from error

    async def check(self) -> str | None:
        # No probe: publishing one would put a message in the topic, and reading the topic
        # needs a permission the receiver is not given. The last publish's outcome tells.
        return self._failure

    async def close(self) -> None:
        if self._on_close is not None:
            # PublisherClient.stop() flushes queued messages, blocking until they are sent.
            await asyncio.to_thread(self._on_close)


def create_pubsub_sink(topic: str, *, hold_seconds: float = DEFAULT_HOLD_SECONDS) -> PubSubSink:
    # Imported here: google-cloud-pubsub takes most of a second to import, which every
    # other sink's cold start would otherwise pay.
    from google.api_core import exceptions, retry
    from google.cloud import pubsub_v1

    # The library's default retries a publish for 10 minutes with back-off growing 4x up to
    # 60 s: long after the sender was told 503, and slow to notice Pub/Sub is back. These
    # give up when the sender is answered, and retry at most a second apart, each attempt
    # abandoned after ATTEMPT_TIMEOUT_SECONDS.
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
            timeout=hold_seconds,
        ),
        timeout=min(hold_seconds, ATTEMPT_TIMEOUT_SECONDS),
    )
    client = pubsub_v1.PublisherClient(publisher_options=options)
    return PubSubSink(topic, client, hold_seconds=hold_seconds, on_close=client.stop)
