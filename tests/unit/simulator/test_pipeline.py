"""The order in which latency, faults and handlers meet an API request (no sockets)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from simulator.app import Simulator
from simulator.config import SimulatorConfig
from simulator.errors import ApiError
from simulator.messages import Response
from simulator.pipeline import serve_api
from simulator.scopes import ALL_SCOPES

TOKEN = "tok"
IMPORT_BODY = {
    "data": {
        "version": "v1",
        "name": "(SUB) Test",
        "triggerEvents": ["domain.chat.pending"],
        "actions": [
            {
                "name": "request",
                "params": {"url": "https://h.example/x", "method": "post", "data": {}},
            }
        ],
    }
}


@dataclass
class FakeExchange:
    method: str
    path: str
    body: bytes = b""
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(
        default_factory=lambda: {
            "authorization": f"Bearer {TOKEN}",
            "content-type": "application/json",
        }
    )
    client_host: str = "127.0.0.1"
    body_reads: int = 0
    responses: list[Response] = field(default_factory=list)
    dropped: bool = False
    unreadable: bool = False

    def read_body(self) -> bytes:
        self.body_reads += 1
        if self.unreadable:
            raise ApiError(413, "too large")
        return self.body

    def respond(self, response: Response) -> None:
        self.responses.append(response)

    def drop(self) -> None:
        self.dropped = True


@pytest.fixture
def sim():
    slept: list[float] = []
    simulator = Simulator(SimulatorConfig(), {TOKEN: ALL_SCOPES}, slept.append)
    simulator.slept = slept  # type: ignore[attr-defined]
    yield simulator
    simulator.close()


def _import_exchange() -> FakeExchange:
    return FakeExchange(
        "POST", "/server/api/v2/scenarios/manage/import", json.dumps(IMPORT_BODY).encode()
    )


def test_a_normal_request_is_answered_and_logged(sim):
    exchange = _import_exchange()

    status = serve_api(sim, exchange)

    assert status == 201
    assert [r.status for r in exchange.responses] == [201]
    assert sim.requests.entries()[0]["status"] == 201
    assert len(sim.store.scenarios(include_system=True)) == 1


def test_reset_drops_without_reading_the_body(sim):
    sim.faults.add("import", "reset")
    exchange = _import_exchange()

    status = serve_api(sim, exchange)

    assert status is None
    assert exchange.dropped
    assert exchange.body_reads == 0
    assert exchange.responses == []
    assert sim.store.scenarios(include_system=True) == []


@pytest.mark.parametrize("kind", ["429", "500", "503"])
def test_status_faults_read_the_body_but_never_reach_the_handler(sim, kind):
    sim.faults.add("import", kind)
    exchange = _import_exchange()

    status = serve_api(sim, exchange)

    assert status == int(kind)
    assert exchange.body_reads == 1  # keeps a keep-alive connection in step
    assert sim.store.scenarios(include_system=True) == []


def test_commit_then_drop_runs_the_handler_then_drops(sim):
    sim.faults.add("import", "commit_then_drop")
    exchange = _import_exchange()

    status = serve_api(sim, exchange)

    assert status is None
    assert exchange.dropped
    assert exchange.responses == []
    assert len(sim.store.scenarios(include_system=True)) == 1
    assert sim.requests.entries()[0]["status"] is None


def test_latency_then_delay_fault_are_slept(sim):
    sim.set_latency(10)
    sim.faults.add("import", "delay", delay_ms=300)

    serve_api(sim, _import_exchange())

    assert sim.slept == [0.01, 0.3]


def test_an_unreadable_body_is_answered_with_its_error(sim):
    exchange = _import_exchange()
    exchange.unreadable = True

    assert serve_api(sim, exchange) == 413
    assert exchange.responses[0].body == {"error": {"status": 413, "message": "too large"}}


def test_unknown_routes_do_not_consume_faults(sim):
    sim.faults.add("*", "500")

    assert serve_api(sim, FakeExchange("GET", "/server/api/v2/nothing")) == 404
    assert len(sim.faults.pending()) == 1
