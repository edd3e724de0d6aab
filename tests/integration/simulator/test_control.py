"""The /_sim/ control endpoints other than faults and fire."""

from __future__ import annotations

import pytest

from simulator.ids import new_object_id
from tests.integration.simulator.templates import filled_template

HOOK = "https://hooks.example.com/hook"


def test_request_log_records_api_requests_only(api):
    api.list()
    api.delete(new_object_id())
    api.call("GET", "/nope")
    api.control("GET", "faults")

    log = api.control("GET", "requests").json()["requests"]

    assert [(e["method"], e["route"], e["status"]) for e in log] == [
        ("GET", "list", 200),
        ("DELETE", "delete", 404),
        ("GET", None, 404),
    ]
    assert log[0]["path"] == "/server/api/v2/scenarios/manage"
    assert all(isinstance(e["ts"], int) for e in log)


def test_request_log_can_be_cleared(api):
    api.list()

    assert api.control("DELETE", "requests").json() == {"requests": []}
    assert api.control("GET", "requests").json() == {"requests": []}


def test_reset_empties_state_faults_log_and_latency(api, sim):
    api.import_(filled_template("chatPending", HOOK))
    api.control("POST", "faults", {"route": "delete", "fault": "500"})
    api.control("POST", "latency", {"ms": 30})

    response = api.control("POST", "reset")

    assert response.status_code == 200
    assert api.control("GET", "scenarios").json() == {"scenarios": [], "runs": {}}
    assert api.control("GET", "faults").json() == {"faults": []}
    assert api.control("GET", "latency").json() == {"ms": 0}
    assert api.control("GET", "requests").json() == {"requests": []}


def test_state_dump_shows_scenarios_and_runs(api):
    created = api.import_(filled_template("chatPending", HOOK)).json()

    dump = api.control("GET", "scenarios").json()

    assert dump == {"scenarios": [created], "runs": {}}


def test_seed_stores_a_scenario_verbatim(api):
    scenario_id = new_object_id()
    seeded = api.control("POST", "seed", {"_id": scenario_id, "system": "welcome-bot"})

    assert seeded.status_code == 201
    assert seeded.json() == {
        "_id": scenario_id,
        "inactiveRevisions": [],
        "drafts": [],
        "system": "welcome-bot",
    }
    assert api.control("GET", "scenarios").json()["scenarios"] == [seeded.json()]


@pytest.mark.parametrize(
    ("method", "name", "status"),
    [("GET", "nothing", 404), ("PUT", "faults", 405)],
)
def test_unknown_control_calls_are_rejected(api, method, name, status):
    response = api.control(method, name)

    assert response.status_code == status
    assert response.json()["error"]["status"] == status


def test_invalid_latency_is_400(api):
    response = api.control("POST", "latency", {"ms": -1})

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("ms:")
    assert api.control("GET", "latency").json() == {"ms": 0}
