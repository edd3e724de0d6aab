"""Event catalog and import-body rendering."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest

from texter_webhooks.texter import catalog, content, ownership
from texter_webhooks.texter.body import (
    BodySpec,
    canonical_json,
    mask_url,
    masked,
    render,
    request_urls,
)
from texter_webhooks.texter.errors import TemplateError

URL = "https://receiver.example.com/hooks/s3cr3t-value"
PARAMETERS = {
    "newMatchedMessage": {"expression": 'text == "help"'},
    "chatSpecificLabelAdded": {"targetLabelId": "label-42"},
}


def test_the_templates_and_the_catalog_index_name_the_same_events() -> None:
    # The index ships beside the templates (package data): the table's first column is
    # each event's delivered eventName.
    index = resources.files("texter_webhooks.texter.events").joinpath("INDEX.md").read_text()
    indexed = set(re.findall(r"^\| `(\w+)` \|", index, re.MULTILINE))
    assert indexed == set(catalog.event_names())
    for event in indexed:
        action = catalog.lookup(event).template["data"]["actions"][0]
        assert action["params"]["data"]["eventName"] == event


@pytest.mark.parametrize("event", catalog.event_names())
def test_every_event_renders_with_the_url_in_every_request_action(event: str) -> None:
    body = render(BodySpec(url=URL, event=event, placeholders=PARAMETERS.get(event)), stack="dev")
    text = canonical_json(body)
    assert "{{" not in text
    assert request_urls(body) == [URL]
    assert body["asStatus"] == "active"
    delivered = body["data"]["actions"][0]["params"]["data"]["eventName"]
    assert delivered == event
    assert body["data"]["name"].endswith(" [dev]")


def test_display_name_description_status_and_author_are_applied() -> None:
    body = render(
        BodySpec(
            url=URL,
            event="chatAssigned",
            display_name="(SUB) Assigned chats",
            description="to the CRM",
            status="inactive",
            author_uid="user-1",
        ),
        stack="prod",
    )
    assert body["data"]["name"] == "(SUB) Assigned chats"
    assert body["data"]["description"] == "to the CRM"
    assert body["asStatus"] == "inactive"
    assert body["authorUid"] == "user-1"


@pytest.mark.parametrize(
    ("display_name", "name"),
    [("Assigned chats", "(SUB) Assigned chats"), ("(SUB) Assigned chats", "(SUB) Assigned chats")],
)
def test_every_subscription_keeps_the_sub_prefix_the_texter_ui_sorts_by(display_name, name):
    body = render(BodySpec(url=URL, event="chatAssigned", display_name=display_name), stack="p")
    assert body["data"]["name"] == name
    templates = {e: catalog.lookup(e).template["data"]["name"] for e in catalog.event_names()}
    assert all(n.startswith("(SUB) ") for n in templates.values()), templates


def test_matched_message_expression_replaces_the_whole_condition() -> None:
    body = render(
        BodySpec(url=URL, event="newMatchedMessage", placeholders={"expression": 'text == "x"'}),
        stack="dev",
    )
    assert body["data"]["conditions"][0][1]["params"]["expression"] == 'text == "x"'
    words = render(
        BodySpec(url=URL, event="newMatchedMessage", placeholders={"word1": "a", "word2": "b"}),
        stack="dev",
    )
    assert words["data"]["conditions"][0][1]["params"]["expression"] == (
        'text == "a" or text == "b"'
    )


def test_unfilled_placeholders_are_refused_by_name() -> None:
    with pytest.raises(TemplateError, match="word1, word2") as caught:
        render(BodySpec(url=URL, event="newMatchedMessage"), stack="dev")
    assert caught.value.field == "placeholders"


def test_unknown_placeholders_are_refused_with_what_the_template_takes() -> None:
    with pytest.raises(TemplateError, match="unknown placeholder.*wordd.*takes"):
        render(
            BodySpec(url=URL, event="chatSpecificLabelAdded", placeholders={"wordd": "x"}),
            stack="dev",
        )


def test_unknown_event_lists_the_closest_names() -> None:
    with pytest.raises(TemplateError, match="did you mean chatAssigned") as caught:
        catalog.lookup("chatAsigned")
    assert caught.value.field == "event"
    with pytest.raises(TemplateError, match="did you mean chatAssigned"):
        catalog.lookup("chatassigned")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("receiver.example.com/hooks/x", "absolute"),
        ("ftp://receiver.example.com/x", "absolute"),
        ("http://receiver.example.com/hooks/x", "https"),
    ],
)
def test_bad_urls_are_refused_without_echoing_the_path(url: str, reason: str) -> None:
    with pytest.raises(TemplateError, match=reason) as caught:
        render(BodySpec(url=url, event="chatAssigned"), stack="dev")
    assert "/hooks/x" not in str(caught.value)
    assert caught.value.field == "url"


def test_http_is_allowed_for_loopback_receivers() -> None:
    body = render(BodySpec(url="http://127.0.0.1:8787/hooks/x", event="chatAssigned"), stack="l")
    assert request_urls(body) == ["http://127.0.0.1:8787/hooks/x"]


def test_custom_template_goes_through_the_same_validation() -> None:
    template = json.loads(
        (Path(catalog.__file__).parent / "events" / "chatResolved.json").read_text()
    )
    body = render(BodySpec(url=URL, template=template), stack="dev")
    assert request_urls(body) == [URL]
    template["data"]["actions"][0]["params"]["url"] = "https://hard.coded/"
    with pytest.raises(TemplateError, match="yourWebhookURL"):
        render(BodySpec(url=URL, template=template), stack="dev")
    with pytest.raises(TemplateError, match="either event or template"):
        render(BodySpec(url=URL, template=template, event="chatResolved"), stack="dev")
    with pytest.raises(TemplateError, match="data"):
        render(BodySpec(url=URL, template={"nope": 1}), stack="dev")


def test_canonical_form_ignores_key_order() -> None:
    expected = '{"a":[{"c":3,"d":2}],"b":1}'
    assert canonical_json({"b": 1, "a": [{"d": 2, "c": 3}]}) == expected
    assert canonical_json({"a": [{"c": 3, "d": 2}], "b": 1}) == expected


def test_masking_hides_the_receiver_secret() -> None:
    body = render(BodySpec(url=URL, event="chatAssigned"), stack="dev")
    shown = masked(body)
    assert "s3cr3t" not in canonical_json(shown)
    assert request_urls(shown) == ["https://receiver.example.com/***"]
    assert request_urls(body) == [URL]  # the original is untouched
    assert mask_url("not a url") == "<not a URL>"


def test_content_hash_ignores_the_marker_and_empty_defaults_but_not_edits() -> None:
    body = render(BodySpec(url=URL, event="chatAssigned"), stack="dev")
    marked = ownership.Marker.marked(body, "abc:123")
    assert "[texter-webhooks:abc:123]" in marked["data"]["description"]
    assert content.content_hash(marked) == content.content_hash(body)
    revision = {**marked["data"], "loaders": {"x": []}}
    scenario = {"_id": "1", "activeRevision": revision}
    assert content.live_content_hash(scenario) == content.content_hash(body)
    revision["description"] = "edited in the UI"
    assert content.live_content_hash(scenario) != content.content_hash(body)


def test_a_template_may_not_put_the_url_anywhere_but_a_request_url() -> None:
    template = json.loads(
        (Path(catalog.__file__).parent / "events" / "chatResolved.json").read_text()
    )
    template["data"]["description"] = "posts to {{yourWebhookURL}}"
    with pytest.raises(TemplateError, match="only be a request action's url"):
        render(BodySpec(url=URL, template=template), stack="dev")
