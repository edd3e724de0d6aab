"""Injected faults: what the client sees and what happens to state, once per kind; how
faults are counted and scoped to routes; latency."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests

from simulator.ids import new_object_id
from tests.integration.simulator.client import Api
from tests.integration.simulator.templates import filled_template

HOOK = "https://hooks.example.com/hook"


def _body() -> dict[str, Any]:
    return filled_template("chatPending", HOOK)


def _add_fault(api: Api, **fault: Any) -> dict[str, Any]:
    response = api.control("POST", "faults", fault)
    assert response.status_code == 201, response.text
    return response.json()["fault"]


def test_429_carries_retry_after_and_changes_nothing(api):
    _add_fault(api, route="import", fault="429", retryAfter=7)

    response = api.import_(_body())

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["error"]["status"] == 429
    assert api.list().json()["total"] == 0


@pytest.mark.parametrize("status", ["500", "503"])
def test_server_errors_answer_with_an_error_body_and_do_not_commit(api, status):
    _add_fault(api, route="import", fault=status)

    response = api.import_(_body())

    assert response.status_code == int(status)
    assert "Retry-After" not in response.headers
    assert response.json()["error"]["status"] == int(status)
    assert api.list().json()["total"] == 0


def test_reset_aborts_the_connection_before_anything_happens(api, sim):
    _add_fault(api, route="import", fault="reset")

    # requests may report ConnectionResetError or RemoteDisconnected, depending on whether the
    # RST arrives while it is still sending the body; test_drops_are_tcp_resets checks the RST.
    with pytest.raises(requests.ConnectionError):
        api.import_(_body())

    assert api.list().json()["total"] == 0
    first = sim.request_log()[0]
    assert (first["route"], first["status"]) == ("import", None)


def test_commit_then_drop_commits_the_import_but_sends_no_response(api, sim):
    _add_fault(api, route="import", fault="commit_then_drop")

    with pytest.raises(requests.ConnectionError):
        api.import_(_body())

    scenarios = api.list().json()["scenarios"]
    assert len(scenarios) == 1
    assert scenarios[0]["activeRevision"]["name"] == "(SUB) Chat Pending"
    assert sim.request_log()[0]["status"] is None


def test_drops_are_tcp_resets_not_orderly_closes(sim):
    sim.add_fault("list", "commit_then_drop")
    request = (
        f"GET /server/api/v2/scenarios/manage HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {sim.token}\r\n\r\n"
    ).encode()

    with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as client:
        client.sendall(request)  # one small segment: fully sent before the server reacts
        with pytest.raises(ConnectionResetError):
            client.recv(1024)  # an orderly close (FIN) would return b"" instead


def test_delay_sleeps_then_serves_normally(make_simulator):
    slept: list[float] = []
    api = Api(make_simulator(sleep=slept.append))
    _add_fault(api, route="import", fault="delay", delayMs=250)

    response = api.import_(_body())

    assert response.status_code == 201
    assert slept == [0.25]
    assert api.list().json()["total"] == 1


def test_a_route_fault_leaves_other_routes_alone(api):
    _add_fault(api, route="delete", fault="500")

    assert api.list().status_code == 200
    assert api.import_(_body()).status_code == 201
    assert len(api.control("GET", "faults").json()["faults"]) == 1


def test_a_wildcard_fault_matches_any_route_for_count_requests(api):
    _add_fault(api, route="*", fault="500", count=2)

    assert api.list().status_code == 500
    assert api.runs(new_object_id()).status_code == 500
    assert api.list().status_code == 200


def test_faults_are_applied_in_the_order_they_were_added(api):
    _add_fault(api, route="list", fault="500")
    _add_fault(api, route="*", fault="503")

    assert [api.list().status_code for _ in range(3)] == [500, 503, 200]


def test_unknown_routes_do_not_use_up_a_fault(api):
    _add_fault(api, route="*", fault="500")

    assert api.call("GET", "/nothing").status_code == 404
    assert api.list().status_code == 500


def test_faults_hit_before_authentication(api):
    _add_fault(api, route="list", fault="429")

    assert api.list(token="wrong").status_code == 429


def test_pending_faults_can_be_listed_and_cleared(api):
    added = _add_fault(api, route="copy", fault="delay", delayMs=5, count=3)

    listed = api.control("GET", "faults").json()
    cleared = api.control("DELETE", "faults")

    assert listed == {"faults": [added]}
    assert (added["route"], added["fault"], added["count"], added["delayMs"]) == (
        "copy",
        "delay",
        3,
        5,
    )
    assert cleared.status_code == 200
    assert api.control("GET", "faults").json() == {"faults": []}


@pytest.mark.parametrize(
    ("fault", "field"),
    [
        ({"route": "update", "fault": "500"}, "route"),
        ({"route": "list", "fault": "delay"}, "delayMs"),
        ({"route": "list", "fault": "500", "when": "now"}, "when"),
    ],
    ids=["unknown-route", "delay-without-delayMs", "unknown-field"],
)
def test_invalid_fault_requests_are_400(api, fault, field):
    response = api.control("POST", "faults", fault)

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(f"{field}:")
    assert api.control("GET", "faults").json() == {"faults": []}


def test_configured_latency_sleeps_before_each_api_request(make_simulator):
    slept: list[float] = []
    api = Api(make_simulator(sleep=slept.append, latency_ms=40))

    api.list()
    api.control("GET", "requests")  # control requests get no latency

    assert slept == [0.04]


def test_latency_can_be_changed_at_runtime(make_simulator):
    slept: list[float] = []
    api = Api(make_simulator(sleep=slept.append))

    api.list()
    changed = api.control("POST", "latency", {"ms": 50})
    api.list()

    assert changed.json() == {"ms": 50}
    assert api.control("GET", "latency").json() == {"ms": 50}
    assert slept == [0.05]
