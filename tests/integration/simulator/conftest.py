"""Fixtures that run the simulator in-process, the way client and provider tests can.

``make_simulator(**config)`` starts a SimulatorServer on 127.0.0.1 and a free port with the
given SimulatorConfig fields and stops it at teardown; ``sim`` is one with default settings
and the token ``ALL_TOKEN`` (every scope); ``api`` talks to it; ``capture`` is a local webhook
receiver for delivered events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from simulator import ALL_SCOPES, SimulatorConfig, SimulatorServer
from tests.integration.simulator.capture import CaptureServer
from tests.integration.simulator.client import ALL_TOKEN, Api

MakeSimulator = Callable[..., SimulatorServer]


@pytest.fixture
def make_simulator() -> Iterator[MakeSimulator]:
    started: list[SimulatorServer] = []

    def make(*, sleep: Callable[[float], None] | None = None, **config: Any) -> SimulatorServer:
        config.setdefault("tokens", {ALL_TOKEN: ALL_SCOPES})
        config.setdefault("log_requests", False)
        server = SimulatorServer(SimulatorConfig(**config), sleep=sleep or time.sleep).start()
        started.append(server)
        return server

    yield make
    for server in reversed(started):
        server.stop()


@pytest.fixture
def sim(make_simulator: MakeSimulator) -> SimulatorServer:
    return make_simulator()


@pytest.fixture
def api(sim: SimulatorServer) -> Iterator[Api]:
    client = Api(sim)
    yield client
    client.close()


@pytest.fixture
def capture() -> Iterator[CaptureServer]:
    server = CaptureServer().start()
    yield server
    server.stop()
