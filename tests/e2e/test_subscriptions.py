"""TexterSubscription through the real Pulumi CLI against the simulator, one scenario each."""

from __future__ import annotations

import json
import re

import pytest
from pulumi import automation as auto

from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN, ProjectFactory
from texter_webhooks.texter.body import request_urls
from texter_webhooks.texter.content import live_body
from texter_webhooks.texter.subscription import SUBSCRIPTION_TYPE
from tooling.sandbox import RECEIVER_SECRET, SubscriptionStack, receiver_url

pytestmark = pytest.mark.e2e

# How `pulumi stack export` marks an encrypted value.
SECRET_SIG = "4dabf18193072939515e22adb298388d"
MATCHED = {"event": "newMatchedMessage", "placeholders": {"expression": 'text == "help"'}}


def changed(preview: str, key: str, change: str, sign: str = "~") -> bool:
    """Whether `pulumi preview --diff` shows `~ key: change` (keys are padded)."""
    pattern = rf"{re.escape(sign)} {re.escape(key)}\s*: {re.escape(change)}"
    return re.search(pattern, preview) is not None


@pytest.fixture
def subs(make_project: ProjectFactory, texter_sim: SimulatorServer) -> SubscriptionStack:
    stack = SubscriptionStack(make_project("texter-webhooks"), texter_sim, TEXTER_TOKEN)
    stack.configure()
    return stack


def test_create_then_a_no_op_preview_and_up_make_zero_api_calls(subs: SubscriptionStack) -> None:
    subs.subscriptions = {
        "assigned": {"event": "chatAssigned"},
        "resolved": {"event": "chatResolved", "on_destroy": "delete"},
        "matched": MATCHED,
    }
    up = subs.up()
    assert up.summary.resource_changes == {"create": 4}
    scenarios = {s["_id"]: s for s in subs.sim.scenarios()}
    assert len(scenarios) == 3
    for name in subs.subscriptions:
        scenario = scenarios[up.outputs[f"{name}Id"].value]
        assert request_urls(live_body(scenario) or {}) == [receiver_url()]
        assert scenario["activeRevision"]["name"].endswith("[e2e]")
    matched = scenarios[up.outputs["matchedId"].value]["activeRevision"]
    assert matched["conditions"][0][1]["params"]["expression"] == 'text == "help"'

    subs.sim.clear_request_log()
    preview = subs.preview(json=True)
    assert json.loads(preview.stdout)["changeSummary"] == {"same": 4}
    again = subs.up()
    assert again.summary.resource_changes == {"same": 4}
    assert subs.api_calls() == []


def test_changes_show_field_by_field_update_in_place_or_replace_without_a_duplicate(
    subs: SubscriptionStack,
) -> None:
    subs.subscriptions = {"assigned": {"event": "chatAssigned"}, "matched": MATCHED}
    first = subs.up()
    old_ids = {first.outputs["assignedId"].value, first.outputs["matchedId"].value}

    subs.subscriptions = {
        "assigned": {
            "event": "chatAssigned",
            "url": receiver_url("hooks/v2"),
            "description": "assigned chats to the CRM",
        },
        "matched": {**MATCHED, "placeholders": {"expression": 'text == "urgent"'}},
    }
    preview = subs.preview(diff=True)
    text = preview.stdout
    # A new description (no draft changes it) replaces; new conditions are drafted.
    assert f"+-{SUBSCRIPTION_TYPE}: (replace)" in text
    assert f"~ {SUBSCRIPTION_TYPE}: (update)" in text
    assert changed(text, "description", '"assigned chats to the CRM"', sign="+")
    assert re.search(r'~ url_fingerprint\s*: "\w{12}" => "\w{12}"', text)
    assert changed(text, "expression", r'"text == \"help\"" => "text == \"urgent\""')
    assert RECEIVER_SECRET not in text
    assert preview.change_summary == {"replace": 1, "update": 1, "same": 1}

    up = subs.up()
    assert up.summary.resource_changes == {"replace": 1, "update": 1, "same": 1}
    new_assigned, matched = up.outputs["assignedId"].value, up.outputs["matchedId"].value
    assert matched in old_ids  # the same scenario, a new revision
    live = subs.live()
    assert {i for i, status in live.items() if status == "active"} == {new_assigned, matched}
    # The replaced one inactivated (on_destroy), no other left behind.
    assert {i for i, status in live.items() if status == "inactive"} == old_ids - {matched}


def test_status_changes_in_place(subs: SubscriptionStack) -> None:
    subs.subscriptions = {"assigned": {"event": "chatAssigned"}}
    scenario_id = subs.up().outputs["assignedId"].value
    subs.subscriptions["assigned"]["status"] = "inactive"
    preview = subs.preview(diff=True)
    assert changed(preview.stdout, "status", '"active" => "inactive"')
    assert preview.change_summary == {"update": 1, "same": 1}
    up = subs.up()
    assert up.outputs["assignedId"].value == scenario_id
    assert up.outputs["assignedStatus"].value == "inactive"
    assert subs.live() == {scenario_id: "inactive"}


def test_refresh_shows_out_of_band_changes_and_up_repairs_them(subs: SubscriptionStack) -> None:
    subs.subscriptions = {
        "assigned": {"event": "chatAssigned"},
        "resolved": {"event": "chatResolved"},
        "pending": {"event": "chatPending"},
    }
    ids = {n: o.value for n, o in subs.up().outputs.items() if n.endswith("Id")}
    client = subs.client()
    client.inactivate(ids["assignedId"])  # paused in the Texter UI
    client.delete(ids["resolvedId"])  # deleted in the Texter UI

    def edit(scenario: dict) -> dict:
        scenario["activeRevision"]["description"] = "edited by hand"
        return scenario

    subs.sim.simulator.store.update(ids["pendingId"], edit)

    refresh = subs.refresh()
    assert refresh.summary.resource_changes == {"same": 1, "update": 2, "delete": 1}
    state = subs.state_resources()
    assert "resolved" not in state  # gone from Texter, gone from state
    assert state["assigned"]["outputs"]["live_status"] == "inactive"

    preview = subs.preview(diff=True)
    assert changed(preview.stdout, "status", '"inactive" => "active"')
    # The hand edit, by field: the reviewer sees what will be put back.
    assert re.search(r'- drifted\s*: \[\s*-\s*\[0\]: "description"', preview.stdout)
    up = subs.up()
    assert up.summary.resource_changes == {"same": 1, "update": 1, "create": 1, "replace": 1}
    live = subs.live()
    active = {i for i, s in live.items() if s == "active"}
    assert active == {up.outputs[f"{n}Id"].value for n in subs.subscriptions}
    assert ids["assignedId"] in active  # re-activated in place, not re-created


def test_destroy_inactivates_or_deletes_per_resource(subs: SubscriptionStack) -> None:
    subs.subscriptions = {
        "kept": {"event": "chatAssigned"},
        "removed": {"event": "chatResolved", "on_destroy": "delete"},
    }
    up = subs.up()
    kept, removed = up.outputs["keptId"].value, up.outputs["removedId"].value
    subs.client().inactivate(kept)  # already inactive is fine
    destroy = subs.destroy()
    assert destroy.summary.resource_changes == {"delete": 3}
    assert subs.live() == {kept: "inactive"}
    assert removed not in subs.live()


def test_adopt_brings_in_a_hand_made_subscription(subs: SubscriptionStack) -> None:
    from texter_webhooks.texter.body import BodySpec, render

    hand_made = subs.client().import_scenario(
        render(BodySpec(url=receiver_url(), event="chatAssigned"), stack="e2e")
    )
    subs.subscriptions = {"assigned": {"event": "chatAssigned", "adopt": True}}
    up = subs.up()
    # A managed copy takes its place (Texter cannot mark the hand-made one as owned).
    assert subs.live() == {up.outputs["assignedId"].value: "active", hand_made["_id"]: "inactive"}


@pytest.mark.parametrize(
    ("route", "fault", "count"),
    [
        ("import", "429", 3),
        ("import", "500", 1),
        ("import", "commit_then_drop", 1),
        ("import", "delay", 1),  # longer than the read timeout: an unknown outcome
        ("list", "500", 2),
        ("list", "reset", 2),
    ],
)
def test_up_converges_through_api_faults(subs, route: str, fault: str, count: int) -> None:
    subs.subscriptions = {"a": {"event": "chatAssigned"}, "b": {"event": "chatResolved"}}
    subs.sim.add_fault(route, fault, count=count, retry_after=1, delay_ms=1500)
    up = subs.up()
    assert up.summary.resource_changes == {"create": 3}
    ids = {up.outputs["aId"].value, up.outputs["bId"].value}
    assert set(subs.live()) == ids  # no duplicate, no orphan


def test_a_failure_half_way_leaves_consistent_state_and_the_rerun_converges(
    subs: SubscriptionStack,
) -> None:
    subs.subscriptions = {"a": {"event": "chatAssigned"}, "b": {"event": "chatResolved"}}
    subs.up()
    subs.subscriptions["c"] = {"event": "chatPending"}
    subs.sim.add_fault("import", "500", count=1_000_000)  # Texter is down for imports
    with pytest.raises(auto.CommandError, match=r"c \(chatPending\): Texter import failed"):
        subs.up()
    assert set(subs.state_resources()) == {"a", "b"}
    assert len(subs.live()) == 2

    subs.sim.clear_faults()
    up = subs.up()
    assert up.summary.resource_changes == {"create": 1, "same": 3}
    assert len(subs.live()) == 3


def test_destroy_converges_through_faults(subs: SubscriptionStack) -> None:
    subs.subscriptions = {"a": {"event": "chatAssigned"}, "b": {"event": "chatResolved"}}
    subs.up()
    subs.sim.add_fault("inactivate", "commit_then_drop", count=1)
    subs.sim.add_fault("inactivate", "500", count=1)
    destroy = subs.destroy()
    assert destroy.summary.resource_changes == {"delete": 3}
    assert set(subs.live().values()) == {"inactive"}


def test_no_secret_in_state_preview_output_or_logs(subs: SubscriptionStack) -> None:
    subs.subscriptions = {"a": {"event": "chatAssigned"}}
    outputs: list[str] = []
    subs.stack().up(show_secrets=False, on_output=outputs.append, color="never")
    subs.subscriptions["a"]["url"] = receiver_url("hooks/rotated")
    preview = subs.preview(diff=True)
    exported = subs.engine.cli("stack", "export", "--stack", "e2e").stdout
    history = subs.engine.cli("stack", "history", "--stack", "e2e", "--json").stdout
    for text in ("".join(outputs), preview.stdout, preview.stderr, exported, history):
        assert TEXTER_TOKEN not in text
        assert RECEIVER_SECRET not in text
    state = subs.state_resources()["a"]
    assert set(state["inputs"]["url"]) == {SECRET_SIG, "ciphertext"}  # encrypted in state
    assert set(state["outputs"]["body"]) == {SECRET_SIG, "ciphertext"}  # [secret] in previews


def test_bad_input_fails_at_preview_with_no_api_call(subs: SubscriptionStack) -> None:
    subs.subscriptions = {"a": {"event": "chatAsigned"}}
    with pytest.raises(auto.CommandError) as caught:
        subs.preview()
    assert "a: unknown Texter event 'chatAsigned'; did you mean chatAssigned" in str(caught.value)
    assert subs.api_calls() == []


def test_missing_credentials_fail_at_preview_with_no_api_call(
    make_project: ProjectFactory, texter_sim: SimulatorServer
) -> None:
    subs = SubscriptionStack(make_project("texter-webhooks"), texter_sim, TEXTER_TOKEN)
    subs.configure()
    subs.stack().remove_config("texter:token")
    subs.subscriptions = {"a": {"event": "chatAssigned"}}
    with pytest.raises(auto.CommandError, match=r"texter:token not set"):
        subs.preview()
    assert subs.api_calls() == []
