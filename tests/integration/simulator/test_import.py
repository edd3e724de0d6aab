"""Import Subscription (contract §4) and the Scenario it returns (contract §5)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.simulator.client import Api
from tests.integration.simulator.templates import event_names, filled_template, load_template

HOOK = "https://hooks.example.com/texter/abc123"
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
REVISION_KEYS = {
    "_id",
    "scenarioId",
    "name",
    "description",
    "status",
    "version",
    "parentVersion",
    "revisionComment",
    "triggerEvents",
    "conditions",
    "loaders",
    "actions",
    "loops",
    "tags",
    "attachedData",
    "options",
    "metadata",
}


@pytest.mark.parametrize("event", event_names())
def test_every_template_imports_as_an_active_scenario(api, event):
    body = filled_template(event, HOOK)
    response = api.import_(body)

    assert response.status_code == 201, response.text
    scenario = response.json()
    assert OBJECT_ID.match(scenario["_id"])
    assert scenario["inactiveRevisions"] == []
    assert scenario["drafts"] == []
    revision = scenario["activeRevision"]
    assert set(revision) == REVISION_KEYS
    assert OBJECT_ID.match(revision["_id"])
    assert revision["scenarioId"] == scenario["_id"]
    assert revision["status"] == "active"
    assert revision["version"] == 1
    assert revision["parentVersion"] is None
    assert isinstance(revision["revisionComment"], str)
    for field in ("name", "description", "triggerEvents", "conditions", "loaders", "actions"):
        assert revision[field] == body["data"][field]
    assert revision["options"] == body["data"]["options"]
    assert (revision["loops"], revision["tags"], revision["attachedData"]) == ([], [], {})
    assert revision["actions"][0]["params"]["url"] == HOOK
    metadata = revision["metadata"]
    assert isinstance(metadata["created"], int)
    assert metadata["activated"] >= metadata["created"]
    assert metadata["activations"] == [
        {"timestamp": metadata["activated"], "userUid": metadata["authorUid"]}
    ]


def test_inactive_import_stores_one_inactive_revision(api):
    response = api.import_(filled_template("chatResolved", HOOK, asStatus="inactive"))

    assert response.status_code == 201
    scenario = response.json()
    assert "activeRevision" not in scenario
    [revision] = scenario["inactiveRevisions"]
    assert revision["status"] == "inactive"
    assert revision["version"] == 1
    assert "activated" not in revision["metadata"]
    assert revision["metadata"]["activations"] == []


def test_draft_import_stores_a_draft_without_version(api):
    response = api.import_(filled_template("chatResolved", HOOK, asStatus="draft"))

    assert response.status_code == 201
    scenario = response.json()
    assert "activeRevision" not in scenario
    assert scenario["inactiveRevisions"] == []
    [draft] = scenario["drafts"]
    assert draft["status"] == "draft"
    assert "version" not in draft
    assert "revisionComment" not in draft
    assert set(draft["metadata"]) == {"authorUid", "created", "modified"}


def test_author_uid_is_recorded(api):
    response = api.import_(filled_template("chatPending", HOOK, authorUid="user-42"))

    metadata = response.json()["activeRevision"]["metadata"]
    assert metadata["authorUid"] == "user-42"
    assert metadata["activations"][0]["userUid"] == "user-42"


def test_description_is_kept_byte_for_byte(api):
    description = "  managed-by: pulumi/texter-webhooks urn=é✓ \n\ttrailing  "
    body = filled_template("chatPending", HOOK)
    body["data"]["description"] = description

    created = api.import_(body).json()
    listed = api.list().json()["scenarios"][0]

    assert created["activeRevision"]["description"] == description
    assert listed["activeRevision"]["description"] == description


def test_duplicate_names_create_distinct_scenarios(api):
    first = api.import_(filled_template("chatPending", HOOK)).json()
    second = api.import_(filled_template("chatPending", HOOK)).json()

    assert first["_id"] != second["_id"]
    assert api.list().json()["total"] == 2


def test_unfilled_url_placeholder_is_rejected_with_its_path(api):
    response = api.import_(load_template("chatAssigned"))

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "status": 400,
            "message": "data.actions[0].params.url: contains the unfilled placeholder "
            "{{yourWebhookURL}}",
        }
    }


def test_unfilled_condition_placeholders_are_rejected_with_their_path(api):
    body = load_template("newMatchedMessage")
    body["data"]["actions"][0]["params"]["url"] = HOOK

    response = api.import_(body)

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "data.conditions[0][1].params.expression: contains the unfilled placeholder" in message
    assert "{{word1}}" in message
    assert "{{word2}}" in message


Change = Callable[[dict[str, Any]], None]


def _with(change: Change) -> dict[str, Any]:
    body = filled_template("chatAssigned", HOOK)
    change(body)
    return body


def _set(path: tuple[Any, ...], value: Any) -> Change:
    def change(body: dict[str, Any]) -> None:
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path: tuple[Any, ...]) -> Change:
    def change(body: dict[str, Any]) -> None:
        target = body
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


ACTION = ("data", "actions", 0)
INVALID_BODIES = [
    (_set(("extra",), 1), "extra: unknown field"),
    (_set(("asStatus",), "paused"), "asStatus: must be one of active, inactive, draft"),
    (_set(("authorUid",), 7), "authorUid: must be a string"),
    (_delete(("data",)), "data: is required"),
    (_set(("data",), []), "data: must be a JSON object"),
    (_set(("data", "folder"), "x"), "data.folder: unknown field"),
    (_set(("data", "tags"), [1]), "data.tags[0]: must be a string"),
    (_set(("data", "loops"), [{"loops": {}}]), "data.loops[0].loops: unknown field"),
    (_set(("data", "attachedData"), "x"), "data.attachedData: must be a JSON object"),
    (_set(("data", "version"), 1), 'data.version: must be "v1"'),
    (_delete(("data", "name")), "data.name: is required"),
    (_set(("data", "name"), ""), "data.name: must be a non-empty string"),
    (_set(("data", "name"), "x" * 201), "data.name: must be at most 200 characters"),
    (_set(("data", "description"), "x" * 2001), "data.description: must be at most 2000"),
    (_set(("data", "triggerEvents"), []), "data.triggerEvents: must be a non-empty list"),
    (_set(("data", "triggerEvents"), [3]), "data.triggerEvents[0]: must be a non-empty string"),
    (_set(("data", "loaders"), []), "data.loaders: must be a JSON object"),
    (_set(("data", "conditions"), {}), "data.conditions: must be a list"),
    (_set(("data", "conditions"), [[]]), "data.conditions[0]: must be a non-empty list"),
    (
        _set(("data", "conditions"), [[{"name": "filtrex"}]]),
        "data.conditions[0][0].params: is required",
    ),
    (_set(("data", "actions"), []), "data.actions: must be a non-empty list"),
    (_set((*ACTION, "params", "url"), "/relative/hook"), "params.url: must be an absolute http"),
    (_set((*ACTION, "params", "url"), "ftp://host/x"), "params.url: must be an absolute http"),
    (_set((*ACTION, "params", "url"), "https:///nohost"), "params.url: must be an absolute http"),
    (_set((*ACTION, "params", "method"), "POST"), "data.actions[0].params.method: must be one of"),
    (_set((*ACTION, "params", "data"), "x"), "data.actions[0].params.data: must be a JSON object"),
    (_set((*ACTION, "params", "headers"), {}), "data.actions[0].params.headers: unknown field"),
    (_set((*ACTION, "confidentialData"), "no"), "data.actions[0].confidentialData: must be a bool"),
    (_set(("data", "options", "unorderedActions"), 1), "data.options.unorderedActions: must be"),
]


@pytest.mark.parametrize(("change", "expected"), INVALID_BODIES)
def test_invalid_import_bodies_are_rejected_naming_the_field(api, change, expected):
    response = api.import_(_with(change))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400
    assert expected in error["message"]
    assert api.list().json()["total"] == 0


def test_all_problems_are_reported_at_once(api):
    body = filled_template("chatAssigned", HOOK)
    body["data"]["name"] = ""
    body["data"]["actions"][0]["params"]["method"] = "send"

    message = api.import_(body).json()["error"]["message"]

    assert "data.name:" in message
    assert "data.actions[0].params.method:" in message


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        (b"", "application/json", "a JSON object is required"),
        (b"{not json", "application/json", "invalid JSON"),
        (b'{"data": {}, "data": {}}', "application/json", "duplicate key"),
        (b"[]", "application/json", "body: must be a JSON object"),
        (b"{}", "text/plain", "Content-Type must be application/json"),
    ],
)
def test_unparseable_bodies_are_400(api, raw, content_type, expected):
    response = api.call(
        "POST", "/scenarios/manage/import", data=raw, headers={"Content-Type": content_type}
    )

    assert response.status_code == 400
    assert expected in response.json()["error"]["message"]


def test_lenient_import_ignores_unknown_fields(make_simulator):
    api = Api(make_simulator(lenient_import=True))
    body = filled_template("chatAssigned", HOOK, extra="ignored")
    body["data"]["folder"] = "x"
    body["data"]["actions"][0]["params"]["headers"] = {"X-Key": "v"}

    response = api.import_(body)

    assert response.status_code == 201
    assert "extra" not in response.json()
    assert "folder" not in response.json()["activeRevision"]


def test_loops_tags_and_attached_data_are_stored_in_the_revision(api):
    extras = {
        "loops": [{"loop": {"over": "%chat:labels%", "actions": []}}],
        "tags": ["billing"],
        "attachedData": {"team": "support"},
    }
    body = filled_template("chatAssigned", HOOK)
    body["data"].update(extras)

    response = api.import_(body)

    assert response.status_code == 201, response.text
    listed = api.list().json()["scenarios"][0]["activeRevision"]
    for revision in (response.json()["activeRevision"], listed):
        assert {key: revision[key] for key in extras} == extras


def test_a_request_action_without_data_imports(api):
    body = filled_template("chatAssigned", HOOK)
    del body["data"]["actions"][0]["params"]["data"]

    response = api.import_(body)

    assert response.status_code == 201, response.text
    assert "data" not in response.json()["activeRevision"]["actions"][0]["params"]
