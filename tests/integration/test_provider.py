"""The subscription provider's methods against the simulator (the e2e tests drive the
same provider through the CLI; these pin the behaviour of each method on its own)."""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterator
from typing import Any

import dill
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.runtime import rpc

from simulator.config import SimulatorConfig
from simulator.scopes import ALL_SCOPES
from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN, configured_for
from texter_webhooks.texter import errors, ownership
from texter_webhooks.texter.provider import TexterProviderError, TexterSubscriptionProvider

URL = "http://127.0.0.1:9/hooks/receiver-secret"


def configured(sim: SimulatorServer) -> TexterSubscriptionProvider:
    """A provider configured as a stack configures it, with a short deadline for tests."""
    return configured_for(sim, TexterSubscriptionProvider(), **{"texter:deadlineSeconds": "3"})


def inputs(**overrides: Any) -> dict[str, Any]:
    props = {
        "resource_name": "chatAssigned",
        "stack": "test",
        "marker": "0123456789abcdef",
        "event": "chatAssigned",
        "template": None,
        "url": URL,
        "display_name": None,
        "description": None,
        "placeholders": None,
        "status": "active",
        "on_destroy": "inactivate",
        "author_uid": None,
        "adopt": False,
    }
    props.update(overrides)
    return props


def edit_in_ui(sim: SimulatorServer, scenario_id: str, **revision: Any) -> None:
    """What a person editing the scenario in Texter's UI leaves behind."""

    def change(scenario: dict[str, Any]) -> dict[str, Any]:
        scenario["activeRevision"].update(revision)
        return scenario

    sim.simulator.store.update(scenario_id, change)


def checked(
    provider: TexterSubscriptionProvider,
    props: dict[str, Any],
    olds: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`props` as check returns them; `olds`: the state's inputs, as the engine passes
    them for an existing resource (a new one gets a new ownership key)."""
    result = provider.check(olds or {}, props)
    assert result.failures == []
    return result.inputs


# The contract's readings the simulator offers where Texter's docs are silent or vary:
# the provider must work under each (docs/texter-api.md §1, §3; simulator/README.md).
READINGS: dict[str, dict[str, Any]] = {
    "strict": {},
    "lenient": {
        "lenient_import": True,
        "lenient_query": True,
        "idempotent_toggles": True,
        "malformed_id_status": 404,
    },
    "plain-ok": {"plain_ok_replies": True},
}


@pytest.fixture(params=list(READINGS))
def texter_sim(request: pytest.FixtureRequest) -> Iterator[SimulatorServer]:
    """This module's simulator, once per contract reading."""
    reading = READINGS[request.param]
    config = SimulatorConfig(tokens={TEXTER_TOKEN: ALL_SCOPES}, log_requests=False, **reading)
    with SimulatorServer(config) as sim:
        yield sim


@pytest.fixture
def provider(texter_sim: SimulatorServer) -> TexterSubscriptionProvider:
    return configured(texter_sim)


def test_create_read_update_delete(provider, texter_sim: SimulatorServer) -> None:
    news = checked(provider, inputs())
    created = provider.create(news)
    [scenario] = texter_sim.scenarios()
    assert created.id == scenario["_id"]
    assert created.outs["live_status"] == "active"
    assert created.outs["body_hash"] == news["body_hash"]
    # The live body is there, its request URL masked.
    [action] = created.outs["body"]["data"]["actions"]
    assert action["params"]["url"] == "http://127.0.0.1:9/***"

    read = provider.read(created.id, created.outs)
    assert read.id == created.id
    assert read.inputs["status"] == "active"
    assert read.inputs["body_hash"] == news["body_hash"]

    updated = provider.update(created.id, created.outs, {**news, "status": "inactive"})
    assert updated.outs["live_status"] == "inactive"
    assert updated.outs["subscription_id"] == created.id  # every output kept
    assert texter_sim.scenarios()[0].get("activeRevision") is None

    provider.delete(created.id, updated.outs)  # already inactive: success
    provider.delete(created.id, {**updated.outs, "on_destroy": "delete"})
    assert texter_sim.scenarios() == []
    provider.delete(created.id, {**updated.outs, "on_destroy": "delete"})  # gone: success


def test_check_makes_no_api_call_and_accepts_an_unknown_url(provider, texter_sim) -> None:
    result = provider.check({}, inputs(url=rpc.UNKNOWN))
    assert result.failures == []
    assert result.inputs["body_hash"] == rpc.UNKNOWN
    assert texter_sim.request_log() == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"event": "chatAsigned"}, "event", "chatAssigned: unknown Texter event.*did you mean"),
        ({"event": "newMatchedMessage"}, "placeholders", "without a value: word1, word2"),
        ({"url": "ftp://x/hooks/secret"}, "url", "absolute http"),
        ({"status": "paused"}, "status", "status must be active or inactive"),
        ({"on_destroy": "keep"}, "on_destroy", "on_destroy must be inactivate or delete"),
    ],
)
def test_check_names_the_resource_and_field(provider, texter_sim, overrides, field, message):
    result = provider.check({}, inputs(**overrides))
    [failure] = result.failures
    assert failure.property == field
    assert re.search(message, failure.reason)
    assert "secret" not in failure.reason
    assert texter_sim.request_log() == []


def test_check_reports_missing_credentials_before_any_call() -> None:
    provider = TexterSubscriptionProvider()
    provider.configure(ConfigureRequest(Config({}, "texter-webhooks")))
    [failure] = provider.check({}, inputs()).failures
    assert "texter:baseUrl and texter:token not set" in failure.reason


def test_diff_is_field_level_and_ignores_the_provider_and_key_order(provider) -> None:
    olds = checked(provider, inputs())
    same = {**olds, "__provider": "other-pickled-bytes"}
    assert provider.diff("id", olds, same).changes is False
    matched = {"event": "newMatchedMessage"}
    reordered = checked(provider, inputs(**matched, placeholders={"word2": "b", "word1": "a"}))
    in_order = checked(
        provider, inputs(**matched, placeholders={"word1": "a", "word2": "b"}), reordered
    )
    assert provider.diff("id", reordered, in_order).changes is False

    status = provider.diff("id", olds, {**olds, "status": "inactive"})
    assert (status.changes, status.replaces) == (True, [])
    url = provider.diff("id", olds, checked(provider, inputs(url=URL + "-2"), olds))
    assert (url.changes, url.replaces) == (True, [])  # a new revision, in place
    described = checked(provider, inputs(description="to the CRM"), olds)
    description = provider.diff("id", olds, described)
    assert (description.changes, description.replaces) == (True, ["description"])
    # No draft changes a description: the new scenario is live before the old goes.
    assert description.delete_before_replace is False
    on_destroy = provider.diff("id", olds, {**olds, "on_destroy": "delete"})
    assert (on_destroy.changes, on_destroy.replaces) == (True, [])


def test_read_of_a_deleted_scenario_drops_it(provider, texter_sim) -> None:
    created = provider.create(checked(provider, inputs()))
    texter_sim.simulator.store.delete(created.id)
    assert provider.read(created.id, created.outs).id is None


def test_read_shows_ui_edits_as_drift(provider, texter_sim) -> None:
    created = provider.create(checked(provider, inputs()))
    edit_in_ui(texter_sim, created.id, description="edited by hand")
    read = provider.read(created.id, created.outs)
    assert read.inputs["body_hash"] != created.outs["body_hash"]
    assert read.outs["drifted"] == ["description"]  # which field, not only a hash
    assert read.inputs["drifted"] == ["description"]  # the next preview names it
    # The engine diffs the next up against the state's outputs. No draft changes a
    # description back: a new scenario.
    diff = provider.diff(created.id, read.outs, checked(provider, inputs(), read.inputs))
    assert diff.replaces == ["body_hash"]


def test_a_url_edited_in_the_ui_shows_as_its_fingerprint(provider, texter_sim) -> None:
    news = checked(provider, inputs())
    created = provider.create(news)

    def elsewhere(scenario: dict[str, Any]) -> dict[str, Any]:
        for action in scenario["activeRevision"]["actions"]:
            if action.get("name") == "request":
                action["params"]["url"] = "https://elsewhere.example/hooks/x"
        return scenario

    texter_sim.simulator.store.update(created.id, elsewhere)
    read = provider.read(created.id, created.outs)
    assert read.outs["drifted"] == ["actions"]
    # The first 12 hex of the new URL's SHA-256.
    assert read.inputs["url_fingerprint"] == "2ac1a68035f4"
    [action] = read.outs["body"]["data"]["actions"]
    assert action["params"]["url"] == "https://elsewhere.example/***"  # the path masked
    # Put back in place: a new revision of the same scenario.
    diff = provider.diff(created.id, read.outs, checked(provider, inputs(), read.inputs))
    assert (diff.changes, diff.replaces) == (True, [])


def test_a_new_hash_derivation_or_attribution_replaces_nothing(provider, texter_sim) -> None:
    created = provider.create(checked(provider, inputs()))
    # State written by a release that hashed differently: same content, other digest.
    old_release = {**created.outs, "body_hash": "0" * 64}
    news = checked(provider, inputs(), created.outs)
    assert provider.diff(created.id, old_release, news).changes is False
    with_author = checked(provider, inputs(author_uid="u1"), created.outs)
    author = provider.diff(created.id, created.outs, with_author)
    assert (author.changes, author.replaces) == (True, [])
    texter_sim.clear_request_log()
    provider.update(created.id, created.outs, with_author)
    assert texter_sim.request_log() == []  # attribution is state only


@pytest.mark.parametrize("fault", ["500", "commit_then_drop"])
def test_create_after_an_unknown_outcome_makes_exactly_one(provider, texter_sim, fault) -> None:
    texter_sim.add_fault("import", fault, count=1)
    created = provider.create(checked(provider, inputs()))
    assert [s["_id"] for s in texter_sim.scenarios()] == [created.id]


def live(texter_sim: SimulatorServer) -> dict[str, str]:
    return {
        s["_id"]: "active" if s.get("activeRevision") else "inactive"
        for s in texter_sim.scenarios()
    }


def test_a_create_never_retires_a_scenario_a_state_entry_may_hold(provider, texter_sim) -> None:
    news = checked(provider, inputs())
    held = provider.create(news)  # e.g. the resource a replacement supersedes
    texter_sim.clear_request_log()
    again = configured(texter_sim).create(news)  # a later run, a fresh provider process
    assert [r["route"] for r in texter_sim.request_log()] == ["import"]  # no listing needed
    assert again.id != held.id
    # The engine's delete of the old entry retires it, once the new one is recorded.
    assert live(texter_sim) == {again.id: "active", held.id: "active"}


def hand_made_scenario(provider: TexterSubscriptionProvider) -> str:
    from texter_webhooks.texter.body import BodySpec, render

    body = render(BodySpec(url=URL, event="chatAssigned"), stack="test")
    return str(provider.client.import_scenario(body)["_id"])


def test_a_create_failing_after_its_import_deletes_it_and_names_it(provider, texter_sim) -> None:
    original = hand_made_scenario(provider)
    texter_sim.add_fault("inactivate", "500", count=1_000_000)  # adopting fails half-way
    with pytest.raises(TexterProviderError) as failed:
        provider.create(checked(provider, inputs(adopt=True)))
    assert live(texter_sim) == {original: "active"}  # nothing no state entry holds
    assert re.search(r"the scenario it imported, [0-9a-f]{24}, was deleted", str(failed.value))


def test_an_import_that_cannot_be_undone_is_named_for_the_user(provider, texter_sim) -> None:
    original = hand_made_scenario(provider)
    texter_sim.add_fault("inactivate", "500", count=1_000_000)
    texter_sim.add_fault("delete", "500", count=1_000_000)
    with pytest.raises(TexterProviderError) as failed:
        provider.create(checked(provider, inputs(adopt=True)))
    [left] = set(live(texter_sim)) - {original}
    assert f"the scenario it imported, {left}, could not be deleted" in str(failed.value)


def test_adopt_that_finds_only_a_near_match_fails_naming_it_and_creates_nothing(
    provider, texter_sim
) -> None:
    from texter_webhooks.texter.body import BodySpec, render

    # The usual migration: made by hand from the template, without the ` [stack]` suffix.
    body = render(
        BodySpec(url=URL, event="chatAssigned", display_name="(SUB) Chat Assigned"), stack="test"
    )
    original = str(provider.client.import_scenario(body)["_id"])
    with pytest.raises(TexterProviderError) as failed:
        provider.create(checked(provider, inputs(adopt=True)))
    assert f"{original} '(SUB) Chat Assigned': its name differs" in str(failed.value)
    assert "display_name" in str(failed.value)
    assert live(texter_sim) == {original: "active"}  # nothing created beside it
    # With its exact name it is adopted.
    adopted = provider.create(
        checked(provider, inputs(adopt=True, display_name="(SUB) Chat Assigned"))
    )
    assert live(texter_sim) == {adopted.id: "active", original: "inactive"}


def test_adopt_takes_over_a_hand_made_scenario_with_the_same_content(provider, texter_sim):
    client = provider.client
    from texter_webhooks.texter.body import BodySpec, render

    hand_made = client.import_scenario(
        render(BodySpec(url=URL, event="chatAssigned"), stack="test")
    )
    created = provider.create(checked(provider, inputs(adopt=True)))
    # A managed copy replaces it: Texter cannot relabel the hand-made one as owned.
    assert live(texter_sim) == {created.id: "active", hand_made["_id"]: "inactive"}
    # Another stack adopting the same hand-made scenario gets its own: never one owner more.
    other = configured(texter_sim).create(
        checked(provider, inputs(adopt=True, stack="prod", marker="fedcba9876543210"))
    )
    assert other.id not in (created.id, hand_made["_id"])
    configured(texter_sim).delete(other.id, other.outs or {})  # destroy of prod
    assert live(texter_sim)[created.id] == "active"  # dev's stays live


@pytest.mark.parametrize("on_destroy", ["inactivate", "delete"])
def test_a_forced_replacement_never_shares_a_scenario(provider, texter_sim, on_destroy):
    news = checked(provider, inputs(on_destroy=on_destroy))
    old = provider.create(news)  # an earlier run
    new = configured(texter_sim).create(news)  # `pulumi up --replace`: same content
    assert new.id != old.id
    # The old resource's delete, left pending by a failed up, runs in a later process.
    configured(texter_sim).delete(old.id, old.outs)
    assert live(texter_sim).get(new.id) == "active"
    assert live(texter_sim).get(old.id) in (None if on_destroy == "delete" else "inactive",)


def test_api_errors_name_the_resource_and_never_the_token(provider, texter_sim) -> None:
    texter_sim.add_fault("*", "500", count=1_000_000)
    with pytest.raises(TexterProviderError, match=r"^chatAssigned \(chatAssigned\): Texter") as e:
        provider.create(checked(provider, inputs()))
    assert TEXTER_TOKEN not in str(e.value)


def test_the_pickled_provider_carries_no_credentials(provider) -> None:
    assert provider.client.base_url.endswith("/server/api/v2")  # configured: it holds them
    blob = dill.dumps(provider)
    assert TEXTER_TOKEN.encode() not in blob
    assert b"server/api/v2" not in blob
    clone = pickle.loads(blob)
    with pytest.raises(TexterProviderError, match="not configured"):
        clone.client  # noqa: B018 - the property raises until configure() runs


def test_each_create_writes_a_marker_of_its_own_under_the_resource_s_key(provider, texter_sim):
    news = checked(provider, inputs())
    first = provider.create(news)
    second = configured(texter_sim).create(news)
    markers = {s["_id"]: ownership.marker_of(s) for s in texter_sim.scenarios()}
    one, other = markers[first.id], markers[second.id]
    assert one is not None
    assert other is not None
    assert one.resource == other.resource == news["marker"]
    assert one.instance != other.instance


def test_a_404_on_delete_is_success_only_if_the_scenario_is_gone(provider, texter_sim, monkeypatch):
    created = provider.create(checked(provider, inputs()))

    def wrong_route(scenario_id: str, **_: Any) -> None:
        raise errors.NotFoundError("inactivate", "not found", status=404)

    monkeypatch.setattr(provider.client, "inactivate", wrong_route)
    with pytest.raises(TexterProviderError, match="answered HTTP 404 but scenario .* still active"):
        provider.delete(created.id, created.outs)
    texter_sim.simulator.store.delete(created.id)
    provider.delete(created.id, created.outs)  # really gone: success


def test_a_409_on_delete_with_on_destroy_delete_is_not_success(provider, texter_sim, monkeypatch):
    created = provider.create(checked(provider, inputs(status="inactive")))

    def refuse(scenario_id: str) -> None:
        raise errors.ConflictError("delete", "conflict", status=409)

    monkeypatch.setattr(provider.client, "delete", refuse)
    with pytest.raises(TexterProviderError, match="answered HTTP 409 but .* still inactive"):
        provider.delete(created.id, {**created.outs, "on_destroy": "delete"})


def test_adopt_never_takes_a_scenario_another_stack_owns(provider, texter_sim) -> None:
    other_stack = configured(texter_sim).create(
        checked(provider, inputs(marker="ffffffffffffffff"))
    )
    created = provider.create(checked(provider, inputs(adopt=True)))
    assert created.id != other_stack.id
    assert len(texter_sim.scenarios()) == 2


def test_errors_that_echo_the_request_never_show_the_receiver_url(provider, monkeypatch) -> None:
    def echo(body: dict) -> dict:
        raise errors.ValidationError("import", "bad body", status=400, detail=f"bad url {URL}")

    monkeypatch.setattr(provider.client, "import_scenario", echo)
    with pytest.raises(TexterProviderError) as caught:
        provider.create(checked(provider, inputs()))
    assert "receiver-secret" not in str(caught.value)
    assert "http://127.0.0.1:9/***" in str(caught.value)


def test_an_import_answer_without_an_id_is_looked_up(provider, texter_sim, monkeypatch) -> None:
    real_import = provider.client.import_scenario

    def no_body(body: dict) -> dict:
        real_import(body)
        return {}

    monkeypatch.setattr(provider.client, "import_scenario", no_body)
    created = provider.create(checked(provider, inputs()))
    assert [s["_id"] for s in texter_sim.scenarios()] == [created.id]


def test_unknown_inputs_during_preview_pass_check_with_an_unknown_hash(provider) -> None:
    unknown_status = provider.check({}, inputs(status=rpc.UNKNOWN))
    assert unknown_status.failures == []
    placeholders = provider.check(
        {}, inputs(event="newMatchedMessage", placeholders={"expression": rpc.UNKNOWN})
    )
    assert placeholders.failures == []
    assert placeholders.inputs["body_hash"] == rpc.UNKNOWN


def test_a_new_resource_draws_its_own_key_and_keeps_it_in_state(provider) -> None:
    first, second = checked(provider, inputs()), checked(provider, inputs())
    # Same project, stack and name (two backends, or two components): never one key.
    assert first["marker"] != second["marker"]
    assert re.fullmatch(r"[0-9a-f]{16}", first["marker"])
    again = checked(provider, inputs(url=URL + "-2"), first)
    assert again["marker"] == first["marker"]
    assert "marker" not in provider.diff("id", first, again).replaces


def test_a_key_derived_from_names_by_an_older_release_is_redrawn_in_state(provider) -> None:
    legacy = {**checked(provider, inputs()), "marker": "0123456789abcdef"}
    del legacy["marker_origin"]
    news = checked(provider, inputs(), legacy)
    assert news["marker"] != legacy["marker"]
    diff = provider.diff("id", legacy, news)
    assert diff.changes is True
    assert diff.replaces == []  # recorded in state: the live scenario keeps its marker
    assert provider.diff("id", news, checked(provider, inputs(), news)).changes is False
