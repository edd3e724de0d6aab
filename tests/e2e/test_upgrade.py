"""Stacks made by an older release keep working with this one.

Before 0.2 the library lived in `infra/texter/`, so every stack's state holds the provider
pickled as `infra.texter.provider.TexterSubscriptionProvider`. Refresh and destroy unpickle
that one (the engine hands them the state's outputs); `up` must rewrite it.
"""

from __future__ import annotations

import base64
import json

import pytest

from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN, ProjectFactory
from texter_webhooks.texter.subscription import SUBSCRIPTION_TYPE
from tooling.sandbox import SubscriptionStack

pytestmark = pytest.mark.e2e

# What 0.1 stored, made by 0.1's own code (`serialize_provider(TexterSubscriptionProvider())`
# with the class at infra/texter/provider.py): the bytes a pre-0.2 state holds.
PROVIDER_0_1 = (
    "gASVPgAAAAAAAACMFWluZnJhLnRleHRlci5wcm92aWRlcpSMGlRleHRlclN1YnNjcmlwdGlvblByb3ZpZGVy"
    "lJOUKYGUfZRiLg=="
)


# How `pulumi stack export` marks a secret value.
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def recorded_in_state(subs: SubscriptionStack) -> set[str]:
    """The module each resource's provider in state is pickled under, and its type."""
    exported = json.loads(
        subs.engine.cli("stack", "export", "--show-secrets", "--stack", subs.name).stdout
    )
    paths, types = set(), set()
    for resource in exported["deployment"]["resources"]:
        if not resource["type"].startswith("pulumi-python:dynamic"):
            continue
        types.add(resource["type"])
        raw = base64.b64decode(json.loads(resource["outputs"]["__provider"]["plaintext"]))
        paths.add("infra.texter" if b"infra.texter.provider" in raw else "texter_webhooks")
    return paths | types


def as_made_by_0_1(subs: SubscriptionStack) -> None:
    """Rewrites the stack's state as 0.1 left it: the old provider everywhere."""
    exported = json.loads(
        subs.engine.cli("stack", "export", "--show-secrets", "--stack", subs.name).stdout
    )
    for resource in exported["deployment"]["resources"]:
        if resource["type"] == SUBSCRIPTION_TYPE:
            # 0.1 registered subscriptions under the SDK's default type.
            resource["type"] = "pulumi-python:dynamic:Resource"
            resource["urn"] = resource["urn"].replace(SUBSCRIPTION_TYPE, resource["type"])
            for props in (resource["inputs"], resource["outputs"]):
                # A secret here, as 0.1 stored it: `stack import` encrypts the plaintext.
                assert set(props["__provider"]) == {SECRET_SIG, "plaintext"}
                props["__provider"]["plaintext"] = json.dumps(PROVIDER_0_1)
    state = subs.engine.work_dir / "state-0.1.json"
    state.write_text(json.dumps(exported))
    subs.engine.cli("stack", "import", "--stack", subs.name, "--file", str(state))


@pytest.fixture
def subs(make_project: ProjectFactory, texter_sim: SimulatorServer) -> SubscriptionStack:
    stack = SubscriptionStack(make_project("texter-webhooks"), texter_sim, TEXTER_TOKEN)
    stack.configure()
    return stack


def test_a_stack_made_before_the_rename_refreshes_updates_and_destroys(
    subs: SubscriptionStack,
) -> None:
    subs.subscriptions = {
        "assigned": {"event": "chatAssigned"},
        "resolved": {"event": "chatResolved", "on_destroy": "delete"},
    }
    created = subs.up()
    ids = {created.outputs["assignedId"].value, created.outputs["resolvedId"].value}
    as_made_by_0_1(subs)
    assert recorded_in_state(subs) == {"infra.texter", "pulumi-python:dynamic:Resource"}

    # Refresh runs the provider recorded in state: 0.1's import path still loads.
    refresh = subs.refresh()
    assert refresh.summary.result == "succeeded"
    assert refresh.summary.resource_changes == {"same": 3}

    # The first up of the new release: an update of the recorded provider only, with no
    # Texter call and nothing replaced.
    subs.sim.clear_request_log()
    up = subs.up()
    assert up.summary.resource_changes == {"same": 1, "update": 2}
    assert subs.api_calls() == []
    assert recorded_in_state(subs) == {"texter_webhooks", SUBSCRIPTION_TYPE}
    assert {up.outputs["assignedId"].value, up.outputs["resolvedId"].value} == ids

    # After it, nothing is left to rewrite.
    again = subs.up()
    assert again.summary.resource_changes == {"same": 3}

    destroy = subs.destroy()
    assert destroy.summary.result == "succeeded"
    live = subs.live()
    assert live == {created.outputs["assignedId"].value: "inactive"}  # resolved: deleted


def test_destroy_straight_after_the_release_uses_the_old_record(subs: SubscriptionStack) -> None:
    subs.subscriptions = {"assigned": {"event": "chatAssigned"}}
    created = subs.up()
    as_made_by_0_1(subs)

    destroy = subs.destroy()
    assert destroy.summary.result == "succeeded"
    assert subs.live() == {created.outputs["assignedId"].value: "inactive"}
