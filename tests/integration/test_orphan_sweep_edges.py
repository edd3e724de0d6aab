"""The orphan sweep leaves inactive scenarios alone: a paused scenario of the stack that no
resource holds is not running, so refresh does not report it and `up` does not touch it."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.server import SimulatorServer
from tests.integration.test_orphan_sweep import STACK, configured, made, sweep_props
from tests.integration.test_provider import checked, inputs, live
from texter_webhooks.texter.provider import TexterProviderError, TexterSubscriptionProvider
from texter_webhooks.texter.stack import OrphanSweeperProvider


def test_a_paused_scenario_no_resource_holds_is_no_orphan(texter_sim: SimulatorServer) -> None:
    subscriptions = configured(texter_sim, TexterSubscriptionProvider())
    sweeper = configured(texter_sim, OrphanSweeperProvider())
    held = made(subscriptions, "a", STACK)
    paused_props = checked(
        subscriptions, inputs(resource_name="b", marker=None, stack_key=STACK, status="inactive")
    )
    paused = str(subscriptions.create(paused_props).id)
    state = sweeper.create(sweep_props([held])).outs or {}
    texter_sim.clear_request_log()

    read = configured(texter_sim, OrphanSweeperProvider()).read("texter-orphans", state)

    assert read.outs is not None
    assert read.outs["orphans"] is None
    program = sweep_props([held])
    assert sweeper.diff("texter-orphans", read.outs, program).changes is False
    sweeper.update("texter-orphans", read.outs, program)
    routes = [entry["route"] for entry in texter_sim.request_log()]
    assert "inactivate" not in routes
    assert live(texter_sim) == {held: "active", paused: "inactive"}


def test_a_malformed_stack_key_fails_the_sweeper_s_preview(texter_sim: SimulatorServer) -> None:
    sweeper = configured(texter_sim, OrphanSweeperProvider())
    props: dict[str, Any] = {"stack_key": "not-a-key", "held": [], "orphans": None}
    [failure] = sweeper.check({}, props).failures
    assert failure.property == "stack_key"
    assert texter_sim.request_log() == []


def test_a_sweep_that_cannot_list_fails_the_up(texter_sim: SimulatorServer) -> None:
    subscriptions = configured(texter_sim, TexterSubscriptionProvider())
    orphan = made(subscriptions, "b", STACK)
    sweeper = configured(texter_sim, OrphanSweeperProvider(), **{"texter:deadlineSeconds": "1"})
    texter_sim.add_fault("list", "503", count=1_000_000)  # Texter stays down

    with pytest.raises(TexterProviderError, match="sweep failed: .*HTTP 503"):
        sweeper.create(sweep_props([]))

    assert live(texter_sim) == {orphan: "active"}  # not swept, and the up says so


def test_the_up_after_an_interrupted_one_retires_the_import_that_landed(
    texter_sim: SimulatorServer,
) -> None:
    subscriptions = configured(texter_sim, TexterSubscriptionProvider())
    sweeper = configured(texter_sim, OrphanSweeperProvider())
    held = made(subscriptions, "a", STACK)
    state = sweeper.create(sweep_props([held])).outs or {}
    landed = made(subscriptions, "b", STACK)  # b's create was killed before it was recorded
    again = made(subscriptions, "b", STACK)  # the next up creates b again: held grows

    program = sweep_props([held, again])
    assert sweeper.diff("texter-orphans", state, program).changes is True
    sweeper.update("texter-orphans", state, program)

    assert live(texter_sim) == {held: "active", landed: "inactive", again: "active"}
