"""Provider behaviours no other test pinned: twins found by refresh retired by
`up` and by `destroy`, an import given up on that lands later removed, a content change
and a pause in one update, and the bearer token kept out of error messages."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from simulator.server import SimulatorServer
from tests.integration.test_provider import URL, checked, edit_in_ui, inputs, live
from tests.integration.test_provider_behaviours import configured
from texter_webhooks.texter import catalog, errors
from texter_webhooks.texter.provider import TexterProviderError

BEARER_TOKEN = "bearer-secret-0123456789"


def active_copy_of(sim: SimulatorServer, scenario_id: str) -> str:
    """A copy of the scenario made by hand in the Texter UI: same revision, same marker."""
    [held] = [s for s in sim.scenarios() if s["_id"] == scenario_id]
    return str(sim.seed({"activeRevision": held["activeRevision"]})["_id"])


def test_up_after_a_refresh_retires_the_twins_it_found(texter_sim: SimulatorServer) -> None:
    provider = configured(texter_sim)
    created = provider.create(checked(provider, inputs()))
    twin = active_copy_of(texter_sim, created.id)

    refreshing = configured(texter_sim)  # `pulumi refresh`: a provider process of its own
    read = refreshing.read(created.id, created.outs or {})
    assert read.outs is not None
    assert read.outs["twins"] == [twin]

    upping = configured(texter_sim)  # the next `pulumi up`
    olds = read.outs
    news = checked(upping, inputs(), olds)
    diff = upping.diff(created.id, olds, news)
    assert (diff.changes, diff.replaces) == (True, [])  # nothing else changed: the twins
    updated = upping.update(created.id, olds, news)

    assert live(texter_sim) == {created.id: "active", twin: "inactive"}
    assert updated.outs is not None
    assert updated.outs["twins"] is None


def test_destroy_retires_the_scenario_s_twins_with_it(texter_sim: SimulatorServer) -> None:
    provider = configured(texter_sim)
    created = provider.create(checked(provider, inputs()))
    twin = active_copy_of(texter_sim, created.id)

    configured(texter_sim).delete(created.id, created.outs or {})  # `pulumi destroy`

    assert live(texter_sim) == {created.id: "inactive", twin: "inactive"}


def test_an_import_given_up_on_that_lands_after_the_second_one_is_removed(
    texter_sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = configured(texter_sim, **{"texter:readTimeoutSeconds": "0.5"})
    real_import = provider.client.import_scenario
    calls: list[str] = []

    def first_lost_then_landing_late(body: dict[str, Any]) -> dict[str, Any]:
        calls.append("import")
        if len(calls) == 1:
            # A gateway's 502: the first import is still running behind it, unseen...
            raise errors.AmbiguousWriteError("import", "the outcome is unknown", status=502)
        real_import(body)  # ...and lands just as the provider imports again
        return real_import(body)

    monkeypatch.setattr(provider.client, "import_scenario", first_lost_then_landing_late)
    created = provider.create(checked(provider, inputs()))

    assert calls == ["import", "import"]
    assert [s["_id"] for s in texter_sim.scenarios()] == [created.id]
    assert live(texter_sim) == {created.id: "active"}


def test_one_update_changes_the_content_and_pauses_the_scenario(
    texter_sim: SimulatorServer,
) -> None:
    provider = configured(texter_sim)
    created = provider.create(checked(provider, inputs()))
    olds = created.outs or {}
    news = checked(provider, inputs(url=URL + "-moved", status="inactive"), olds)

    updated = configured(texter_sim).update(created.id, olds, news)

    assert updated.outs is not None
    assert updated.outs["live_status"] == "inactive"
    [scenario] = texter_sim.scenarios()
    assert scenario["_id"] == created.id
    assert scenario.get("activeRevision") is None
    newest = max(scenario["inactiveRevisions"], key=lambda r: r["version"])
    assert [a["params"]["url"] for a in newest["actions"]] == [URL + "-moved"]


def test_an_error_echoing_the_request_never_shows_the_bearer_token(
    texter_sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = configured(texter_sim)

    def refused_echoing_the_body(body: dict[str, Any]) -> dict[str, Any]:
        # Texter quoting the request it refused, Authorization header included.
        raise errors.ValidationError(
            "import", "Texter refused the request", status=400, detail=json.dumps(body)
        )

    monkeypatch.setattr(provider.client, "import_scenario", refused_echoing_the_body)
    news = checked(
        provider, inputs(url="https://receiver.example.com/hooks", bearer_token=BEARER_TOKEN)
    )
    with pytest.raises(TexterProviderError, match="Texter refused the request") as caught:
        provider.create(news)

    assert "Bearer ***" in str(caught.value)  # the header is there, its token is not
    assert BEARER_TOKEN not in str(caught.value)


def test_an_import_that_landed_behind_a_dropped_answer_is_kept_not_made_again(
    texter_sim: SimulatorServer,
) -> None:
    provider = configured(texter_sim)
    texter_sim.add_fault("import", "commit_then_drop", count=1)  # made, the answer lost

    created = provider.create(checked(provider, inputs()))

    routes = [entry["route"] for entry in texter_sim.request_log()]
    assert routes.count("import") == 1  # found by its marker: not imported a second time
    assert "delete" not in routes
    assert live(texter_sim) == {created.id: "active"}


def test_the_body_output_shows_the_bearer_header_but_not_its_token(
    texter_sim: SimulatorServer,
) -> None:
    provider = configured(texter_sim)
    news = checked(
        provider, inputs(url="https://receiver.example.com/hooks", bearer_token=BEARER_TOKEN)
    )
    created = provider.create(news)

    [action] = (created.outs or {})["body"]["data"]["actions"]
    assert action["params"]["headers"] == {"Authorization": "***"}
    assert BEARER_TOKEN not in json.dumps((created.outs or {})["body"])


def test_a_template_s_own_authorization_header_gives_way_to_the_bearer_token(
    texter_sim: SimulatorServer,
) -> None:
    template = catalog.lookup("chatAssigned").body_template()
    template["data"]["actions"][0]["params"]["headers"] = {"authorization": "Bearer stale"}
    provider = configured(texter_sim)
    news = checked(
        provider,
        inputs(
            event=None,
            template=template,
            url="https://receiver.example.com/hooks",
            bearer_token=BEARER_TOKEN,
        ),
    )
    provider.create(news)

    [scenario] = texter_sim.scenarios()
    [action] = scenario["activeRevision"]["actions"]
    # One Authorization header, the resource's: two would be refused by the receiver.
    assert action["params"]["headers"] == {"Authorization": f"Bearer {BEARER_TOKEN}"}


@pytest.mark.parametrize(
    "bearer_token", ["token\r\nX-Injected: 1", "two words", "=starts-with-padding"]
)
def test_a_bearer_token_that_is_no_rfc_6750_token_fails_the_preview(
    texter_sim: SimulatorServer, bearer_token: str
) -> None:
    provider = configured(texter_sim)
    props = inputs(url="https://receiver.example.com/hooks", bearer_token=bearer_token)
    [failure] = provider.check({}, props).failures
    assert failure.property == "bearer_token"
    assert bearer_token not in failure.reason
    assert texter_sim.request_log() == []


def test_a_stack_key_longer_than_16_hex_digits_fails_the_preview(
    texter_sim: SimulatorServer,
) -> None:
    provider = configured(texter_sim)
    [failure] = provider.check({}, inputs(stack_key="0123456789abcdef0")).failures
    assert failure.property == "stack_key"


def test_a_template_copied_from_a_managed_scenario_makes_no_twin_of_it(
    texter_sim: SimulatorServer,
) -> None:
    provider = configured(texter_sim)
    first = provider.create(checked(provider, inputs()))
    [original] = texter_sim.scenarios()
    # Another resource's template: the first scenario's body, its marker in the description.
    template = copy.deepcopy(catalog.lookup("chatAssigned").body_template())
    template["data"]["description"] = original["activeRevision"]["description"]
    news = checked(
        provider,
        inputs(resource_name="copied", marker=None, event=None, template=template),
    )
    second = configured(texter_sim).create(news)

    read = configured(texter_sim).read(first.id, first.outs or {})
    assert read.outs is not None
    assert read.outs["twins"] is None  # the copy is the other resource's, not a twin
    again = configured(texter_sim).read(second.id, second.outs or {})
    assert again.outs is not None
    assert again.outs["twins"] is None
    assert live(texter_sim) == {first.id: "active", second.id: "active"}


def test_an_empty_default_texter_adds_inside_an_action_is_no_drift(
    texter_sim: SimulatorServer,
) -> None:
    provider = configured(texter_sim)
    created = provider.create(checked(provider, inputs()))
    [scenario] = texter_sim.scenarios()
    [action] = copy.deepcopy(scenario["activeRevision"]["actions"])
    action["params"]["headers"] = {}  # an empty default, as Texter may store one
    edit_in_ui(texter_sim, created.id, actions=[action])

    read = configured(texter_sim).read(created.id, created.outs or {})

    assert read.outs is not None
    assert read.outs["drifted"] is None


def test_a_template_s_author_is_not_credited_without_author_uid(
    texter_sim: SimulatorServer,
) -> None:
    template = catalog.lookup("chatAssigned").body_template()
    template["authorUid"] = "someone-who-exported-it"
    provider = configured(texter_sim)
    provider.create(checked(provider, inputs(event=None, template=template)))

    [scenario] = texter_sim.scenarios()
    # Texter credits the token's own user when the import names none.
    assert scenario["activeRevision"]["metadata"]["authorUid"] == "sim-api-token-user"


def test_an_empty_description_is_kept_empty(texter_sim: SimulatorServer) -> None:
    provider = configured(texter_sim)
    provider.create(checked(provider, inputs(description="")))

    [scenario] = texter_sim.scenarios()
    # Only the ownership marker: not the template's description.
    assert scenario["activeRevision"]["description"].startswith("[texter-webhooks:")


def _with_condition_groups(*expressions: tuple[str, ...]) -> dict[str, Any]:
    """newMatchedMessage's template as a custom one, its conditions in the given groups
    (conditions of one group all hold; of two groups, either does)."""
    template = catalog.lookup("newMatchedMessage").body_template()
    [[sample, *_]] = template["data"]["conditions"]
    template["data"]["conditions"] = [
        [{**sample, "params": {**sample["params"], "expression": e}} for e in group]
        for group in expressions
    ]
    return template


def test_an_update_keeps_each_condition_in_its_group(texter_sim: SimulatorServer) -> None:
    provider = configured(texter_sim)
    before = _with_condition_groups(('text == "a"',), ('text == "b"',))
    created = provider.create(checked(provider, inputs(event=None, template=before)))
    olds = created.outs or {}
    after = _with_condition_groups(('text == "x"', 'direction == "incoming"'), ('text == "y"',))
    news = checked(provider, inputs(event=None, template=after), olds)

    configured(texter_sim).update(created.id, olds, news)

    [scenario] = texter_sim.scenarios()
    groups = [
        [condition["params"]["expression"] for condition in group]
        for group in scenario["activeRevision"]["conditions"]
    ]
    assert groups == [['text == "x"', 'direction == "incoming"'], ['text == "y"']]
