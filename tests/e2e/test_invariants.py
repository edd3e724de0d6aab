"""The subscription lifecycle's invariants, through the real CLI against the simulator.

Every `pulumi` operation here is its own CLI run with its own dynamic-provider process, as
people and CI run them: nothing one operation keeps in memory reaches the next.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from pulumi import automation as auto

from simulator.config import SimulatorConfig
from simulator.scopes import ALL_SCOPES
from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN, ProjectFactory
from texter_webhooks.texter import ownership
from texter_webhooks.texter.body import BodySpec, render
from texter_webhooks.texter.scenario import scenario_status
from tooling.engine import Engine
from tooling.sandbox import RECEIVER_SECRET, SubscriptionStack, receiver_url

pytestmark = pytest.mark.e2e

ASSIGNED = {"event": "chatAssigned"}


def stack(engine: Engine, sim: SimulatorServer, name: str = "e2e") -> SubscriptionStack:
    subs = SubscriptionStack(engine, sim, TEXTER_TOKEN, name=name)
    subs.configure()
    return subs


@pytest.fixture
def subs(make_project: ProjectFactory, texter_sim: SimulatorServer) -> SubscriptionStack:
    return stack(make_project("texter-webhooks"), texter_sim)


def hand_made(subs: SubscriptionStack, event: str) -> str:
    """A scenario made in the Texter UI from the catalog's template: no marker."""
    body = render(BodySpec(url=receiver_url(), event=event), stack=subs.name)
    return str(subs.client().import_scenario(body)["_id"])


def active_with_marker_of(subs: SubscriptionStack, resource: str) -> list[str]:
    """Active scenarios carrying the marker of `resource` (its resource key)."""
    key = subs.state_resources()[resource]["inputs"]["marker"]
    return sorted(
        s["_id"]
        for s in subs.sim.scenarios()
        if scenario_status(s) == "active"
        and (m := ownership.marker_of(s)) is not None
        and m.resource == key
    )


def held(subs: SubscriptionStack) -> dict[str, str]:
    return {name: r["outputs"]["subscription_id"] for name, r in subs.state_resources().items()}


# --- I1 -----------------------------------------------------------------------------------


def test_i1_a_pending_delete_never_retires_what_a_resource_holds(subs: SubscriptionStack) -> None:
    subs.subscriptions = {"a": ASSIGNED}
    subs.up()
    # `up --replace a` in a run where another create fails after a's replacement: the
    # engine keeps the old `a` as a pending delete for the next run.
    first, second = hand_made(subs, "chatPending"), hand_made(subs, "chatPending")
    subs.subscriptions = {
        "a": ASSIGNED,
        "c": {"event": "chatPending", "adopt": True, "after": ["a"]},
    }
    with pytest.raises(auto.CommandError, match=r"found 2 scenarios named"):
        subs.up(replace=[subs.urn("a")])

    subs.sim.clear_request_log()
    subs.subscriptions = {"a": ASSIGNED}
    subs.up()  # a new process: the pending delete runs now
    holding = held(subs)["a"]
    assert subs.live()[holding] == "active"
    assert active_with_marker_of(subs, "a") == [holding]
    assert {first, second} <= set(subs.live())  # the hand-made ones are not ours


def test_i1_a_forced_replacement_makes_its_own_scenario(subs: SubscriptionStack) -> None:
    subs.subscriptions = {"a": {**ASSIGNED, "on_destroy": "delete"}}
    subs.up()
    old = held(subs)["a"]
    subs.up(replace=[subs.urn("a")])
    new = held(subs)["a"]
    assert new != old
    assert subs.live() == {new: "active"}  # the old one deleted, per on_destroy


# --- I2 -----------------------------------------------------------------------------------


def test_i2_a_late_import_is_reported_by_refresh_and_retired_by_up(subs: SubscriptionStack) -> None:
    # The import answers after the read timeout (1 s) and the grace period (6 s): the
    # create imports again, and the first one lands later still.
    subs.sim.add_fault("import", "delay", count=1, delay_ms=9000)
    subs.subscriptions = {"a": ASSIGNED}
    subs.up()
    deadline = time.monotonic() + 15
    while len(active_with_marker_of(subs, "a")) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    twins = [i for i in active_with_marker_of(subs, "a") if i != held(subs)["a"]]
    assert len(twins) == 1

    refresh = subs.refresh()
    assert refresh.summary.resource_changes == {"same": 1, "update": 1}
    assert subs.state_resources()["a"]["outputs"]["twins"] == twins
    preview = subs.preview(diff=True)
    assert twins[0] in preview.stdout  # the reviewer sees which scenario goes

    subs.up()
    assert active_with_marker_of(subs, "a") == [held(subs)["a"]]
    assert subs.state_resources()["a"]["outputs"].get("twins") is None


def test_i2_destroy_retires_hand_copies_and_twins(subs: SubscriptionStack) -> None:
    subs.subscriptions = {"a": ASSIGNED, "b": {"event": "chatResolved", "on_destroy": "delete"}}
    subs.up()
    ids = held(subs)
    copies = [copy_in_ui(subs, ids["a"]), copy_in_ui(subs, ids["b"])]
    assert set(copies) <= set(active_with_marker_of(subs, "a") + active_with_marker_of(subs, "b"))

    subs.destroy()
    assert "active" not in {subs.live()[i] for i in copies}
    assert all(s != "active" for s in subs.live().values())


def copy_in_ui(subs: SubscriptionStack, scenario_id: str) -> str:
    """A copy made with Texter's copy action (keeps the description, so the marker), then
    activated by hand."""
    [scenario] = [s for s in subs.sim.scenarios() if s["_id"] == scenario_id]
    version = scenario["activeRevision"]["version"]
    answer = requests.post(
        f"{subs.sim.base_url}/scenarios/manage/{scenario_id}/copy",
        json={"fromVersion": version, "newName": "copy of a managed one"},
        headers=subs.sim.auth_headers(TEXTER_TOKEN),
        timeout=5,
    )
    answer.raise_for_status()
    copy_id = str(answer.json()["_id"])
    subs.client().activate(copy_id)
    return copy_id


# --- I3 -----------------------------------------------------------------------------------


def test_i3_attribution_and_a_new_hash_derivation_replace_nothing(subs: SubscriptionStack) -> None:
    subs.subscriptions = {"a": ASSIGNED}
    subs.up()
    scenario = held(subs)["a"]

    subs.subscriptions = {"a": {**ASSIGNED, "author_uid": "agent-7"}}
    preview = subs.preview(json=True)
    assert json.loads(preview.stdout)["changeSummary"] == {"same": 1, "update": 1}
    subs.sim.clear_request_log()
    subs.up()
    assert subs.api_calls() == []
    assert held(subs)["a"] == scenario

    # State written by a release that derived the content hash differently.
    rewrite_state(subs, "a", body_hash="0" * 64)
    preview = subs.preview(json=True)
    assert json.loads(preview.stdout)["changeSummary"] == {"same": 2}
    assert subs.api_calls() == []


def rewrite_state(subs: SubscriptionStack, resource: str, **fields: Any) -> None:
    exported = json.loads(subs.engine.cli("stack", "export", "--stack", subs.name).stdout)
    for entry in exported["deployment"]["resources"]:
        if entry["urn"].endswith(f"::{resource}"):
            entry["inputs"].update(fields)
            entry["outputs"].update(fields)
    state = subs.engine.work_dir / "rewritten.json"
    state.write_text(json.dumps(exported))
    subs.engine.cli("stack", "import", "--stack", subs.name, "--file", str(state))


# --- I5 -----------------------------------------------------------------------------------


def test_i5_two_stacks_adopting_one_hand_made_scenario_never_share_it(
    make_project: ProjectFactory, texter_sim: SimulatorServer
) -> None:
    engine = make_project("texter-webhooks")
    dev, prod = stack(engine, texter_sim, "dev"), stack(engine, texter_sim, "prod")
    original = hand_made(dev, "chatAssigned")
    for env in (dev, prod):
        env.subscriptions = {
            "a": {**ASSIGNED, "adopt": True, "display_name": "(SUB) Chat Assigned [dev]"}
        }
        env.up()
    dev_id, prod_id = held(dev)["a"], held(prod)["a"]
    assert len({original, dev_id, prod_id}) == 3

    dev.destroy()
    live = dev.live()
    assert live[prod_id] == "active"  # prod's subscription keeps running
    assert live[dev_id] == "inactive"


# --- I6 -----------------------------------------------------------------------------------


def list_calls_of_a_refresh_during_an_outage(subs: SubscriptionStack, count: int) -> int:
    subs.subscriptions = {f"s{i}": ASSIGNED for i in range(count)}
    subs.up()
    # A 429 with Retry-After waits a fixed second per retry, so one listing makes the same
    # number of attempts in every run (a 503's random backoff does not: 4 in one run, 7 in
    # the next, which says nothing about how many listings were made).
    subs.sim.add_fault("list", "429", count=1_000_000, retry_after=1)
    subs.sim.clear_request_log()
    with pytest.raises(auto.CommandError, match="refresh failed"):
        subs.refresh()
    subs.sim.clear_faults()
    return sum(1 for r in subs.api_calls() if r["route"] == "list")


def test_i6_a_failing_listing_fails_every_waiting_resource_at_once(
    make_project: ProjectFactory, texter_sim: SimulatorServer
) -> None:
    engine = make_project("texter-webhooks")
    one = list_calls_of_a_refresh_during_an_outage(stack(engine, texter_sim, "one"), 1)
    many = list_calls_of_a_refresh_during_an_outage(stack(engine, texter_sim, "many"), 19)
    # One retry deadline's worth of listing for 19 resources, as for one, not 19 of them.
    assert one >= 2
    assert many == one


# --- I7 -----------------------------------------------------------------------------------


def test_i7_a_plain_string_url_is_secret_in_state_preview_and_errors(
    subs: SubscriptionStack,
) -> None:
    subs.subscriptions = {"a": {**ASSIGNED, "plain_url": True}}
    outputs: list[str] = []
    subs.stack().up(show_secrets=False, on_output=outputs.append, color="never")
    subs.subscriptions = {"a": {**ASSIGNED, "plain_url": True, "url": receiver_url("hooks/new")}}
    preview = subs.preview(diff=True)
    # A new URL is drafted in place: the draft write fails, and says so.
    subs.sim.add_fault("update_draft", "500", count=1_000_000)
    with pytest.raises(auto.CommandError, match="update failed") as failed:
        subs.up()
    exported = subs.engine.cli("stack", "export", "--stack", subs.name).stdout
    for text in ("".join(outputs), preview.stdout, exported, str(failed.value)):
        assert RECEIVER_SECRET not in text
    assert "[secret]" in preview.stdout


# --- credentials ----------------------------------------------------------------------------


def test_a_401_on_refresh_explains_the_recorded_credentials_and_up_moves_on(
    make_project: ProjectFactory,
) -> None:
    rotated = "tt_" + "rotated0123456789abcd"
    tokens = {TEXTER_TOKEN: ALL_SCOPES, rotated: ALL_SCOPES}
    with SimulatorServer(SimulatorConfig(tokens=tokens, log_requests=False)) as sim:
        subs = stack(make_project("texter-webhooks"), sim)
        subs.subscriptions = {"a": ASSIGNED}
        subs.up()
        # The old token is revoked in Texter and the new one set in the stack's config.
        del tokens[TEXTER_TOKEN]
        subs.stack().set_config("texter:token", auto.ConfigValue(rotated, secret=True))

        with pytest.raises(auto.CommandError) as refused:
            subs.refresh()
        message = str(refused.value)
        assert "HTTP 401" in message
        assert "credentials recorded at the last `pulumi up`" in message
        assert "run `pulumi up` first" in message
        assert rotated not in message
        assert TEXTER_TOKEN not in message

        subs.up()  # records the rotated token
        assert subs.refresh().summary.result == "succeeded"
