"""The Pub/Sub emulator for a test session, topics on it, a proxy in front of it, and the
receiver publishing through that proxy.

The emulator must be installed (the Debian package google-cloud-cli-pubsub-emulator; .ci/run
provides it): a missing one fails these tests, naming the package, rather than skipping them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.pubsub.proxy import TcpProxy, free_port
from tests.integration.receiver.conftest import RunningReceiver, start_receiver, stop_receiver
from tooling.pubsub_emulator import (
    EmulatorMissing,
    RunningEmulator,
    emulator,
    ensure_subscription,
    ensure_topic,
    require_emulator,
)

PROJECT = "test-project"
# Short, so an outage costs a test seconds; the default is 25.
HOLD_SECONDS = 2.0


@pytest.fixture(scope="session")
def pubsub_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """One emulator on a free loopback port for the session; its output in a file."""
    try:
        require_emulator()
    except EmulatorMissing as missing:
        pytest.fail(f"the Pub/Sub emulator is required: {missing}", pytrace=False)
    work_dir = tmp_path_factory.mktemp("pubsub-emulator")
    with emulator("127.0.0.1", free_port(), work_dir) as running:
        yield running


@dataclass(frozen=True)
class Topic:
    emulator: str
    topic: str
    subscription: str


@pytest.fixture
def topic(pubsub_emulator: RunningEmulator) -> Topic:
    """A fresh topic with a subscription that holds every message published to it."""
    name = f"events-{uuid.uuid4().hex[:12]}"
    made = Topic(
        pubsub_emulator.host_port,
        f"projects/{PROJECT}/topics/{name}",
        f"projects/{PROJECT}/subscriptions/{name}-all",
    )
    ensure_topic(made.emulator, made.topic)
    ensure_subscription(made.emulator, made.topic, made.subscription)
    return made


@pytest.fixture
def proxy(pubsub_emulator: RunningEmulator) -> Iterator[TcpProxy]:
    host, _, port = pubsub_emulator.host_port.rpartition(":")
    proxy = TcpProxy(host, int(port))
    proxy.start()
    yield proxy
    proxy.close()


PubSubReceiverStarter = Callable[..., RunningReceiver]


@pytest.fixture
def start_pubsub_receiver(tmp_path: Path) -> Iterator[PubSubReceiverStarter]:
    """start(topic, emulator_host) runs `python -m receiver` publishing to `topic` through
    `emulator_host`; every one is stopped afterwards."""
    started: list[RunningReceiver] = []

    def start(topic: Topic, emulator_host: str, **env: str) -> RunningReceiver:
        running = start_receiver(
            tmp_path / f"receiver-{len(started)}",
            env={
                "RECEIVER_SINK": f"pubsub:{topic.topic}",
                "PUBSUB_EMULATOR_HOST": emulator_host,
                "RECEIVER_HOLD_SECONDS": str(HOLD_SECONDS),
                **env,
            },
        )
        started.append(running)
        return running

    yield start
    for running in started:
        stop_receiver(running)
