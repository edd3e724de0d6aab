"""Other readings of the undocumented routes: plain `OK` replies and a different route table."""

from __future__ import annotations

from typing import Any

import requests

from simulator.ids import new_object_id
from tests.integration.simulator.client import MANAGE, Api
from tests.integration.simulator.templates import filled_template

HOOK = "https://hooks.example.com/texter/abc123"


def _import(api: Api, status: str = "inactive") -> dict[str, Any]:
    response = api.import_(filled_template("chatPending", HOOK, asStatus=status))
    assert response.status_code == 201, response.text
    return response.json()


def _assert_plain_ok(response: requests.Response) -> None:
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "text/plain"
    assert response.text == "OK"


def test_plain_ok_writes_answer_ok_as_text_and_still_change_state(make_simulator):
    sim = make_simulator(plain_ok_replies=True)
    api = Api(sim)
    scenario_id = _import(api)["_id"]

    activated = api.activate(scenario_id)
    active = "activeRevision" in sim.scenarios()[0]
    inactivated = api.inactivate(scenario_id)
    paused = "activeRevision" not in sim.scenarios()[0]
    deleted = api.delete(scenario_id)

    for response in (activated, inactivated, deleted):
        _assert_plain_ok(response)
    assert active
    assert paused
    assert sim.scenarios() == []


def test_plain_ok_leaves_errors_and_the_other_routes_json(make_simulator):
    api = Api(make_simulator(plain_ok_replies=True))
    imported = api.import_(filled_template("chatPending", HOOK))
    listed = api.list()
    runs = api.runs(imported.json()["_id"])
    conflict = api.activate(imported.json()["_id"])  # already active: 409
    missing = api.delete(new_object_id())

    for response in (imported, listed, runs, conflict, missing):
        assert response.headers["Content-Type"].startswith("application/json")
    assert (imported.status_code, conflict.status_code, missing.status_code) == (201, 409, 404)
    assert conflict.json()["error"]["status"] == 409


def test_a_moved_route_is_served_at_its_new_path_and_404_at_the_old(make_simulator):
    sim = make_simulator(route_paths={"inactivate": "/scenarios/manage/{id}/pause"})
    api = Api(sim)
    scenario_id = _import(api, status="active")["_id"]

    old = api.inactivate(scenario_id)
    still_active = "activeRevision" in sim.scenarios()[0]
    moved = api.call("POST", f"{MANAGE}/{scenario_id}/pause")

    assert old.status_code == 404
    assert still_active
    assert moved.status_code == 200
    assert "activeRevision" not in moved.json()
    assert [(e["route"], e["status"]) for e in sim.request_log()][-2:] == [
        (None, 404),
        ("inactivate", 200),
    ]
