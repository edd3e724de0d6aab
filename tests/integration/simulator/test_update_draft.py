"""Update Draft (contract §1): each operation, its refusals, atomicity, where a draft starts."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from simulator.ids import new_object_id
from tests.integration.simulator.client import Api
from tests.integration.simulator.drafts import (
    CONDITION,
    DESCRIPTION,
    OTHER_HOOK,
    error,
    import_scenario,
    listed,
    request_action,
    seeded_revision,
    the_draft,
    update,
)

LOADER = {"name": "chat", "alias": "chat", "params": {"id": "x"}, "confidentialData": False}


def _condition(name: str) -> dict[str, Any]:
    return {**CONDITION, "params": {"expression": name}}


# --- where the draft starts ----------------------------------------------------------------


def test_a_draft_starts_from_the_active_revision_and_leaves_it_running(api):
    scenario = import_scenario(api)
    active = scenario["activeRevision"]

    updated = update(api, scenario["_id"], {"rename": "(SUB) Renamed"})

    draft = the_draft(updated)
    assert draft["status"] == "draft"
    assert draft["parentVersion"] == active["version"] == 1
    assert draft["name"] == "(SUB) Renamed"
    assert draft["_id"] != active["_id"]
    for key in ("description", "triggerEvents", "conditions", "loaders", "actions", "options"):
        assert draft[key] == active[key], key
    assert "version" not in draft
    assert "revisionComment" not in draft
    assert set(draft["metadata"]) == {"authorUid", "created", "modified"}
    assert updated["activeRevision"] == active
    assert listed(api, scenario["_id"]) == updated


def test_a_draft_of_a_paused_scenario_starts_from_its_newest_inactive_revision(sim, api):
    scenario_id = new_object_id()
    sim.seed(
        {
            "_id": scenario_id,
            "inactiveRevisions": [
                seeded_revision(scenario_id, 1, "inactive", "(SUB) one"),
                seeded_revision(scenario_id, 3, "inactive", "(SUB) three"),
                seeded_revision(scenario_id, 2, "inactive", "(SUB) two"),
            ],
        }
    )

    draft = the_draft(update(api, scenario_id, {"setUnorderedActions": True}))

    assert draft["parentVersion"] == 3
    assert draft["name"] == "(SUB) three"
    assert draft["options"] == {"unorderedActions": True}


def test_a_second_update_edits_the_same_draft(api):
    scenario = import_scenario(api)
    first = the_draft(update(api, scenario["_id"], {"rename": "(SUB) One"}))

    second = the_draft(update(api, scenario["_id"], {"setUnorderedActions": True}))

    assert second["_id"] == first["_id"]
    assert second["name"] == "(SUB) One"
    assert second["options"]["unorderedActions"] is True
    assert second["metadata"]["created"] == first["metadata"]["created"]
    assert second["metadata"]["modified"] >= first["metadata"]["modified"]


def test_a_draft_imported_as_draft_is_edited_and_has_no_parent(api):
    scenario = import_scenario(api, status="draft")

    draft = the_draft(update(api, scenario["_id"], {"rename": "(SUB) Draft"}))

    assert draft["_id"] == the_draft(scenario)["_id"]
    assert draft["name"] == "(SUB) Draft"
    assert "parentVersion" not in draft


def test_a_scenario_with_nothing_to_start_from_is_409(sim, api):
    scenario_id = new_object_id()
    sim.seed({"_id": scenario_id})

    response = api.update_draft(scenario_id, {"operations": [{"rename": "(SUB) X"}]})

    assert "no revision to start a draft from" in error(response, 409)


def test_the_author_is_recorded_on_a_new_draft(api):
    scenario = import_scenario(api)

    response = api.update_draft(
        scenario["_id"], {"operations": [{"rename": "(SUB) X"}], "authorUid": "user-9"}
    )

    assert the_draft(response.json())["metadata"]["authorUid"] == "user-9"


# --- each operation ------------------------------------------------------------------------


def test_trigger_events_are_added_and_removed(api):
    scenario = import_scenario(api)

    draft = the_draft(
        update(
            api,
            scenario["_id"],
            {"removeTriggerEvent": "domain.chat.pending"},
            {"addTriggerEvent": "domain.chat.assigned"},
            {"addTriggerEvent": "domain.chat.resolved"},
        )
    )

    assert draft["triggerEvents"] == ["domain.chat.assigned", "domain.chat.resolved"]


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ({"removeTriggerEvent": "domain.chat.assigned"}, "is not a trigger event of the draft"),
        ({"addTriggerEvent": "domain.chat.pending"}, "is already a trigger event of the draft"),
    ],
    ids=["remove-absent", "add-present"],
)
def test_trigger_event_changes_the_draft_cannot_take_are_422(api, operation, expected):
    scenario = import_scenario(api)

    message = error(api.update_draft(scenario["_id"], {"operations": [operation]}), 422)

    [kind] = operation
    assert message.startswith(f"operations[0].{kind}: ")
    assert expected in message


def test_conditions_are_added_to_a_group_or_open_a_new_one(api):
    scenario = import_scenario(api)

    draft = the_draft(
        update(
            api,
            scenario["_id"],
            {"addCondition": {**_condition("a"), "groupIndex": 0}},
            {"addCondition": {**_condition("b"), "groupIndex": 0}},
            {"addCondition": {**_condition("c"), "groupIndex": 1}},
        )
    )

    assert draft["conditions"] == [[_condition("a"), _condition("b")], [_condition("c")]]


def test_removing_a_condition_and_the_last_of_a_group_drops_the_group(api):
    scenario = import_scenario(api)
    update(
        api,
        scenario["_id"],
        {"addCondition": {**_condition("a"), "groupIndex": 0}},
        {"addCondition": {**_condition("b"), "groupIndex": 0}},
        {"addCondition": {**_condition("c"), "groupIndex": 1}},
        {"addCondition": {**_condition("d"), "groupIndex": 2}},
    )

    draft = the_draft(
        update(
            api,
            scenario["_id"],
            {"removeCondition": {"groupIndex": 0, "index": 0}},
            {"removeCondition": {"groupIndex": 1, "index": 0}},
        )
    )

    # Group 1 ("c") went with its last condition, so "d" moved up to group 1.
    assert draft["conditions"] == [[_condition("b")], [_condition("d")]]


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (
            {"addCondition": {**CONDITION, "groupIndex": 2}},
            "operations[0].addCondition.groupIndex: must be at most 1",
        ),
        (
            {"removeCondition": {"groupIndex": 1, "index": 0}},
            "operations[0].removeCondition.groupIndex: no such group",
        ),
        (
            {"removeCondition": {"groupIndex": 0, "index": 1}},
            "operations[0].removeCondition.index: no such position",
        ),
    ],
    ids=["add-past-a-new-group", "remove-from-no-group", "remove-past-the-end"],
)
def test_condition_positions_outside_the_draft_are_422(api, operation, expected):
    scenario = import_scenario(api)
    update(api, scenario["_id"], {"addCondition": {**CONDITION, "groupIndex": 0}})

    message = error(api.update_draft(scenario["_id"], {"operations": [operation]}), 422)

    assert message.startswith(expected)


def test_actions_are_appended_and_removed_by_index(api):
    scenario = import_scenario(api)
    original = scenario["activeRevision"]["actions"][0]
    added = request_action(OTHER_HOOK)

    draft = the_draft(
        update(api, scenario["_id"], {"addAction": added}, {"addAction": request_action()})
    )
    assert draft["actions"] == [original, added, request_action()]

    draft = the_draft(update(api, scenario["_id"], {"removeAction": 0}, {"removeAction": 1}))
    assert draft["actions"] == [added]


def test_removing_an_action_that_is_not_there_is_422(api):
    scenario = import_scenario(api)

    message = error(api.update_draft(scenario["_id"], {"operations": [{"removeAction": 1}]}), 422)

    assert message == "operations[0].removeAction: no such position: the draft has 1 actions"


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ({"removeAction": 0}, "the draft would be left without any action"),
        ({"removeTriggerEvent": "domain.chat.pending"}, "without any trigger event"),
    ],
    ids=["no-action", "no-trigger"],
)
def test_a_draft_an_import_would_refuse_is_422(api, operation, expected):
    scenario = import_scenario(api)

    message = error(api.update_draft(scenario["_id"], {"operations": [operation]}), 422)

    assert message.startswith("operations: ")
    assert expected in message


def test_rename_and_set_unordered_actions(api):
    scenario = import_scenario(api)

    draft = the_draft(
        update(api, scenario["_id"], {"rename": "(SUB) New name"}, {"setUnorderedActions": True})
    )

    assert draft["name"] == "(SUB) New name"
    assert draft["options"] == {"unorderedActions": True}


def test_loaders_are_added_and_removed_by_position(api):
    scenario = import_scenario(api, event="newMessage")
    [before] = scenario["activeRevision"]["loaders"]["beforeConditions"]

    draft = the_draft(
        update(
            api,
            scenario["_id"],
            {"addLoader": {**LOADER, "position": "afterConditions"}},
            {"removeLoader": {"index": 0, "position": "beforeConditions"}},
        )
    )

    assert before["name"] == "chat"
    assert draft["loaders"] == {"beforeConditions": [], "afterConditions": [LOADER]}


def test_loops_are_added_and_removed_by_position(api):
    scenario = import_scenario(api)
    first, second = {"loop": {"over": "a"}}, {"loop": {"over": "b"}}

    draft = the_draft(
        update(api, scenario["_id"], {"addLoop": first}, {"addLoop": second}, {"removeLoop": 0})
    )

    assert draft["loops"] == [second]


# --- malformed operations: 400, every problem named by its path -----------------------------

MALFORMED = [
    ({"operations": []}, "operations: must be a non-empty list of operations"),
    ({}, "operations: must be a non-empty list of operations"),
    ({"operations": [{}]}, "operations[0]: must hold exactly one operation, got 0 keys"),
    (
        {"operations": [{"rename": "(SUB) A", "setUnorderedActions": True}]},
        "operations[0]: must hold exactly one operation, got 2 keys",
    ),
    ({"operations": ["rename"]}, "operations[0]: must be a JSON object"),
    ({"operations": [{"setDescription": "x"}]}, "operations[0].setDescription: unknown operation"),
    ({"operations": [{"rename": " "}]}, "operations[0].rename: must be a non-empty string"),
    ({"operations": [{"rename": "x" * 201}]}, "operations[0].rename: must be at most 200"),
    (
        {"operations": [{"rename": "(SUB) {{name}}"}]},
        "operations[0].rename: contains the unfilled placeholder {{name}}",
    ),
    ({"operations": [{"addTriggerEvent": 5}]}, "operations[0].addTriggerEvent: must be a string"),
    ({"operations": [{"setUnorderedActions": "yes"}]}, "setUnorderedActions: must be a boolean"),
    ({"operations": [{"removeAction": -1}]}, "operations[0].removeAction: must be a non-negative"),
    ({"operations": [{"removeLoop": "0"}]}, "operations[0].removeLoop: must be a non-negative"),
    (
        {"operations": [{"addCondition": {**CONDITION}}]},
        "operations[0].addCondition.groupIndex: is required",
    ),
    (
        {"operations": [{"addCondition": {"groupIndex": 0, "params": {}}}]},
        "operations[0].addCondition.name: is required",
    ),
    (
        {"operations": [{"removeCondition": {"groupIndex": 0}}]},
        "operations[0].removeCondition.index: is required",
    ),
    (
        {"operations": [{"addLoader": {**LOADER, "position": "middle"}}]},
        "operations[0].addLoader.position: must be one of beforeConditions, afterConditions",
    ),
    (
        {
            "operations": [
                {"addLoader": {"name": "chat", "params": {}, "position": "afterConditions"}}
            ]
        },
        "operations[0].addLoader.alias: is required",
    ),
    (
        {"operations": [{"removeLoader": {"index": 0, "position": "x", "extra": 1}}]},
        "operations[0].removeLoader.extra: unknown field",
    ),
    ({"operations": [{"addLoop": {"loop": []}}]}, "operations[0].addLoop.loop: must be a JSON"),
    (
        {"operations": [{"addAction": {**request_action(), "extra": True}}]},
        "operations[0].addAction.extra: unknown field",
    ),
    (
        {"operations": [{"addAction": request_action("/relative")}]},
        "operations[0].addAction.params.url: must be an absolute http(s) URL",
    ),
    (
        {"operations": [{"addAction": request_action("{{yourWebhookURL}}")}]},
        "operations[0].addAction.params.url: contains the unfilled placeholder {{yourWebhookURL}}",
    ),
    (
        {"operations": [{"addAction": {"name": "request", "params": {"url": OTHER_HOOK}}}]},
        "operations[0].addAction.params.method: must be one of post, get, put, patch, delete",
    ),
    (
        {"operations": [{"rename": "(SUB) A"}], "extra": 1},
        "extra: unknown field",
    ),
]


@pytest.mark.parametrize(("body", "expected"), MALFORMED)
def test_malformed_operations_are_400_naming_the_operation_and_field(api, body, expected):
    scenario = import_scenario(api)

    message = error(api.update_draft(scenario["_id"], body), 400)

    assert expected in message
    assert listed(api, scenario["_id"]) == scenario


def test_every_malformed_operation_is_reported_at_once(api):
    scenario = import_scenario(api)

    message = error(
        api.update_draft(
            scenario["_id"],
            {"operations": [{"rename": ""}, {"setUnorderedActions": True}, {"removeAction": "x"}]},
        ),
        400,
    )

    assert "operations[0].rename:" in message
    assert "operations[2].removeAction:" in message
    assert "operations[1]" not in message


def test_the_lenient_reading_takes_unknown_fields_but_still_one_operation_an_item(
    make_simulator,
):
    api = Api(make_simulator(lenient_import=True))
    scenario = import_scenario(api)

    draft = the_draft(
        update(api, scenario["_id"], {"addAction": {**request_action(), "extra": True}})
    )
    two_keys = api.update_draft(
        scenario["_id"], {"operations": [{"rename": "(SUB) A", "setUnorderedActions": True}]}
    )

    assert len(draft["actions"]) == 2
    assert "exactly one operation" in error(two_keys, 400)


# --- atomicity and the description ---------------------------------------------------------


def test_a_refused_operation_keeps_nothing_of_the_batch(api):
    scenario = import_scenario(api)
    drafted = update(api, scenario["_id"], {"rename": "(SUB) Draft"})

    response = api.update_draft(
        scenario["_id"],
        {
            "operations": [
                {"rename": "(SUB) Lost"},
                {"addAction": request_action()},
                {"removeTriggerEvent": "domain.never"},
            ]
        },
    )

    assert error(response, 422).startswith("operations[2].removeTriggerEvent: ")
    assert listed(api, scenario["_id"]) == drafted


def test_a_refused_first_update_starts_no_draft(api):
    scenario = import_scenario(api)

    response = api.update_draft(
        scenario["_id"], {"operations": [{"rename": "(SUB) Lost"}, {"removeAction": 5}]}
    )

    assert error(response, 422).startswith("operations[1].removeAction: ")
    assert listed(api, scenario["_id"])["drafts"] == []


def test_no_operation_changes_the_description(api):
    scenario = import_scenario(api)
    every_kind = [
        {"rename": "(SUB) Renamed"},
        {"addTriggerEvent": "domain.chat.assigned"},
        {"addCondition": {**CONDITION, "groupIndex": 0}},
        {"addLoader": {**LOADER, "position": "beforeConditions"}},
        {"addAction": request_action()},
        {"removeAction": 0},
        {"addLoop": {"loop": {}}},
        {"setUnorderedActions": True},
    ]

    draft = the_draft(update(api, scenario["_id"], *every_kind))
    smuggled = api.update_draft(
        scenario["_id"], {"operations": [{"rename": {"name": "x", "description": "y"}}]}
    )

    assert draft["description"] == DESCRIPTION
    assert error(smuggled, 400) == "operations[0].rename: must be a string"


def test_operations_are_not_changed_by_the_caller_later(api):
    # The stored draft holds copies: the ops the simulator saw are what it keeps.
    scenario = import_scenario(api)
    action = request_action()
    sent = copy.deepcopy(action)

    draft = the_draft(update(api, scenario["_id"], {"addAction": action}))

    assert draft["actions"][-1] == sent


# --- routing, scopes, ids --------------------------------------------------------------------


def test_update_draft_needs_edit_and_manage_on_behalf(make_simulator):
    sim = make_simulator(
        tokens={
            "all": frozenset({"create", "manage_on_behalf", "edit"}),
            "no-edit": frozenset({"create", "manage_on_behalf", "view", "activate", "delete"}),
        }
    )
    scenario = import_scenario(Api(sim, token="all"))

    refused = Api(sim, token="no-edit").update_draft(
        scenario["_id"], {"operations": [{"rename": "(SUB) X"}]}
    )
    allowed = Api(sim, token="all").update_draft(
        scenario["_id"], {"operations": [{"rename": "(SUB) X"}]}
    )

    assert "Edit scenarios (edit)" in error(refused, 403)
    assert allowed.status_code == 200


def test_an_unknown_scenario_is_404_after_the_body_is_checked(api):
    unknown = new_object_id()

    missing = api.update_draft(unknown, {"operations": [{"rename": "(SUB) X"}]})
    malformed = api.update_draft(unknown, {"operations": [{"rename": ""}]})

    assert error(missing, 404) == f"scenario {unknown} not found"
    error(malformed, 400)
