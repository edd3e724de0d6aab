"""List, activate, inactivate, delete, runs and copy (contract §1, §5, §6)."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.ids import new_object_id
from tests.integration.simulator.client import Api
from tests.integration.simulator.templates import filled_template

HOOK = "https://hooks.example.com/texter/abc123"


def _import(api: Api, event: str = "chatPending", **overrides: Any) -> dict[str, Any]:
    response = api.import_(filled_template(event, HOOK, **overrides))
    assert response.status_code == 201, response.text
    return response.json()


def _revision(scenario_id: str, version: int, status: str) -> dict[str, Any]:
    return {
        "_id": new_object_id(),
        "scenarioId": scenario_id,
        "name": f"(SUB) v{version}",
        "status": status,
        "version": version,
        "parentVersion": version - 1 or None,
        "revisionComment": "",
        "triggerEvents": ["domain.chat.pending"],
        "conditions": [],
        "loaders": {},
        "actions": [],
        "loops": [],
        "tags": [],
        "attachedData": {},
        "options": {"unorderedActions": False},
        "metadata": {"authorUid": "u", "created": 1, "modified": 1, "activations": []},
    }


def test_list_returns_every_scenario_in_creation_order(api):
    ids = [_import(api, event)["_id"] for event in ("chatPending", "chatResolved", "newMessage")]

    body = api.list().json()

    assert body["total"] == 3
    assert [s["_id"] for s in body["scenarios"]] == ids


def test_system_scenarios_show_only_with_include_system(sim, api):
    _import(api)
    sim.seed({"system": "bot-handoff", "inactiveRevisions": [], "drafts": []})

    plain = api.list().json()
    with_system = api.list(params={"includeSystem": "true"}).json()
    explicit_false = api.list(params={"includeSystem": "false"}).json()

    assert plain["total"] == explicit_false["total"] == 1
    assert with_system["total"] == 2
    assert [s.get("system") for s in with_system["scenarios"]] == [None, "bot-handoff"]


def test_inactivate_moves_the_active_revision_to_inactive(api):
    scenario = _import(api)

    response = api.inactivate(scenario["_id"])

    assert response.status_code == 200
    paused = response.json()
    assert "activeRevision" not in paused
    [revision] = paused["inactiveRevisions"]
    assert revision["_id"] == scenario["activeRevision"]["_id"]
    assert revision["status"] == "inactive"
    assert api.list().json()["scenarios"] == [paused]


def test_activate_resumes_the_paused_revision_and_records_the_activation(api):
    scenario = _import(api)
    api.inactivate(scenario["_id"])

    response = api.activate(scenario["_id"], {"authorUid": "user-7"})

    assert response.status_code == 200
    resumed = response.json()
    assert resumed["inactiveRevisions"] == []
    revision = resumed["activeRevision"]
    assert revision["_id"] == scenario["activeRevision"]["_id"]
    assert revision["status"] == "active"
    activations = revision["metadata"]["activations"]
    assert len(activations) == 2
    assert activations[-1]["userUid"] == "user-7"
    assert revision["metadata"]["activated"] == activations[-1]["timestamp"]


def test_activate_without_version_picks_the_newest_inactive_revision(sim, api):
    scenario_id = new_object_id()
    sim.seed(
        {
            "_id": scenario_id,
            "inactiveRevisions": [
                _revision(scenario_id, 1, "inactive"),
                _revision(scenario_id, 3, "inactive"),
                _revision(scenario_id, 2, "inactive"),
            ],
        }
    )

    scenario = api.activate(scenario_id).json()

    assert scenario["activeRevision"]["version"] == 3


def test_activate_rejects_a_bad_body_naming_the_field(api):
    scenario = _import(api, asStatus="inactive")

    response = api.activate(scenario["_id"], {"version": 0})

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("version:")
    assert "activeRevision" not in api.list().json()["scenarios"][0]


def test_toggling_to_the_current_state_is_409_by_default(api):
    active = _import(api)
    paused = _import(api, asStatus="inactive")

    again_active = api.activate(active["_id"])
    again_paused = api.inactivate(paused["_id"])

    assert again_active.status_code == 409
    assert again_active.json()["error"]["status"] == 409
    assert again_paused.status_code == 409
    assert api.list().json()["scenarios"] == [active, paused]


def test_idempotent_toggles_answer_200_without_change(make_simulator):
    api = Api(make_simulator(idempotent_toggles=True))
    active = _import(api)
    paused = _import(api, asStatus="inactive")

    again_active = api.activate(active["_id"])
    again_paused = api.inactivate(paused["_id"])

    assert again_active.status_code == 200
    assert again_active.json() == active
    assert again_paused.status_code == 200
    assert again_paused.json() == paused


def test_delete_removes_the_scenario(api):
    keep = _import(api)
    gone = _import(api)

    response = api.delete(gone["_id"])

    assert response.status_code == 200
    assert response.json() == {"_id": gone["_id"], "deleted": True}
    assert [s["_id"] for s in api.list().json()["scenarios"]] == [keep["_id"]]


@pytest.mark.parametrize(
    "call",
    # One route per store lookup: update (activate, inactivate), delete, runs, require (copy).
    [
        lambda api, sid: api.activate(sid),
        lambda api, sid: api.delete(sid),
        lambda api, sid: api.runs(sid),
        lambda api, sid: api.copy(sid, {"fromVersion": 1, "newName": "(SUB) Copy"}),
    ],
    ids=["activate", "delete", "runs", "copy"],
)
def test_unknown_scenario_id_is_404(api, call):
    response = call(api, new_object_id())

    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith("scenario ")


def test_malformed_scenario_id_is_400_by_default(api):
    response = api.delete("not-an-object-id")

    assert response.status_code == 400
    assert "scenarioId" in response.json()["error"]["message"]


def test_malformed_scenario_id_can_be_404(make_simulator):
    api = Api(make_simulator(malformed_id_status=404))

    assert api.delete("not-an-object-id").status_code == 404


def test_copy_creates_an_inactive_scenario_from_a_version(api):
    source = _import(api, "chatAssigned")

    response = api.copy(source["_id"], {"fromVersion": 1, "newName": "(SUB) Chat Assigned 2"})

    assert response.status_code == 201
    copy = response.json()
    assert copy["_id"] != source["_id"]
    assert "activeRevision" not in copy
    [revision] = copy["inactiveRevisions"]
    assert revision["scenarioId"] == copy["_id"]
    assert revision["name"] == "(SUB) Chat Assigned 2"
    assert (revision["status"], revision["version"]) == ("inactive", 1)
    original = source["activeRevision"]
    for field in ("description", "triggerEvents", "conditions", "loaders", "actions", "options"):
        assert revision[field] == original[field]
    assert api.list().json()["total"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"newName": "x"}, "fromVersion"),
        ({"fromVersion": 1, "newName": "{{name}}"}, "newName"),
        ({"fromVersion": 2, "newName": "x"}, "fromVersion"),
    ],
    ids=["missing-field", "placeholder", "unknown-version"],
)
def test_copy_rejects_a_bad_body(api, body, field):
    source = _import(api)

    response = api.copy(source["_id"], body)

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(f"{field}:")
    assert api.list().json()["total"] == 1
