"""Ownership is unique to a resource of a stack: the same stack name on two backends, and
one resource name under two components, never touch each other's subscriptions. Each
`pulumi` operation is its own CLI run, as people and CI run them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN
from texter_webhooks.texter import TexterSubscription, TexterSubscriptionArgs, ownership
from texter_webhooks.texter.scenario import scenario_status
from tooling.sandbox import SubscriptionStack, receiver_url, throwaway_engine

pytestmark = pytest.mark.e2e

EVENTS = {"a": {"event": "chatAssigned"}, "b": {"event": "chatResolved"}}


def dev_stack(root: Path, sim: SimulatorServer) -> SubscriptionStack:
    subs = SubscriptionStack(throwaway_engine(root), sim, TEXTER_TOKEN, name="dev")
    subs.configure()
    subs.subscriptions = dict(EVENTS)
    return subs


def held(subs: SubscriptionStack) -> set[str]:
    return {r["outputs"]["subscription_id"] for r in subs.state_resources().values()}


def active(sim: SimulatorServer) -> set[str]:
    return {s["_id"] for s in sim.scenarios() if scenario_status(s) == "active"}


def no_changes(subs: SubscriptionStack) -> bool:
    summary = json.loads(subs.preview(json=True).stdout)["changeSummary"]
    return set(summary) == {"same"}


def test_one_stack_name_on_two_backends_keeps_each_ones_subscriptions(
    tmp_path: Path, engine_bin: Path, texter_sim: SimulatorServer
) -> None:
    laptop = dev_stack(tmp_path / "laptop", texter_sim)
    ci = dev_stack(tmp_path / "ci", texter_sim)
    laptop.up()
    ci.up()
    assert held(laptop).isdisjoint(held(ci))
    assert active(texter_sim) == held(laptop) | held(ci)

    ci.up(replace=[ci.urn("a")])  # a replacement retires only ci's own `a`
    assert active(texter_sim) == held(laptop) | held(ci)
    laptop.refresh()
    assert no_changes(laptop)
    assert active(texter_sim) == held(laptop) | held(ci)

    ci.destroy()
    assert active(texter_sim) == held(laptop)


class Team(pulumi.ComponentResource):
    """Two component types (the URN names the parent's type, not its name)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"e2e:index:{name.title()}Team", name)
        self.assigned = TexterSubscription(
            "chatAssigned",  # the same name in every team: Pulumi allows it under a parent
            TexterSubscriptionArgs(
                url=pulumi.Output.secret(receiver_url(f"hooks/{name}")),
                event="chatAssigned",
                display_name=f"(SUB) {name} chat assigned",
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


def teams() -> None:
    for name in ("sales", "support"):
        pulumi.export(name, Team(name).assigned.subscription_id)


def test_one_resource_name_under_two_components_is_two_owners(
    tmp_path: Path, engine_bin: Path, texter_sim: SimulatorServer
) -> None:
    subs = dev_stack(tmp_path / "teams", texter_sim)
    stack = subs.engine.stack("dev", teams)
    stack.preview(color="never")
    first = stack.up(color="never").outputs
    assert active(texter_sim) == {first["sales"].value, first["support"].value}

    sales = next(
        urn for urn in _urns(subs) if "SalesTeam$" in urn and urn.endswith("::chatAssigned")
    )
    stack.preview(color="never", replace=[sales])
    again = stack.up(color="never", replace=[sales]).outputs
    assert again["support"].value == first["support"].value
    assert again["sales"].value != first["sales"].value
    assert active(texter_sim) == {again["sales"].value, again["support"].value}


def _entries(subs: SubscriptionStack) -> dict[str, bool]:
    """Every subscription entry in state: scenario id -> whether it is a pending delete."""
    exported = json.loads(subs.engine.cli("stack", "export", "--stack", subs.name).stdout)
    return {
        r["outputs"]["subscription_id"]: bool(r.get("delete"))
        for r in exported["deployment"]["resources"]
        if "subscription_id" in r.get("outputs", {})
    }


def _urns(subs: SubscriptionStack) -> list[str]:
    exported = json.loads(subs.engine.cli("stack", "export", "--stack", "dev").stdout)
    return [r["urn"] for r in exported["deployment"]["resources"]]


def test_a_stack_of_an_older_release_moves_to_its_own_keys_in_one_up(
    tmp_path: Path, engine_bin: Path, texter_sim: SimulatorServer
) -> None:
    subs = dev_stack(tmp_path / "old", texter_sim)
    subs.up()
    ids = held(subs)
    _as_an_older_release_left_it(subs)
    refresh = subs.refresh()  # the older record reads as it is
    assert refresh.summary.resource_changes == {"same": 3}

    texter_sim.clear_request_log()
    preview = subs.preview(diff=True)
    assert preview.change_summary == {"update": 2, "same": 1}
    assert "~ marker" in preview.stdout
    subs.up(preview_first=False)
    assert subs.api_calls() == []  # recorded in state, nothing replaced
    assert held(subs) == ids
    keys = {r["inputs"]["marker"] for r in subs.state_resources().values()}
    assert len(keys) == 2
    assert "0123456789abcdef" not in keys
    assert no_changes(subs)
    subs.destroy()
    assert active(texter_sim) == set()


def test_a_replacement_retires_the_old_scenario_only_once_the_new_one_is_recorded(
    tmp_path: Path, engine_bin: Path, texter_sim: SimulatorServer
) -> None:
    subs = dev_stack(tmp_path / "replace", texter_sim)
    subs.subscriptions = {"a": {"event": "chatAssigned"}}
    subs.up()
    [old] = held(subs)
    # Every inactivate fails: the new scenario is made and recorded, the old one's
    # delete fails and stays pending, nothing is doubled for good.
    texter_sim.add_fault("inactivate", "500", count=1_000_000)
    # A new description: no draft can change it, so a new scenario replaces the old.
    subs.subscriptions = {"a": {"event": "chatAssigned", "description": "to the CRM"}}
    with pytest.raises(auto.CommandError, match="inactivate"):
        subs.up()
    recorded = _entries(subs)
    assert sorted(recorded.values()) == [False, True]  # the new one, the old pending delete
    [new] = [i for i, pending in recorded.items() if not pending]
    assert recorded[old] is True
    texter_sim.clear_faults()
    subs.up()
    assert active(texter_sim) == {new}
    subs.destroy()
    assert active(texter_sim) == set()


def test_retain_on_delete_keeps_the_scenario_a_replacement_supersedes(
    tmp_path: Path, engine_bin: Path, texter_sim: SimulatorServer
) -> None:
    subs = dev_stack(tmp_path / "retain", texter_sim)
    subs.subscriptions = {"a": {"event": "chatAssigned", "retain_on_delete": True}}
    subs.up()
    [old] = held(subs)
    subs.subscriptions["a"]["description"] = "to the CRM"  # replaces
    subs.up()
    [new] = held(subs)
    assert active(texter_sim) == {old, new}  # retained: still Texter's, no longer ours


def _as_an_older_release_left_it(subs: SubscriptionStack) -> None:
    """State and scenarios as releases before 0.3 wrote them: a key derived from
    project/stack/name (here a fixed one for all), no `marker_origin`."""
    legacy = "0123456789abcdef"
    exported = json.loads(subs.engine.cli("stack", "export", "--stack", subs.name).stdout)
    for entry in exported["deployment"]["resources"]:
        if "subscription_id" not in entry.get("outputs", {}):
            continue
        old_key = entry["inputs"]["marker"]
        for props in (entry["inputs"], entry["outputs"]):
            props["marker"] = legacy
            props.pop("marker_origin", None)

        def rekey(scenario: dict[str, Any], old_key: str = old_key) -> dict[str, Any]:
            revision = scenario["activeRevision"]
            revision["description"] = revision["description"].replace(old_key, legacy)
            return scenario

        subs.sim.simulator.store.update(entry["outputs"]["subscription_id"], rekey)
        [scenario] = [
            s for s in subs.sim.scenarios() if s["_id"] == entry["outputs"]["subscription_id"]
        ]
        marker = ownership.marker_of(scenario)
        assert marker is not None
        assert marker.resource == legacy
    state = subs.engine.work_dir / "legacy.json"
    state.write_text(json.dumps(exported))
    subs.engine.cli("stack", "import", "--stack", subs.name, "--file", str(state))
