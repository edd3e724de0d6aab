"""Control endpoints refuse non-loopback clients."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from simulator.app import Simulator
from simulator.config import SimulatorConfig
from simulator.control import serve_control
from simulator.messages import Response


@dataclass
class FakeExchange:
    client_host: str
    method: str = "POST"
    path: str = "/_sim/reset"
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    responses: list[Response] = field(default_factory=list)

    def read_body(self) -> bytes:
        return b""

    def respond(self, response: Response) -> None:
        self.responses.append(response)

    def drop(self) -> None:
        raise AssertionError("control requests are never dropped")


@pytest.fixture
def sim():
    simulator = Simulator(SimulatorConfig(), {"t": frozenset()}, lambda _: None)
    yield simulator
    simulator.close()


@pytest.mark.parametrize("host", ["192.168.1.20", "2001:db8::1", "not-an-ip"])
def test_remote_clients_are_refused(sim, host):
    sim.set_latency(25)

    status = serve_control(sim, FakeExchange(client_host=host))

    assert status == 403
    assert sim.latency_ms == 25  # the reset did not run


@pytest.mark.parametrize("host", ["127.8.9.10", "::1"])
def test_loopback_clients_are_served(sim, host):
    sim.set_latency(25)

    assert serve_control(sim, FakeExchange(client_host=host)) == 200
    assert sim.latency_ms == 0
