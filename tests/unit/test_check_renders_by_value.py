"""check renders each body spec once per provider process (a no-op preview checks and
diffs every subscription): what it records must still follow every input that shapes the
body, in any order of calls, as a fresh render would."""

from __future__ import annotations

from typing import Any

import pytest

from texter_webhooks.texter.provider import TexterSubscriptionProvider

URL = "https://hooks.example.com/texter"


def news(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "resource_name": "help",
        "stack": "dev",
        "event": "newMatchedMessage",
        "url": URL,
        "placeholders": {"expression": 'text == "help"'},
        "status": "active",
        "on_destroy": "inactivate",
        "adopt": False,
    }
    props.update(overrides)
    return props


def body_hash(props: dict[str, Any]) -> str:
    checked = TexterSubscriptionProvider().check({}, props)
    assert not checked.failures, checked.failures
    value = checked.inputs["body_hash"]
    assert isinstance(value, str)
    assert len(value) >= 16
    return value


@pytest.mark.parametrize(
    "change",
    [
        {"placeholders": {"expression": 'text == "stop"'}},
        {"stack": "prod"},  # the name carries `[<stack>]`
        {"display_name": "(SUB) Help requests"},
        {"url": "https://hooks.example.com/other"},
        {"event": "chatAssigned", "placeholders": None},
    ],
    ids=lambda change: ",".join(change),
)
def test_a_changed_input_is_a_new_body_in_any_order_of_checks(change: dict[str, Any]) -> None:
    first = body_hash(news())
    changed = body_hash(news(**change))
    assert changed != first
    # Checked again after the other: each still its own, as rendered the first time.
    assert body_hash(news()) == first
    assert body_hash(news(**change)) == changed


def test_a_template_error_is_reported_each_time_it_is_checked() -> None:
    broken = news(placeholders={"bogus": "x"})
    for _ in range(2):
        checked = TexterSubscriptionProvider().check({}, broken)
        assert [f.property for f in checked.failures] == ["placeholders"], checked.failures
        assert "unknown placeholder(s) bogus" in checked.failures[0].reason
