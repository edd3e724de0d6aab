"""Rendering of ##provide objects and %provider:key% strings."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.render import RenderError, render

ENTITIES = {
    "chat": {"_id": "c1", "agent": {"uid": "a1"}, "externalBot": False},
    "addedLabels": ["vip"],
    "messageStatusRequest": {"status": 4, "ids": ["w1"], "chat": {"name": "whatsapp"}},
}


def _provide(provider: str, key: str) -> dict[str, Any]:
    return {"##provide": {"provider": provider, "key": key}}


def test_the_self_key_returns_the_whole_entity():
    assert render(_provide("chat", "chat"), ENTITIES) == ENTITIES["chat"]


def test_label_providers_use_the_labels_key():
    assert render(_provide("addedLabels", "labels"), ENTITIES) == ["vip"]


def test_dotted_keys_reach_into_the_entity():
    assert render(_provide("chat", "agent.uid"), ENTITIES) == "a1"
    assert render(_provide("messageStatusRequest", "chat.name"), ENTITIES) == "whatsapp"


def test_falsy_values_are_rendered_not_dropped():
    assert render(_provide("chat", "externalBot"), ENTITIES) is False


def test_a_whole_string_reference_keeps_the_value_type():
    assert render("%messageStatusRequest:ids%", ENTITIES) == ["w1"]
    assert render("%messageStatusRequest:status%", ENTITIES) == 4


def test_references_inside_text_are_interpolated():
    assert render("status=%messageStatusRequest:status% chat=%chat:_id%", ENTITIES) == (
        "status=4 chat=c1"
    )


def test_nested_structures_and_plain_values_pass_through():
    template = {"a": [1, None, True, "100% plain"], "b": {"c": _provide("chat", "_id")}}

    assert render(template, ENTITIES) == {"a": [1, None, True, "100% plain"], "b": {"c": "c1"}}


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (_provide("agent", "_id"), "data: unknown provider 'agent'"),
        (_provide("chat", "agent.email"), "data: provider 'chat' has no key 'agent.email'"),
        ({"##provide": {"provider": "chat"}}, "data: malformed ##provide"),
        ({"##provide": {"provider": "chat", "key": "_id"}, "x": 1}, "data: malformed ##provide"),
        ({"x": ["%chat:missing%"]}, "data.x[0]: provider 'chat' has no key 'missing'"),
    ],
)
def test_unresolvable_references_raise_with_their_path(template, message):
    with pytest.raises(RenderError) as raised:
        render(template, ENTITIES)

    assert str(raised.value).startswith(message)
