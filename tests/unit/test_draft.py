"""The draft operations an in-place update sends (texter.draft)."""

from __future__ import annotations

import copy
from typing import Any

from texter_webhooks.texter import draft
from texter_webhooks.texter.body import BodySpec, render
from texter_webhooks.texter.ownership import Marker

URL = "https://receiver.example/hooks"
WORDS = {"word1": "help", "word2": "stop"}


def data(**spec: Any) -> dict[str, Any]:
    rendered: dict[str, Any] = render(
        BodySpec(**{"url": URL, "event": "newMatchedMessage", "placeholders": WORDS, **spec}),
        stack="dev",
    )["data"]
    return rendered


def marked(content: dict[str, Any], owner: str) -> dict[str, Any]:
    data_: dict[str, Any] = Marker.marked({"data": content}, owner)["data"]
    return data_


def test_the_same_content_needs_no_operation() -> None:
    assert draft.operations(data(), data()) == []


def test_empty_defaults_written_another_way_are_the_same_content() -> None:
    live = {**data(), "loops": [], "tags": []}
    live["options"] = {**live["options"]}
    live["loaders"] = {**live["loaders"], "beforeConditions": []}
    assert draft.operations(live, data()) == []


def test_a_new_url_rewrites_the_actions_last_first() -> None:
    old, new = data(), data(url="https://other.example/hooks")
    old["actions"].append(copy.deepcopy(old["actions"][0]))
    ops = draft.operations(old, new)
    assert ops == [
        {"removeAction": 1},
        {"removeAction": 0},
        *({"addAction": action} for action in new["actions"]),
    ]
    assert new["actions"][0]["params"]["url"] == "https://other.example/hooks"


def test_a_bearer_token_is_a_new_action() -> None:
    ops = draft.operations(data(), data(bearer_token="t" * 20))
    added = [op["addAction"] for op in ops if "addAction" in op]
    assert added[0]["params"]["headers"] == {"Authorization": "Bearer " + "t" * 20}


def test_a_new_name_is_a_rename_only() -> None:
    assert draft.operations(data(), data(display_name="(SUB) Help requests")) == [
        {"rename": "(SUB) Help requests"}
    ]


def test_conditions_go_last_group_last_index_first_and_come_back_group_by_group() -> None:
    old = data()
    first = old["conditions"][0][0]
    old["conditions"] = [[first, first], [first]]
    new = data(placeholders={"word1": "urgent", "word2": "now"})
    ops = draft.operations(old, new)
    assert ops[:3] == [
        {"removeCondition": {"groupIndex": 1, "index": 0}},
        {"removeCondition": {"groupIndex": 0, "index": 1}},
        {"removeCondition": {"groupIndex": 0, "index": 0}},
    ]
    assert ops[3:] == [
        {"addCondition": {**condition, "groupIndex": group}}
        for group, conditions in enumerate(new["conditions"])
        for condition in conditions
    ]


def test_triggers_are_added_and_removed_one_by_one() -> None:
    old, new = data(), data()
    old["triggerEvents"] = ["a.b", *new["triggerEvents"]]
    new["triggerEvents"] = [*new["triggerEvents"], "c.d"]
    assert draft.operations(old, new) == [
        {"removeTriggerEvent": "a.b"},
        {"addTriggerEvent": "c.d"},
    ]


def test_loaders_are_rewritten_per_position() -> None:
    old, new = data(), data()
    loader = new["loaders"]["afterConditions"][0]
    old["loaders"] = {"beforeConditions": [loader, loader]}
    new["loaders"] = {"beforeConditions": [loader], "afterConditions": [loader]}
    assert draft.operations(old, new) == [
        {"removeLoader": {"index": 1, "position": "beforeConditions"}},
        {"removeLoader": {"index": 0, "position": "beforeConditions"}},
        {"addLoader": {**loader, "position": "beforeConditions"}},
        {"addLoader": {**loader, "position": "afterConditions"}},
    ]


def test_unordered_actions_is_set_when_it_differs() -> None:
    old, new = data(), data()
    new["options"] = {"unorderedActions": not old["options"].get("unorderedActions")}
    assert draft.operations(old, new) == [
        {"setUnorderedActions": new["options"]["unorderedActions"]}
    ]


def test_only_the_description_needs_a_new_scenario() -> None:
    assert draft.replaceable_only(data(), data(url="https://other.example/hooks")) == []
    assert draft.replaceable_only(data(), data(description="other")) == ["description"]
    # The ownership marker is not part of what is compared.
    assert draft.replaceable_only(marked(data(), "k1"), marked(data(), "k2")) == []
