"""ScenarioStore: a scenario's runs go with it."""

from __future__ import annotations

from simulator.store import ScenarioStore


def test_runs_of_a_deleted_scenario_are_not_recorded():
    store = ScenarioStore()
    store.add({"_id": "x", "inactiveRevisions": [], "drafts": []})
    assert store.add_run({"_id": "r1", "scenarioId": "x"}) is True
    store.delete("x")

    # An event in flight while the scenario was deleted: its run is dropped, not orphaned.
    assert store.add_run({"_id": "r2", "scenarioId": "x"}) is False
    assert store.dump() == {"scenarios": [], "runs": {}}
