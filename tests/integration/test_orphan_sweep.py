"""The stack's key in markers, and the sweep of scenarios no resource holds, against the
simulator, each provider configured as a stack configures it."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.server import SimulatorServer
from tests.conftest import configured_for
from tests.integration.test_provider import checked, inputs, live
from texter_webhooks.texter import ownership
from texter_webhooks.texter.provider import TexterSubscriptionProvider
from texter_webhooks.texter.stack import OrphanSweeperProvider, StackIdentityProvider

STACK, OTHER = "a1b2c3d4e5f60718", "ffffffffffffffff"


configured = configured_for


@pytest.fixture
def subscriptions(texter_sim: SimulatorServer) -> TexterSubscriptionProvider:
    return configured(texter_sim, TexterSubscriptionProvider())


@pytest.fixture
def sweeper(texter_sim: SimulatorServer) -> OrphanSweeperProvider:
    return configured(texter_sim, OrphanSweeperProvider())


def made(provider: TexterSubscriptionProvider, name: str, stack: str | None) -> str:
    """A subscription of `stack` (None: one made before stacks had a key)."""
    props = checked(provider, inputs(resource_name=name, marker=None, stack_key=stack))
    return str(provider.create(props).id)


def sweep_props(held: list[str]) -> dict[str, Any]:
    return {"stack_key": STACK, "held": held, "orphans": None}


def test_a_create_writes_the_stack_s_key_into_its_marker(
    subscriptions: TexterSubscriptionProvider, texter_sim: SimulatorServer
) -> None:
    id_ = made(subscriptions, "a", STACK)
    [scenario] = texter_sim.scenarios()
    marker = ownership.marker_of(scenario)
    assert scenario["_id"] == id_
    assert marker is not None
    assert marker.stack_key == STACK


def test_the_sweep_retires_only_the_stack_s_scenarios_no_resource_holds(
    subscriptions: TexterSubscriptionProvider,
    sweeper: OrphanSweeperProvider,
    texter_sim: SimulatorServer,
) -> None:
    held = made(subscriptions, "a", STACK)
    orphan = made(subscriptions, "b", STACK)  # its create was never recorded
    others = made(subscriptions, "c", OTHER)  # another stack's
    older = made(subscriptions, "d", None)  # made before the stack had a key

    sweeper.create(sweep_props([held]))

    assert live(texter_sim) == {
        held: "active",
        orphan: "inactive",
        others: "active",
        older: "active",
    }


def test_refresh_reports_orphans_and_the_next_up_retires_them(
    subscriptions: TexterSubscriptionProvider,
    sweeper: OrphanSweeperProvider,
    texter_sim: SimulatorServer,
) -> None:
    held = made(subscriptions, "a", STACK)
    state = sweeper.create(sweep_props([held])).outs or {}
    late = made(subscriptions, "b", STACK)  # an import that landed after the last up

    read = sweeper.read("texter-orphans", state)
    assert read.outs is not None
    assert read.outs["orphans"] == [late]
    assert read.inputs is not None
    assert read.inputs["orphans"] == [late]  # the next preview shows it
    assert live(texter_sim)[late] == "active"  # a refresh changes nothing in Texter

    program = sweep_props([held])
    assert sweeper.diff("texter-orphans", read.outs, program).changes is True
    updated = sweeper.update("texter-orphans", read.outs, program)
    assert updated.outs is not None
    assert updated.outs["orphans"] is None
    assert live(texter_sim) == {held: "active", late: "inactive"}
    # Nothing left: a no-op `up` calls Texter no more.
    assert sweeper.diff("texter-orphans", updated.outs, program).changes is False


def test_destroy_sweeps_before_the_subscriptions_go(
    subscriptions: TexterSubscriptionProvider,
    sweeper: OrphanSweeperProvider,
    texter_sim: SimulatorServer,
) -> None:
    held = made(subscriptions, "a", STACK)
    state = sweeper.create(sweep_props([held])).outs or {}
    late = made(subscriptions, "b", STACK)
    sweeper.delete("texter-orphans", state)
    assert live(texter_sim) == {held: "active", late: "inactive"}  # held: its own delete


def test_a_stack_s_key_is_drawn_once_and_kept() -> None:
    identity = StackIdentityProvider()
    drawn = identity.check({}, {"key": None}).inputs["key"]
    assert ownership.is_key(drawn)
    assert identity.check({"key": drawn}, {"key": None}).inputs["key"] == drawn
    assert identity.check({}, {"key": None}).inputs["key"] != drawn  # another stack


def test_a_malformed_stack_key_fails_the_preview(
    subscriptions: TexterSubscriptionProvider,
) -> None:
    [failure] = subscriptions.check({}, inputs(stack_key="not-a-key")).failures
    assert failure.property == "stack_key"


def test_the_identity_goes_last_and_leaves_no_scenario_of_the_stack_active(
    subscriptions: TexterSubscriptionProvider, texter_sim: SimulatorServer
) -> None:
    identity = configured(texter_sim, StackIdentityProvider())
    state = identity.create({"key": STACK}).outs or {}
    orphan = made(subscriptions, "b", STACK)  # its create was cut short, no sweeper yet
    others = made(subscriptions, "c", OTHER)
    identity.delete("texter-stack", state)
    assert live(texter_sim) == {orphan: "inactive", others: "active"}
