"""Create Revision, activation by version and Delete Revision (contract §1, §3): the update
path Update Draft → Create Revision → Activate, with its faults and route overrides."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from simulator.ids import new_object_id
from tests.integration.simulator.client import Api
from tests.integration.simulator.drafts import (
    DESCRIPTION,
    error,
    import_scenario,
    listed,
    publish,
    request_action,
    seeded_revision,
    update,
)


def _versions(scenario: dict[str, Any]) -> dict[int, str]:
    revisions = [scenario.get("activeRevision"), *scenario["inactiveRevisions"]]
    return {r["version"]: r["status"] for r in revisions if r is not None}


def _revision(scenario: dict[str, Any], version: int) -> dict[str, Any]:
    revisions = [scenario.get("activeRevision"), *scenario["inactiveRevisions"]]
    [found] = [r for r in revisions if r is not None and r["version"] == version]
    return found


def _renamed_revision(api: Api, scenario_id: str, name: str) -> dict[str, Any]:
    update(api, scenario_id, {"rename": name})
    return publish(api, scenario_id)


# --- Create Revision -----------------------------------------------------------------------


def test_create_revision_publishes_the_draft_as_the_next_inactive_version(api):
    scenario = import_scenario(api)
    draft = update(api, scenario["_id"], {"rename": "(SUB) Two"})["drafts"][0]

    response = api.create_revision(
        scenario["_id"], {"revisionComment": "rename", "authorUid": "user-3"}
    )

    assert response.status_code == 201, response.text
    published = response.json()
    assert published["drafts"] == []
    assert published["activeRevision"] == scenario["activeRevision"]
    [revision] = published["inactiveRevisions"]
    assert revision["version"] == 2
    assert revision["parentVersion"] == draft["parentVersion"] == 1
    assert revision["status"] == "inactive"
    assert revision["revisionComment"] == "rename"
    assert revision["name"] == "(SUB) Two"
    assert revision["description"] == DESCRIPTION
    assert revision["actions"] == scenario["activeRevision"]["actions"]
    assert revision["metadata"]["authorUid"] == "user-3"
    assert revision["metadata"]["activations"] == []
    assert "activated" not in revision["metadata"]
    assert listed(api, scenario["_id"]) == published


def test_versions_count_up_from_the_highest_and_name_the_draft_s_base(api):
    scenario = import_scenario(api)
    _renamed_revision(api, scenario["_id"], "(SUB) Two")
    third = _renamed_revision(api, scenario["_id"], "(SUB) Three")
    api.activate(scenario["_id"], {"version": 3})
    fourth = _renamed_revision(api, scenario["_id"], "(SUB) Four")

    assert _versions(third) == {1: "active", 2: "inactive", 3: "inactive"}
    # Drafts start from the running revision: v1 until v3 was activated.
    assert _revision(third, 3)["parentVersion"] == 1
    assert _revision(fourth, 4)["parentVersion"] == 3
    assert _revision(fourth, 4)["name"] == "(SUB) Four"


def test_a_draft_only_scenario_publishes_version_one_without_a_parent(api):
    scenario = import_scenario(api, status="draft")

    published = publish(api, scenario["_id"])

    [revision] = published["inactiveRevisions"]
    assert (revision["version"], revision["parentVersion"]) == (1, None)
    assert api.activate(scenario["_id"]).json()["activeRevision"]["version"] == 1


def test_create_revision_without_a_draft_is_409(api):
    scenario = import_scenario(api)

    response = api.create_revision(scenario["_id"], {"revisionComment": "nothing"})

    assert "has no draft to publish" in error(response, 409)
    assert listed(api, scenario["_id"]) == scenario


def test_create_revision_takes_an_empty_body(api):
    scenario = import_scenario(api)
    update(api, scenario["_id"], {"rename": "(SUB) Two"})

    response = api.create_revision(scenario["_id"])

    assert response.status_code == 201, response.text
    assert _revision(response.json(), 2)["revisionComment"] == ""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"revisionComment": 5}, "revisionComment: must be a string"),
        ({"revisionComment": "x" * 2001}, "revisionComment: must be at most 2000 characters"),
        ({"comment": "x"}, "comment: unknown field"),
        ({"authorUid": " "}, "authorUid: must be a non-empty string"),
    ],
    ids=["comment-type", "comment-length", "unknown-field", "author"],
)
def test_create_revision_refuses_a_bad_body_and_keeps_the_draft(api, body, expected):
    scenario = import_scenario(api)
    drafted = update(api, scenario["_id"], {"rename": "(SUB) Two"})

    message = error(api.create_revision(scenario["_id"], body), 400)

    assert message == expected
    assert listed(api, scenario["_id"]) == drafted


# --- activation of the new version --------------------------------------------------------


def test_publishing_changes_nothing_that_runs_until_the_version_is_activated(api, capture):
    scenario = import_scenario(api, url=f"{capture.url}/old")
    update(
        api,
        scenario["_id"],
        {"removeAction": 0},
        {"addAction": request_action(f"{capture.url}/new")},
    )
    publish(api, scenario["_id"])

    api.control("POST", "fire", {"eventName": "chatPending"})
    activated = api.activate(scenario["_id"], {"version": 2})
    api.control("POST", "fire", {"eventName": "chatPending"})

    assert activated.status_code == 200
    assert _versions(activated.json()) == {2: "active", 1: "inactive"}
    assert [r["path"] for r in capture.received] == ["/old", "/new"]
    runs = api.runs(scenario["_id"]).json()["runs"]
    assert [run["version"] for run in runs] == [2, 1]


def test_a_paused_scenario_s_published_version_is_what_a_plain_activate_resumes(api):
    scenario = import_scenario(api, status="inactive")
    _renamed_revision(api, scenario["_id"], "(SUB) Two")

    resumed = api.activate(scenario["_id"]).json()

    assert resumed["activeRevision"]["version"] == 2
    assert resumed["activeRevision"]["name"] == "(SUB) Two"


# --- Delete Revision -----------------------------------------------------------------------


def test_delete_revision_removes_an_inactive_version(api):
    scenario = import_scenario(api)
    _renamed_revision(api, scenario["_id"], "(SUB) Two")
    _renamed_revision(api, scenario["_id"], "(SUB) Three")

    response = api.delete_revision(scenario["_id"], 2)

    assert response.status_code == 200, response.text
    assert _versions(response.json()) == {1: "active", 3: "inactive"}
    assert listed(api, scenario["_id"]) == response.json()


def test_the_next_version_follows_the_highest_left(api):
    scenario = import_scenario(api)
    for name in ("(SUB) Two", "(SUB) Three", "(SUB) Four"):
        _renamed_revision(api, scenario["_id"], name)
    api.delete_revision(scenario["_id"], 2)
    api.delete_revision(scenario["_id"], 4)

    published = _renamed_revision(api, scenario["_id"], "(SUB) Again")

    assert _versions(published) == {1: "active", 3: "inactive", 4: "inactive"}
    assert _revision(published, 4)["name"] == "(SUB) Again"


def test_the_active_version_cannot_be_deleted(api):
    scenario = import_scenario(api)

    message = error(api.delete_revision(scenario["_id"], 1), 409)

    assert "version 1 is the active revision" in message
    assert listed(api, scenario["_id"]) == scenario


def test_an_unknown_version_is_404(api):
    scenario = import_scenario(api)

    message = error(api.delete_revision(scenario["_id"], 7), 404)

    assert message == f"scenario {scenario['_id']} has no revision with version 7"


def test_an_unknown_scenario_is_404(api):
    unknown = new_object_id()

    assert error(api.delete_revision(unknown, 1), 404) == f"scenario {unknown} not found"


@pytest.mark.parametrize("version", ["abc", "1a", "-1", "1.0", "1" * 16])
def test_a_version_that_is_not_digits_is_400(api, version):
    scenario = import_scenario(api, status="inactive")

    message = error(api.delete_revision(scenario["_id"], version), 400)

    assert message.startswith("version: must be a revision number")
    assert listed(api, scenario["_id"]) == scenario


def test_the_last_revision_of_a_scenario_without_a_draft_is_409(api):
    scenario = import_scenario(api, status="inactive")

    message = error(api.delete_revision(scenario["_id"], 1), 409)

    assert "last revision; delete the scenario instead" in message


def test_the_last_revision_can_go_while_a_draft_remains(api):
    scenario = import_scenario(api, status="inactive")
    update(api, scenario["_id"], {"rename": "(SUB) Draft"})

    response = api.delete_revision(scenario["_id"], 1)

    assert response.status_code == 200, response.text
    remaining = response.json()
    assert remaining["inactiveRevisions"] == []
    assert [d["name"] for d in remaining["drafts"]] == ["(SUB) Draft"]


def test_delete_revision_answers_plain_ok_in_that_reading(make_simulator):
    api = Api(make_simulator(plain_ok_replies=True))
    scenario = import_scenario(api)
    _renamed_revision(api, scenario["_id"], "(SUB) Two")

    response = api.delete_revision(scenario["_id"], 2)

    assert (response.status_code, response.text) == (200, "OK")
    assert _versions(listed(api, scenario["_id"])) == {1: "active"}


# --- scopes, faults, overrides, persistence ------------------------------------------------


@pytest.mark.parametrize("route", ["create_revision", "delete_revision"])
def test_revision_routes_need_the_edit_scope(make_simulator, route):
    sim = make_simulator(
        tokens={
            "editor": frozenset({"create", "edit", "manage_on_behalf"}),
            "no-edit": frozenset({"create", "view", "activate", "delete", "manage_on_behalf"}),
        }
    )
    editor, other = Api(sim, token="editor"), Api(sim, token="no-edit")
    scenario = import_scenario(editor)
    update(editor, scenario["_id"], {"rename": "(SUB) Two"})
    calls = {
        "create_revision": lambda api: api.create_revision(scenario["_id"]),
        "delete_revision": lambda api: api.delete_revision(scenario["_id"], 2),
    }
    if route == "delete_revision":
        publish(editor, scenario["_id"])

    refused = calls[route](other)
    allowed = calls[route](editor)

    assert "Edit scenarios (edit)" in error(refused, 403)
    assert allowed.status_code in (200, 201), allowed.text


def test_a_create_revision_committed_then_dropped_leaves_the_version_and_no_draft(sim, api):
    scenario = import_scenario(api)
    update(api, scenario["_id"], {"rename": "(SUB) Two"})
    added = api.control("POST", "faults", {"route": "create_revision", "fault": "commit_then_drop"})

    with pytest.raises(requests.ConnectionError):
        api.create_revision(scenario["_id"], {"revisionComment": "lost answer"})
    retried = api.create_revision(scenario["_id"], {"revisionComment": "again"})
    logged = [(e["route"], e["status"]) for e in sim.request_log()][-2:]

    assert added.status_code == 201, added.text
    assert _versions(listed(api, scenario["_id"])) == {1: "active", 2: "inactive"}
    # The client learns the outcome by listing: a resend finds no draft left.
    assert "has no draft to publish" in error(retried, 409)
    assert logged == [("create_revision", None), ("create_revision", 409)]


def test_an_activate_failing_after_publishing_leaves_the_old_version_running(api):
    scenario = import_scenario(api)
    _renamed_revision(api, scenario["_id"], "(SUB) Two")
    api.control("POST", "faults", {"route": "activate", "fault": "500"})

    failed = api.activate(scenario["_id"], {"version": 2})
    between = listed(api, scenario["_id"])
    retried = api.activate(scenario["_id"], {"version": 2})

    assert failed.status_code == 500
    assert _versions(between) == {1: "active", 2: "inactive"}
    assert _versions(retried.json()) == {2: "active", 1: "inactive"}


@pytest.mark.parametrize("route", ["update_draft", "create_revision", "delete_revision"])
def test_status_faults_on_the_new_routes_change_nothing(api, route):
    scenario = import_scenario(api)
    _renamed_revision(api, scenario["_id"], "(SUB) Two")
    update(api, scenario["_id"], {"rename": "(SUB) Three"})
    before = listed(api, scenario["_id"])
    calls = {
        "update_draft": lambda: api.update_draft(
            scenario["_id"], {"operations": [{"rename": "(SUB) X"}]}
        ),
        "create_revision": lambda: api.create_revision(scenario["_id"]),
        "delete_revision": lambda: api.delete_revision(scenario["_id"], 2),
    }
    api.control("POST", "faults", {"route": route, "fault": "503"})

    response = calls[route]()

    assert response.status_code == 503
    assert listed(api, scenario["_id"]) == before
    assert calls[route]().status_code in (200, 201)


def test_delete_revision_is_served_at_an_overridden_path_with_both_parameters(make_simulator):
    api = Api(
        make_simulator(route_paths={"delete_revision": "/scenarios/revisions/{version}/of/{id}"})
    )
    scenario = import_scenario(api)
    _renamed_revision(api, scenario["_id"], "(SUB) Two")

    default = api.delete_revision(scenario["_id"], 2)
    moved = api.call("DELETE", f"/scenarios/revisions/2/of/{scenario['_id']}")
    bad_version = api.call("DELETE", f"/scenarios/revisions/two/of/{scenario['_id']}")

    assert default.status_code == 404
    assert moved.status_code == 200, moved.text
    assert _versions(moved.json()) == {1: "active"}
    assert error(bad_version, 400).startswith("version: ")


def test_update_draft_and_create_revision_follow_their_overrides(make_simulator):
    sim = make_simulator(
        route_paths={
            "update_draft": "/drafts/{id}",
            "create_revision": "/drafts/{id}/publish",
        }
    )
    api = Api(sim)
    scenario = import_scenario(api)

    drafted = api.call(
        "POST", f"/drafts/{scenario['_id']}", json={"operations": [{"rename": "(SUB) B"}]}
    )
    published = api.call("POST", f"/drafts/{scenario['_id']}/publish", json={})
    old_path = api.update_draft(scenario["_id"], {"operations": [{"rename": "(SUB) C"}]})

    assert drafted.status_code == 200, drafted.text
    assert published.status_code == 201, published.text
    assert old_path.status_code == 404
    assert [e["route"] for e in sim.request_log()][-3:] == [
        "update_draft",
        "create_revision",
        None,
    ]


def test_drafts_and_revisions_survive_a_restart(make_simulator, tmp_path):
    state = tmp_path / "state.json"
    first = make_simulator(state_path=state)
    api = Api(first)
    scenario = import_scenario(api)
    _renamed_revision(api, scenario["_id"], "(SUB) Two")
    update(api, scenario["_id"], {"rename": "(SUB) Draft"})
    before = listed(api, scenario["_id"])
    first.stop()

    second = Api(make_simulator(state_path=state))

    assert listed(second, scenario["_id"]) == before
    assert publish(second, scenario["_id"])["inactiveRevisions"][0]["version"] == 3


def test_the_paused_base_is_the_newest_inactive_even_when_seeded_out_of_order(sim, api):
    scenario_id = new_object_id()
    sim.seed(
        {
            "_id": scenario_id,
            "inactiveRevisions": [
                seeded_revision(scenario_id, 2, "inactive", "(SUB) two"),
                seeded_revision(scenario_id, 5, "inactive", "(SUB) five"),
            ],
        }
    )
    update(api, scenario_id, {"setUnorderedActions": True})

    published = publish(api, scenario_id)

    assert (_revision(published, 6)["parentVersion"], _revision(published, 6)["name"]) == (
        5,
        "(SUB) five",
    )
