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


def test_the_self_key_and_the_labels_key_return_the_whole_entity():
    assert render(_provide("chat", "chat"), ENTITIES) == ENTITIES["chat"]
    assert render(_provide("addedLabels", "labels"), ENTITIES) == ["vip"]


def test_falsy_values_are_rendered_not_dropped():
    assert render(_provide("chat", "externalBot"), ENTITIES) is False


def test_a_whole_string_reference_keeps_the_value_type():
    assert render("%messageStatusRequest:ids%", ENTITIES) == ["w1"]
    assert render("%messageStatusRequest:status%", ENTITIES) == 4


def test_references_inside_text_are_interpolated():
    assert render("status=%messageStatusRequest:status% chat=%chat:_id%", ENTITIES) == (
        "status=4 chat=c1"
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (_provide("agent", "_id"), "data: unknown provider 'agent'"),
        ({"##provide": {"provider": "chat"}}, "data: malformed ##provide"),
        ({"x": ["%chat:missing%"]}, "data.x[0]: provider 'chat' has no key 'missing'"),
    ],
)
def test_unresolvable_references_raise_with_their_path(template, message):
    with pytest.raises(RenderError) as raised:
        render(template, ENTITIES)

    assert str(raised.value).startswith(message)
