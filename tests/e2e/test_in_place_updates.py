"""Changes Texter's drafts can make are made in place, through the real CLI.

A new URL, header, condition or name is a new revision of the same scenario (Update
Draft, Create Revision, Activate by version): the `_id`, its runs and its marker stay,
the preview says `~ update`. Every `pulumi` operation is its own CLI run with its own
provider process, so an update cut short at any step is finished by a *new* process.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi import automation as auto

from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN, ProjectFactory
from texter_webhooks.texter import content, ownership
from texter_webhooks.texter.scenario import scenario_status
from texter_webhooks.texter.subscription import SUBSCRIPTION_TYPE
from tooling.sandbox import RECEIVER_SECRET, SubscriptionStack, receiver_url

pytestmark = pytest.mark.e2e

MATCHED = {"event": "newMatchedMessage", "placeholders": {"word1": "help", "word2": "stop"}}
NEW_URL = receiver_url("hooks/v2")
# The header form: the URL carries no secret, the token does.
PLAIN_URL = "http://127.0.0.1:9/hooks"


@pytest.fixture
def subs(make_project: ProjectFactory, texter_sim: SimulatorServer) -> SubscriptionStack:
    stack = SubscriptionStack(make_project("texter-webhooks"), texter_sim, TEXTER_TOKEN)
    stack.configure()
    return stack


def scenario(subs: SubscriptionStack, id_: str) -> dict[str, Any]:
    return next(s for s in subs.sim.scenarios() if s["_id"] == id_)


def live_urls(subs: SubscriptionStack, id_: str) -> list[str]:
    return [
        action["params"]["url"]
        for action in scenario(subs, id_)["activeRevision"]["actions"]
        if action["name"] == "request"
    ]


def managed_active(subs: SubscriptionStack) -> set[str]:
    return {
        s["_id"]
        for s in subs.sim.scenarios()
        if scenario_status(s) == "active" and ownership.is_managed(s)
    }


def up_with_a_url_change(subs: SubscriptionStack) -> str:
    subs.subscriptions = {"matched": MATCHED}
    id_ = str(subs.up().outputs["matchedId"].value)
    subs.subscriptions = {"matched": {**MATCHED, "url": NEW_URL}}
    return id_


def test_a_new_url_is_an_update_that_keeps_the_scenario_and_its_runs(
    subs: SubscriptionStack,
) -> None:
    id_ = up_with_a_url_change(subs)
    subs.sim.fire("newMatchedMessage", {"text": "help"})
    runs_before = subs.sim.runs(id_)
    assert runs_before

    preview = subs.preview(diff=True)
    assert f"~ {SUBSCRIPTION_TYPE}: (update)" in preview.stdout
    assert "(replace)" not in preview.stdout
    assert preview.change_summary == {"update": 1, "same": 1}

    up = subs.up()
    assert up.summary.resource_changes == {"update": 1, "same": 1}
    assert up.outputs["matchedId"].value == id_
    assert live_urls(subs, id_) == [NEW_URL]
    assert subs.live() == {id_: "active"}
    assert subs.sim.runs(id_)[: len(runs_before)] == runs_before
    assert scenario(subs, id_)["activeRevision"]["version"] == 2  # a new revision
    assert json.loads(subs.preview(json=True).stdout)["changeSummary"] == {"same": 2}


def test_a_new_description_still_replaces(subs: SubscriptionStack) -> None:
    subs.subscriptions = {"matched": MATCHED}
    old = subs.up().outputs["matchedId"].value
    subs.subscriptions = {"matched": {**MATCHED, "description": "help requests to the CRM"}}
    preview = subs.preview(diff=True)
    assert f"+-{SUBSCRIPTION_TYPE}: (replace)" in preview.stdout
    new = subs.up().outputs["matchedId"].value
    assert new != old
    assert subs.live() == {new: "active", old: "inactive"}


@pytest.mark.parametrize(
    ("route", "left_behind"),
    [
        ("update_draft", "nothing"),
        ("create_revision", "a draft"),
        ("activate", "a published revision, not active"),
    ],
)
def test_an_update_cut_short_is_finished_by_the_next_up(
    subs: SubscriptionStack, route: str, left_behind: str
) -> None:
    id_ = up_with_a_url_change(subs)
    subs.sim.add_fault(route, "500", count=1_000_000)
    with pytest.raises(auto.CommandError, match="update failed"):
        subs.up()
    subs.sim.clear_faults()
    assert live_urls(subs, id_) == [receiver_url()]  # still the old revision running
    assert subs.live() == {id_: "active"}, left_behind

    subs.up()
    live = scenario(subs, id_)
    assert live_urls(subs, id_) == [NEW_URL]
    assert not live.get("drafts")
    # One new revision however far the first attempt got: published once, activated.
    assert [r["version"] for r in live.get("inactiveRevisions", [])] == [1]
    assert live["activeRevision"]["version"] == 2
    assert subs.live() == {id_: "active"}
    assert json.loads(subs.preview(json=True).stdout)["changeSummary"] == {"same": 2}


def test_a_lost_answer_to_a_draft_write_is_read_back_not_applied_twice(
    subs: SubscriptionStack,
) -> None:
    id_ = up_with_a_url_change(subs)
    # The draft is written, the answer is lost: the provider must read what the draft
    # holds before it writes again, or the actions would be removed and added twice.
    subs.sim.add_fault("update_draft", "commit_then_drop", count=1)
    subs.up()
    live = scenario(subs, id_)
    assert live_urls(subs, id_) == [NEW_URL]
    assert len(live["activeRevision"]["actions"]) == 1
    assert managed_active(subs) == {id_}


def test_the_header_form_shows_the_url_and_hides_the_token(subs: SubscriptionStack) -> None:
    id_ = up_with_a_url_change(subs)
    # An existing stack moves to the header form with one update, no new scenario.
    subs.subscriptions = {
        "matched": {**MATCHED, "url": PLAIN_URL, "plain_url": True, "bearer_token": RECEIVER_SECRET}
    }
    preview = subs.preview(diff=True)
    assert preview.change_summary == {"update": 1, "same": 1}
    assert PLAIN_URL in preview.stdout  # the reviewer sees where events go
    assert RECEIVER_SECRET not in preview.stdout

    up = subs.up()
    assert up.outputs["matchedId"].value == id_
    [action] = scenario(subs, id_)["activeRevision"]["actions"]
    assert action["params"]["url"] == PLAIN_URL
    assert action["params"]["headers"] == {"Authorization": f"Bearer {RECEIVER_SECRET}"}
    exported = subs.engine.cli("stack", "export", "--stack", subs.name).stdout
    assert RECEIVER_SECRET not in exported
    history = subs.engine.cli("stack", "history", "--stack", subs.name, "--json").stdout
    assert RECEIVER_SECRET not in history
    assert RECEIVER_SECRET not in up.stdout + up.stderr
    assert (
        content.live_content_hash(scenario(subs, id_))
        == (subs.state_resources()["matched"]["outputs"]["body_hash"])
    )
