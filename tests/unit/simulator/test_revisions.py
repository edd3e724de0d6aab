"""Scenario state transitions, independent of HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from simulator import revisions
from simulator.errors import ApiError

DATA = {
    "version": "v1",
    "name": "(SUB) Test",
    "description": "marker: abc",
    "triggerEvents": ["domain.chat.pending"],
    "actions": [{"name": "request", "params": {"url": "https://h.example", "method": "post"}}],
}


def _active() -> dict[str, Any]:
    return revisions.imported_scenario(DATA, "active", author="u1", now=1000)


def test_import_fills_the_documented_defaults():
    revision = _active()["activeRevision"]

    assert revision["conditions"] == []
    assert revision["loaders"] == {}
    assert revision["options"] == {"unorderedActions": False}
    assert revision["metadata"] == {
        "authorUid": "u1",
        "created": 1000,
        "modified": 1000,
        "activated": 1000,
        "activations": [{"timestamp": 1000, "userUid": "u1"}],
    }


def test_import_without_loops_tags_or_attached_data_stores_them_empty():
    revision = _active()["activeRevision"]

    assert (revision["loops"], revision["tags"], revision["attachedData"]) == ([], [], {})


def test_loops_tags_and_attached_data_are_kept_through_import_toggles_and_copy():
    extras = {"loops": [{"loop": {"n": 1}}], "tags": ["t"], "attachedData": {"k": "v"}}
    scenario = revisions.imported_scenario({**DATA, **extras}, "active", author="u", now=1)
    paused = revisions.inactivate(scenario, idempotent=False)
    copied = revisions.copied_scenario(paused, 1, "(SUB) Copy", author="u", now=2)

    for revision in (
        scenario["activeRevision"],
        paused["inactiveRevisions"][0],
        copied["inactiveRevisions"][0],
    ):
        assert {key: revision[key] for key in extras} == extras


def test_a_missing_description_stays_missing():
    data = {k: v for k, v in DATA.items() if k != "description"}

    scenario = revisions.imported_scenario(data, "active", author="u", now=1)

    assert "description" not in scenario["activeRevision"]


def test_inactivate_then_activate_round_trips_the_same_revision():
    scenario = _active()
    paused = revisions.inactivate(scenario, idempotent=False)

    resumed = revisions.activate(paused, None, author="u2", now=2000, idempotent=False)

    assert resumed["activeRevision"]["_id"] == scenario["activeRevision"]["_id"]
    assert resumed["activeRevision"]["metadata"]["activated"] == 2000
    assert resumed["activeRevision"]["metadata"]["activations"][-1] == {
        "timestamp": 2000,
        "userUid": "u2",
    }


def test_transitions_do_not_mutate_their_input():
    scenario = _active()
    snapshot = repr(scenario)

    revisions.inactivate(scenario, idempotent=False)

    assert repr(scenario) == snapshot


def test_a_failed_transition_raises_409():
    with pytest.raises(ApiError) as raised:
        revisions.activate(_active(), None, author="u", now=1, idempotent=False)

    assert raised.value.status == 409


def test_idempotent_transitions_return_the_scenario_unchanged():
    scenario = _active()

    assert revisions.activate(scenario, 1, author="u", now=5, idempotent=True) == scenario
    paused = revisions.inactivate(scenario, idempotent=False)
    assert revisions.inactivate(paused, idempotent=True) == paused


def test_inactive_revisions_are_listed_newest_version_first():
    scenario = {
        "_id": "a" * 24,
        "inactiveRevisions": [{"version": 1}, {"version": 3}, {"version": 2}],
    }

    activated = revisions.activate(scenario, 2, author="u", now=1, idempotent=False)

    assert activated["activeRevision"]["version"] == 2
    assert [r["version"] for r in activated["inactiveRevisions"]] == [3, 1]


def test_copy_takes_content_from_the_requested_version():
    source = _active()

    copied = revisions.copied_scenario(source, 1, "(SUB) Copy", author="u3", now=3000)

    [revision] = copied["inactiveRevisions"]
    assert revision["name"] == "(SUB) Copy"
    assert revision["description"] == "marker: abc"
    assert revision["scenarioId"] == copied["_id"] != source["_id"]
    assert revision["metadata"]["authorUid"] == "u3"
    assert revision["actions"] == source["activeRevision"]["actions"]


def test_copy_from_a_draft_only_scenario_has_no_version_to_use():
    draft_only = revisions.imported_scenario(DATA, "draft", author="u", now=1)

    with pytest.raises(ApiError, match="fromVersion"):
        revisions.copied_scenario(draft_only, 1, "x", author="u", now=2)
