"""Import Subscription (contract §4) and the Scenario it returns (contract §5)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.simulator.client import Api
from tests.integration.simulator.templates import filled_template, load_template
from tests.integration.simulator.test_reply_shapes import REVISION_KEYS

HOOK = "https://hooks.example.com/texter/abc123"
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def test_a_template_imports_as_an_active_scenario(api):
    # Every template imports: test_firing.py imports and fires each one.
    body = filled_template("chatAssigned", HOOK)
    response = api.import_(body)

    assert response.status_code == 201, response.text
    scenario = response.json()
    assert OBJECT_ID.match(scenario["_id"])
    assert scenario["inactiveRevisions"] == []
    assert scenario["drafts"] == []
    revision = scenario["activeRevision"]
    assert set(revision) == REVISION_KEYS | {"description"}  # the template has one
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
# One case per rule; the validator applies each rule the same way wherever it appears.
INVALID_BODIES = [
    (_set(("extra",), 1), "extra: unknown field"),
    (_set((*ACTION, "params", "timeout"), 5), "data.actions[0].params.timeout: unknown field"),
    (_set(("asStatus",), "paused"), "asStatus: must be one of active, inactive, draft"),
    (_delete(("data", "name")), "data.name: is required"),
    (_set(("data", "name"), "x" * 201), "data.name: must be at most 200 characters"),
    (_set(("data", "tags"), [1]), "data.tags[0]: must be a string"),
    (_set((*ACTION, "params", "url"), "/relative/hook"), "params.url: must be an absolute http"),
    (_set((*ACTION, "params", "method"), "POST"), "data.actions[0].params.method: must be one of"),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    INVALID_BODIES,
    ids=[
        "unknown-field",
        "unknown-request-param",
        "enum",
        "required",
        "too-long",
        "revision-field",
        "url",
        "method",
    ],
)
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
        (b'{"data": NaN}', "application/json", "NaN is not valid JSON"),
        (b"[]", "application/json", "body: must be a JSON object"),
        (b"{}", "text/plain", "Content-Type must be application/json"),
    ],
    ids=["empty", "not-json", "duplicate-key", "nan", "not-an-object", "content-type"],
)
def test_unparseable_bodies_are_400(api, raw, content_type, expected):
    response = api.call(
        "POST", "/scenarios/manage/import", data=raw, headers={"Content-Type": content_type}
    )

    assert response.status_code == 400
    assert expected in response.json()["error"]["message"]


def test_lenient_import_ignores_unknown_fields_but_keeps_the_other_rules(make_simulator):
    api = Api(make_simulator(lenient_import=True))
    body = filled_template("chatAssigned", HOOK, extra="ignored")
    body["data"]["folder"] = "x"
    body["data"]["actions"][0]["params"]["timeout"] = 5
    bad_url = filled_template("chatAssigned", "not a url", extra="ignored")

    response = api.import_(body)
    refused = api.import_(bad_url)

    assert response.status_code == 201
    assert "extra" not in response.json()
    assert "folder" not in response.json()["activeRevision"]
    assert refused.status_code == 400
    assert "params.url: must be an absolute http" in refused.json()["error"]["message"]


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
