"""The client against a Texter that answers activate, inactivate and delete with a plain `OK`.

Texter's docs show several endpoints answering `OK` as text; the simulator serves that
reading with `plain_ok_replies`. The client takes such a 2xx as success without a Scenario
(`{}`), but only for those three writes: an import must answer the Scenario as JSON.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from simulator.config import SimulatorConfig
from simulator.scopes import ALL_SCOPES
from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN
from texter_webhooks.texter import errors
from texter_webhooks.texter.body import BodySpec, render
from texter_webhooks.texter.client import RetryPolicy, TexterClient
from texter_webhooks.texter.scenario import scenario_status

FAST = RetryPolicy(deadline=3, backoff_initial=0.01, backoff_max=0.05, read_timeout=2)


def body(status: str = "inactive") -> dict:
    spec = BodySpec(url="http://127.0.0.1:9/hooks/plain-ok", event="chatAssigned", status=status)
    return render(spec, stack="test")


@pytest.fixture
def plain_ok_sim() -> Iterator[SimulatorServer]:
    config = SimulatorConfig(
        tokens={TEXTER_TOKEN: ALL_SCOPES}, log_requests=False, plain_ok_replies=True
    )
    with SimulatorServer(config) as sim:
        yield sim


@pytest.fixture
def client(plain_ok_sim: SimulatorServer) -> TexterClient:
    return TexterClient(plain_ok_sim.base_url, TEXTER_TOKEN, policy=FAST)


def _status_in_sim(sim: SimulatorServer, scenario_id: str) -> str | None:
    found = [s for s in sim.scenarios() if s["_id"] == scenario_id]
    return scenario_status(found[0]) if found else None


def test_plain_ok_writes_return_empty_and_take_effect(
    client: TexterClient, plain_ok_sim: SimulatorServer
) -> None:
    scenario_id = client.import_scenario(body())["_id"]

    assert client.activate(scenario_id) == {}
    assert _status_in_sim(plain_ok_sim, scenario_id) == "active"
    assert client.inactivate(scenario_id) == {}
    assert _status_in_sim(plain_ok_sim, scenario_id) == "inactive"
    assert client.delete(scenario_id) == {}
    assert _status_in_sim(plain_ok_sim, scenario_id) is None
    # Each write was sent once: a plain `OK` is success, not something to retry.
    writes = [e["route"] for e in plain_ok_sim.request_log() if e["route"] != "import"]
    assert writes == ["activate", "inactivate", "delete"]


def test_errors_of_plain_ok_writes_are_still_typed(client: TexterClient) -> None:
    scenario_id = client.import_scenario(body(status="active"))["_id"]

    with pytest.raises(errors.ConflictError):
        client.activate(scenario_id)
    with pytest.raises(errors.NotFoundError):
        client.delete("0" * 24)


def test_import_still_answers_and_needs_the_scenario_as_json(client: TexterClient) -> None:
    made = client.import_scenario(body())

    assert len(made["_id"]) == 24
    assert [s["_id"] for s in client.list_scenarios()] == [made["_id"]]


class _PlainOkHandler(BaseHTTPRequestHandler):
    """Answers every request `200 OK` with the text body `OK`, the way the docs show."""

    def _ok(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")

    do_POST = do_DELETE = do_GET = _ok

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def plain_ok_everywhere() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PlainOkHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/server/api/v2"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_plain_ok_import_is_an_error_not_a_scenario(plain_ok_everywhere: str) -> None:
    # The simulator never answers an import with text, so a bare stub plays that Texter.
    client = TexterClient(plain_ok_everywhere, TEXTER_TOKEN, policy=FAST)

    assert client.activate("0" * 24) == {}
    with pytest.raises(errors.UnavailableError, match="not JSON") as caught:
        client.import_scenario(body())
    assert caught.value.status == 200
