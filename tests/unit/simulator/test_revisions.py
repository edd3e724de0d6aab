"""Scenario state transitions, independent of HTTP."""

from __future__ import annotations

from typing import Any

from simulator import revisions

DATA: dict[str, Any] = {
    "version": "v1",
    "name": "(SUB) Test",
    "description": "marker: abc",
    "triggerEvents": ["domain.chat.pending"],
    "actions": [{"name": "request", "params": {"url": "https://h.example", "method": "post"}}],
}


def test_loops_tags_and_attached_data_are_kept_through_import_toggles_and_copy():
    extras = {"loops": [{"loop": {"n": 1}}], "tags": ["t"], "attachedData": {"k": "v"}}
    scenario = revisions.imported_scenario({**DATA, **extras}, "active", author="u", now=1)
    paused = revisions.inactivate(scenario, idempotent=False)
    resumed = revisions.activate(paused, None, author="u", now=2, idempotent=False)
    copied = revisions.copied_scenario(paused, 1, "(SUB) Copy", author="u", now=3)

    for revision in (
        scenario["activeRevision"],
        paused["inactiveRevisions"][0],
        resumed["activeRevision"],
        copied["inactiveRevisions"][0],
    ):
        assert {key: revision[key] for key in extras} == extras


def test_a_missing_description_stays_missing():
    data = {k: v for k, v in DATA.items() if k != "description"}

    scenario = revisions.imported_scenario(data, "active", author="u", now=1)

    assert "description" not in scenario["activeRevision"]


def test_inactive_revisions_are_listed_newest_version_first():
    scenario = {
        "_id": "a" * 24,
        "inactiveRevisions": [{"version": 1}, {"version": 3}, {"version": 2}],
    }

    activated = revisions.activate(scenario, 2, author="u", now=1, idempotent=False)

    assert activated["activeRevision"]["version"] == 2
    assert [r["version"] for r in activated["inactiveRevisions"]] == [3, 1]
