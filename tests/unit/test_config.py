"""Stack config parsing: every error names the key it comes from."""

from __future__ import annotations

import pytest
from stack_config import ConfigError, parse_subscriptions


def test_events_with_parameters_parse() -> None:
    subs = parse_subscriptions(
        ["chatAssigned", "newMatchedMessage"],
        {"newMatchedMessage": {"expression": 'text == "hi"'}},
    )
    assert [s.event for s in subs] == ["chatAssigned", "newMatchedMessage"]
    assert subs[1].placeholders == {"expression": 'text == "hi"'}


@pytest.mark.parametrize(
    ("events", "parameters", "message"),
    [
        ([], {}, r"texter-webhooks:events must be a non-empty list"),
        ("chatAssigned", {}, r"texter-webhooks:events must be a non-empty list"),
        (["chatAssigned", 3], {}, r"events\[1\]: expected an event name"),
        (["chatAsigned"], {}, r"events\[0\]: unknown Texter event .*did you mean chatAssigned"),
        (["chatAssigned", "chatAssigned"], {}, r"events\[1\]: chatAssigned is listed twice"),
        (["chatAssigned"], {"chatResolved": {}}, r"eventParameters has values for chatResolved"),
        (["chatAssigned"], {"chatAssigned": {"a": 1}}, r"eventParameters.chatAssigned must map"),
        (["chatAssigned"], [], r"eventParameters must be an object"),
    ],
)
def test_bad_config_names_the_key(events: object, parameters: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_subscriptions(events, parameters)
