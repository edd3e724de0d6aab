"""Custom templates keep the receiver URL where the resource fills it, and the live body in
outputs is what the import body said."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from texter_webhooks.texter import catalog, content
from texter_webhooks.texter.body import BodySpec, render, request_urls
from texter_webhooks.texter.errors import TemplateError
from texter_webhooks.texter.ownership import Marker

URL = "https://receiver.example.com/hooks/s3cr3t-value"
LITERAL = "https://elsewhere.example.net/hooks/hard-coded"
PLACEHOLDER = "{{yourWebhookURL}}"


def template() -> dict[str, Any]:
    """A full import body a user could give as `template` (the catalog's chatResolved)."""
    path = Path(catalog.__file__).parent / "events" / "chatResolved.json"
    loaded: dict[str, Any] = json.loads(path.read_text())
    assert request_urls(loaded) == [PLACEHOLDER]
    return loaded


def with_second_request(body: dict[str, Any], url: str) -> dict[str, Any]:
    action = copy.deepcopy(body["data"]["actions"][0])
    action["params"]["url"] = url
    body["data"]["actions"].append(action)
    return body


def test_a_custom_template_with_the_placeholder_as_its_request_url_renders() -> None:
    body = render(
        BodySpec(url=URL, template=with_second_request(template(), PLACEHOLDER)), stack="d"
    )
    assert request_urls(body) == [URL, URL]


def test_a_custom_template_whose_request_url_is_a_literal_url_is_refused_as_a_template_error() -> (
    None
):
    literal = template()
    literal["data"]["actions"][0]["params"]["url"] = LITERAL

    with pytest.raises(TemplateError) as caught:
        render(BodySpec(url=URL, template=literal), stack="dev")

    assert caught.value.field == "template"
    assert f"every request action's url in a template must be {PLACEHOLDER}" in str(caught.value)


def test_a_custom_template_with_one_literal_request_url_among_placeholders_is_refused() -> None:
    # Otherwise the placeholder is filled and the literal URL is called as well.
    mixed = with_second_request(template(), LITERAL)

    with pytest.raises(TemplateError, match="every request action's url") as caught:
        render(BodySpec(url=URL, template=mixed), stack="dev")

    assert caught.value.field == "template"


@pytest.mark.parametrize(
    "where",
    [
        ("data", "description"),
        ("data", "name"),
        ("data", "actions", 0, "params", "data", "eventName"),
        ("data", "actions", 0, "params", "headers", "X-Callback"),
    ],
)
def test_the_url_placeholder_anywhere_but_a_request_url_is_refused(where: tuple[Any, ...]) -> None:
    body = template()
    target: Any = body
    for step in where[:-1]:
        target = target.setdefault(step, {}) if isinstance(step, str) else target[step]
    target[where[-1]] = f"see {PLACEHOLDER}"

    with pytest.raises(TemplateError, match="may only be a request action's url") as caught:
        render(BodySpec(url=URL, template=body), stack="dev")

    assert caught.value.field == "template"


def test_live_body_is_the_import_bodys_data_as_texter_stored_it() -> None:
    body = Marker.marked(render(BodySpec(url=URL, event="chatAssigned"), stack="dev"), "stack:abc")
    # The import body's own data fields, bar `version` (an import body's format version; a
    # revision's `version` is its number, not content).
    expected = {key: value for key, value in body["data"].items() if key != "version"}
    assert set(expected) == {
        "name",
        "description",
        "triggerEvents",
        "loaders",
        "conditions",
        "actions",
        "options",
    }
    stored = copy.deepcopy(body["data"])
    # What a revision adds besides the content is not part of the live body.
    revision_in_force = {**stored, "version": 3, "createdAt": "2024-05-01T00:00:00Z", "uid": "u"}
    older = {**copy.deepcopy(stored), "version": 2, "name": "(SUB) older", "actions": []}
    newer_draft = {**copy.deepcopy(stored), "description": "a draft in progress"}
    scenario = {
        "_id": "0123456789abcdef01234567",
        "activeRevision": revision_in_force,
        "inactiveRevisions": [older],
        "drafts": [newer_draft],
    }

    live = content.live_body(scenario)

    assert live == {"data": expected}
    assert request_urls(live) == [URL]
    assert live["data"]["description"].endswith("[texter-webhooks:stack:abc]")


def test_live_body_of_an_inactive_scenario_is_its_newest_revision_and_none_without_one() -> None:
    body = render(BodySpec(url=URL, event="chatResolved"), stack="dev")
    expected = {key: value for key, value in body["data"].items() if key != "version"}
    stale = {**copy.deepcopy(body["data"]), "version": 1, "name": "(SUB) stale"}
    newest = {**copy.deepcopy(body["data"]), "version": 2}

    scenario = {"_id": "s", "inactiveRevisions": [newest, stale]}

    assert content.live_body(scenario) == {"data": expected}
    assert content.live_body({"_id": "s"}) is None
