"""A preview with a custom template holding a value not known yet (an Output of another
resource) deep inside a list: check and diff show the change as computed, and fail nothing."""

from __future__ import annotations

from typing import Any

from pulumi.output import Unknown

from tests.unit.test_provider_preview_inputs import UNKNOWN, inputs, recorded
from texter_webhooks.texter import catalog
from texter_webhooks.texter.provider import TexterSubscriptionProvider


def template_with_an_unknown_in_its_actions(unknown: Any) -> dict[str, Any]:
    template = catalog.lookup("chatAssigned").body_template()
    template["data"]["actions"][0]["params"]["data"]["eventData"]["team"] = unknown
    return template


def test_an_unknown_inside_a_template_s_actions_is_computed_in_the_preview() -> None:
    provider = TexterSubscriptionProvider()
    template = template_with_an_unknown_in_its_actions(Unknown())  # type: ignore[no-untyped-call]
    news = inputs(event=None, template=template)

    result = provider.check({}, news)

    assert result.failures == []
    assert result.inputs["body_hash"] == UNKNOWN
    olds = recorded(event=None, template=catalog.lookup("chatAssigned").body_template())
    diff = provider.diff("s1", olds, {**news, **result.inputs})
    assert diff.changes is True
