"""Behaviours of the provider that single-point bugs would break unnoticed elsewhere:
each test states one, against the simulator, with the provider configured as a stack
configures it (`configure`, with texter:deadlineSeconds / texter:readTimeoutSeconds)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from simulator import revisions
from simulator.config import SimulatorConfig
from simulator.scopes import ALL_SCOPES
from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN, configured_for
from tests.integration.test_provider import URL, checked, inputs, live
from texter_webhooks.texter.body import BodySpec, render
from texter_webhooks.texter.provider import TexterProviderError, TexterSubscriptionProvider

MakeSim = Callable[..., SimulatorServer]


def configured(sim: SimulatorServer, **config: str) -> TexterSubscriptionProvider:
    """A provider process as `pulumi up` starts one, with short timeouts for tests."""
    defaults = {"texter:deadlineSeconds": "5", "texter:readTimeoutSeconds": "2"}
    return configured_for(sim, TexterSubscriptionProvider(), **(defaults | config))


@pytest.fixture
def make_sim() -> Iterator[MakeSim]:
    """Simulators under a given contract reading, stopped after the test."""
    with ExitStack() as running:

        def make(**reading: Any) -> SimulatorServer:
            config = SimulatorConfig(
                tokens={TEXTER_TOKEN: ALL_SCOPES}, log_requests=False, **reading
            )
            return running.enter_context(SimulatorServer(config))

        yield make


@pytest.fixture
def texter_sim(make_sim: MakeSim) -> SimulatorServer:
    return make_sim()  # the strict reading: a toggle to the state in effect is a 409


@pytest.fixture
def provider(texter_sim: SimulatorServer) -> TexterSubscriptionProvider:
    return configured(texter_sim)


# A Texter whose routes are not the client's: its POST .../inactivate resumes (200 when
# already active).
SWAPPED_TOGGLES: dict[str, Any] = {
    "idempotent_toggles": True,
    "route_paths": {
        "inactivate": "/scenarios/manage/{id}/pause",
        "activate": "/scenarios/manage/{id}/inactivate",
    },
}


def test_a_plain_ok_to_inactivate_is_not_done_while_the_listing_shows_it_active(
    make_sim: MakeSim,
) -> None:
    sim = make_sim(plain_ok_replies=True, **SWAPPED_TOGGLES)
    provider = configured(sim)
    created = provider.create(checked(provider, inputs()))
    with pytest.raises(TexterProviderError, match=r"answered HTTP 2xx but .* still active"):
        provider.delete(created.id, created.outs or {})
    assert live(sim) == {created.id: "active"}


def test_a_json_answer_to_inactivate_is_not_done_while_the_scenario_stays_active(
    make_sim: MakeSim,
) -> None:
    sim = make_sim(**SWAPPED_TOGGLES)  # answers with the Scenario: still active
    provider = configured(sim)
    created = provider.create(checked(provider, inputs()))
    with pytest.raises(TexterProviderError, match="still active"):
        provider.delete(created.id, created.outs or {})
    assert live(sim) == {created.id: "active"}


def test_an_unknown_import_outcome_never_takes_the_resource_s_earlier_scenario(
    provider, texter_sim: SimulatorServer
) -> None:
    news = checked(provider, inputs())
    held = provider.create(news)  # same resource key: e.g. the one `up --replace` supersedes
    texter_sim.add_fault("import", "500", count=1)  # nothing imported, the outcome unknown
    again = configured(texter_sim).create(news)
    assert again.id != held.id
    assert live(texter_sim) == {held.id: "active", again.id: "active"}


def test_adopt_never_retires_a_hand_made_scenario_whose_content_differs(
    provider, texter_sim: SimulatorServer
) -> None:
    # Same name (the default one) but another receiver.
    body = render(BodySpec(url=URL + "-elsewhere", event="chatAssigned"), stack="test")
    original = str(provider.client.import_scenario(body)["_id"])
    with pytest.raises(TexterProviderError, match=f"{original} .*: its content differs"):
        provider.create(checked(provider, inputs(adopt=True)))
    assert live(texter_sim) == {original: "active"}


def test_a_409_for_a_status_already_in_effect_is_success(
    provider, texter_sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = provider.client.import_scenario

    def imported_active_then_paused_in_the_ui(body: dict[str, Any]) -> dict[str, Any]:
        made = real_import({**body, "asStatus": "active"})  # a Texter ignoring asStatus
        texter_sim.simulator.store.update(
            made["_id"], lambda s: revisions.inactivate(s, idempotent=True)
        )
        return made  # says active: the provider's inactivate meets a 409

    monkeypatch.setattr(provider.client, "import_scenario", imported_active_then_paused_in_the_ui)
    created = provider.create(checked(provider, inputs(status="inactive")))
    assert created.outs["live_status"] == "inactive"
    assert live(texter_sim) == {created.id: "inactive"}


def test_only_active_copies_are_twins(provider, texter_sim: SimulatorServer) -> None:
    created = provider.create(checked(provider, inputs()))
    [held] = texter_sim.scenarios()
    revision = held["activeRevision"]
    texter_sim.seed({"inactiveRevisions": [{**revision, "status": "inactive"}]})
    active_copy = texter_sim.seed({"activeRevision": revision})
    read = provider.read(created.id, created.outs)
    assert read.outs["twins"] == [active_copy["_id"]]


def test_a_paused_scenario_is_judged_by_its_newest_revision(
    provider, texter_sim: SimulatorServer
) -> None:
    created = provider.create(checked(provider, inputs()))

    def paused_after_an_older_edit(scenario: dict[str, Any]) -> dict[str, Any]:
        current = {**scenario.pop("activeRevision"), "status": "inactive"}
        older = {**current, "version": 1, "description": "an older hand edit"}
        scenario["inactiveRevisions"] = [{**current, "version": 2}, older]
        return scenario

    texter_sim.simulator.store.update(created.id, paused_after_an_older_edit)
    read = provider.read(created.id, created.outs)
    assert read.outs["live_status"] == "inactive"
    assert read.outs["drifted"] is None


def test_the_stack_s_deadline_bounds_each_call(texter_sim: SimulatorServer) -> None:
    provider = configured(texter_sim, **{"texter:deadlineSeconds": "1.5"})
    created = provider.create(checked(provider, inputs()))
    texter_sim.add_fault("list", "503", count=1_000_000)  # Texter stays down
    started = time.monotonic()
    with pytest.raises(TexterProviderError, match="refresh failed: .*HTTP 503"):
        provider.read(created.id, created.outs or {})
    assert time.monotonic() - started < 15  # the default deadline is 60s


def test_the_stack_s_read_timeout_bounds_each_request(texter_sim: SimulatorServer) -> None:
    provider = configured(texter_sim, **{"texter:readTimeoutSeconds": "0.5"})
    created = provider.create(checked(provider, inputs()))
    texter_sim.add_fault("list", "delay", count=1, delay_ms=6000)
    started = time.monotonic()
    assert provider.read(created.id, created.outs or {}).id == created.id  # the retry answers
    assert time.monotonic() - started < 4  # not the 6s the first answer took


def test_a_5xx_on_delete_is_retried(provider, texter_sim: SimulatorServer) -> None:
    created = provider.create(checked(provider, inputs(on_destroy="delete")))
    texter_sim.add_fault("delete", "500", count=1)
    provider.delete(created.id, created.outs)
    assert texter_sim.scenarios() == []


def test_updates_of_one_process_share_one_listing(
    texter_sim: SimulatorServer, provider: TexterSubscriptionProvider
) -> None:
    made = [
        provider.create(checked(provider, inputs(resource_name=f"s{i}", marker=f"{i:016x}")))
        for i in range(3)
    ]
    updater = configured(texter_sim)  # the next `up`: a new provider process
    texter_sim.clear_request_log()
    for created in made:
        olds = created.outs or {}
        news = checked(updater, {**olds, "url": URL + "-moved"}, olds)
        updater.update(created.id, olds, news)
    routes = [entry["route"] for entry in texter_sim.request_log()]
    assert routes.count("list") == 1
    assert routes.count("activate") == 3  # each one updated all the same


def test_an_update_from_a_listing_a_hand_outdated_still_converges(
    texter_sim: SimulatorServer, provider: TexterSubscriptionProvider
) -> None:
    created = provider.create(checked(provider, inputs()))
    updater = configured(texter_sim)
    updater.run_start_listing.scenarios()  # listed at the start of the run...

    def add_an_action(scenario: dict[str, Any]) -> dict[str, Any]:
        actions = scenario["activeRevision"]["actions"]
        actions.append({**actions[0], "params": {**actions[0]["params"], "url": URL + "-x"}})
        return scenario

    texter_sim.simulator.store.update(created.id, add_an_action)  # ...then edited by hand
    olds = created.outs or {}
    news = checked(updater, {**olds, "url": URL + "-moved"}, olds)
    updater.update(created.id, olds, news)
    [scenario] = texter_sim.scenarios()
    urls = [a["params"]["url"] for a in scenario["activeRevision"]["actions"]]
    assert urls == [URL + "-moved"]
