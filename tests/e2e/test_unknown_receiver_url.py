"""A receiver whose URL is unknown until it exists, as Cloud Run's is: the preview a user
runs first (`pulumi preview --diff`, and the one inside `pulumi up`) plans the
subscriptions without it, then `up` wires it in, then a replaced receiver makes it
unknown again. The Automation API's `up` skips its preview, so each preview here is
run on its own."""

from __future__ import annotations

import json

import pytest

from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN, ProjectFactory
from texter_webhooks.texter.body import request_urls
from texter_webhooks.texter.content import live_body
from texter_webhooks.texter.subscription import SUBSCRIPTION_TYPE
from tooling.sandbox import RECEIVER_SECRET, SubscriptionStack, receiver_url

pytestmark = pytest.mark.e2e

EVENTS = {"assigned": "chatAssigned", "resolved": "chatResolved"}


@pytest.fixture
def subs(make_project: ProjectFactory, texter_sim: SimulatorServer) -> SubscriptionStack:
    stack = SubscriptionStack(make_project("texter-webhooks"), texter_sim, TEXTER_TOKEN)
    stack.configure()
    stack.receiver_revision = "r1"
    stack.subscriptions = {
        name: {"event": event, "url_from_receiver": True} for name, event in EVENTS.items()
    }
    return stack


def live_urls(subs: SubscriptionStack) -> dict[str, list[str]]:
    """Active scenarios' request URLs, by scenario id."""
    return {
        s["_id"]: request_urls(live_body(s) or {})
        for s in subs.sim.scenarios()
        if subs.live()[s["_id"]] == "active"
    }


def test_a_fresh_stack_previews_ups_and_follows_a_replaced_receiver(
    subs: SubscriptionStack,
) -> None:
    first = subs.preview(diff=True)
    assert json.loads(subs.preview(json=True).stdout)["changeSummary"] == {"create": 4}
    assert f"+ {SUBSCRIPTION_TYPE}: (create)" in first.stdout
    assert subs.api_calls() == []  # a preview never calls Texter

    up = subs.up(preview_first=False)
    assert up.summary.resource_changes == {"create": 4}
    created = {up.outputs[f"{name}Id"].value for name in EVENTS}
    assert set(live_urls(subs)) == created
    assert all(urls == [receiver_url("hooks-r1")] for urls in live_urls(subs).values())

    # A new receiver: its URL is unknown again until it is created.
    subs.receiver_revision = "r2"
    subs.sim.clear_request_log()
    again = subs.preview(diff=True)
    assert "+-pulumi-python:dynamic:Resource: (replace)" in again.stdout  # the receiver
    planned = json.loads(subs.preview(json=True).stdout)["changeSummary"]
    assert planned.get("same") == 1  # the stack
    assert sum(planned.values()) - planned["same"] == 3  # the receiver and both subscriptions
    assert RECEIVER_SECRET not in again.stdout + again.stderr
    assert subs.api_calls() == []

    moved = subs.up(preview_first=False)
    assert moved.outputs["assignedId"].value not in {None, ""}
    after = live_urls(subs)
    assert len(after) == len(EVENTS)
    assert all(urls == [receiver_url("hooks-r2")] for urls in after.values())
    # A preview now: everything known, nothing to do.
    assert json.loads(subs.preview(json=True).stdout)["changeSummary"] == {"same": 4}
