"""StateFile: atomic replacement, locking, format checks."""

from __future__ import annotations

import json

import pytest

from simulator.persistence import StateFile, StateFileError
from simulator.store import ScenarioStore


@pytest.fixture
def state_file(tmp_path):
    opened = StateFile(tmp_path / "state.json")
    yield opened
    opened.close()


def test_a_missing_file_loads_as_no_state(state_file):
    assert state_file.load() is None


def test_saved_state_loads_back_with_its_format_marker(state_file):
    state_file.save({"scenarios": [{"_id": "a"}], "runs": {}})

    assert state_file.load() == {"format": 1, "scenarios": [{"_id": "a"}], "runs": {}}


def test_a_save_replaces_the_file_and_leaves_no_temporary_files(state_file):
    state_file.save({"scenarios": [], "runs": {}})
    state_file.save({"scenarios": [{"_id": "b"}], "runs": {}})

    names = sorted(p.name for p in state_file.path.parent.iterdir())
    assert names == ["state.json", "state.json.lock"]
    assert json.loads(state_file.path.read_text())["scenarios"] == [{"_id": "b"}]


def test_the_lock_is_released_on_close(tmp_path):
    first = StateFile(tmp_path / "s.json")
    with pytest.raises(StateFileError):
        StateFile(tmp_path / "s.json")
    first.close()

    StateFile(tmp_path / "s.json").close()


def test_a_file_of_another_format_is_refused(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps({"scenarios": []}))
    opened = StateFile(tmp_path / "s.json")

    with pytest.raises(StateFileError, match="not a simulator state file"):
        opened.load()
    opened.close()


def test_the_store_reloads_what_it_persisted(tmp_path):
    store = ScenarioStore(StateFile(tmp_path / "s.json"))
    store.add({"_id": "x", "inactiveRevisions": [], "drafts": []})
    store.add_run({"_id": "r", "scenarioId": "x"})
    store.close()

    reloaded = ScenarioStore(StateFile(tmp_path / "s.json"))

    assert [s["_id"] for s in reloaded.scenarios(include_system=True)] == ["x"]
    assert reloaded.runs("x") == [{"_id": "r", "scenarioId": "x"}]
    reloaded.close()


def test_runs_of_a_deleted_scenario_are_not_recorded():
    store = ScenarioStore()
    store.add({"_id": "x", "inactiveRevisions": [], "drafts": []})
    store.delete("x")

    assert store.add_run({"_id": "r", "scenarioId": "x"}) is False
    assert store.dump() == {"scenarios": [], "runs": {}}
