"""The --state file: state survives a restart, writes are whole, one simulator per file."""

from __future__ import annotations

import json

import pytest

from simulator import SimulatorConfig, SimulatorServer
from simulator.persistence import StateFileError
from tests.integration.simulator.client import Api
from tests.integration.simulator.templates import filled_template


def test_scenarios_and_runs_survive_a_restart(make_simulator, capture, tmp_path):
    state = tmp_path / "state.json"
    first = make_simulator(state_path=state)
    api = Api(first)
    active = api.import_(filled_template("chatPending", capture.url)).json()
    paused = api.import_(filled_template("chatResolved", capture.url)).json()
    deleted = api.import_(filled_template("newMessage", capture.url)).json()
    api.inactivate(paused["_id"])
    api.delete(deleted["_id"])
    api.control("POST", "fire", {"eventName": "chatPending"})
    before = api.list().json()
    runs_before = api.runs(active["_id"]).json()
    first.stop()

    second = Api(make_simulator(state_path=state))

    assert [s["_id"] for s in before["scenarios"]] == [active["_id"], paused["_id"]]
    assert runs_before["total"] == 1
    assert second.list().json() == before
    assert second.runs(active["_id"]).json() == runs_before
    assert second.activate(paused["_id"]).status_code == 200


def test_the_state_file_is_complete_json_after_each_change(make_simulator, tmp_path):
    state = tmp_path / "nested" / "state.json"
    api = Api(make_simulator(state_path=state))

    created = api.import_(filled_template("chatPending", "https://h.example/x")).json()

    saved = json.loads(state.read_text())
    assert saved["scenarios"] == [created]
    assert sorted(p.name for p in state.parent.iterdir()) == ["state.json", "state.json.lock"]


def test_a_failed_change_writes_nothing(make_simulator, tmp_path):
    state = tmp_path / "state.json"
    api = Api(make_simulator(state_path=state))

    api.import_({"data": {}})
    api.control("POST", "faults", {"route": "import", "fault": "500"})
    api.import_(filled_template("chatPending", "https://h.example/x"))

    assert not state.exists()


def test_a_second_simulator_cannot_share_the_state_file(make_simulator, tmp_path):
    state = tmp_path / "state.json"
    make_simulator(state_path=state)

    with pytest.raises(StateFileError, match="in use"):
        SimulatorServer(SimulatorConfig(state_path=state, log_requests=False)).start()


@pytest.mark.parametrize(
    ("content", "message"),
    [("{truncated", "not valid JSON"), ('{"scenarios": []}', "not a simulator state file")],
    ids=["corrupt", "foreign"],
)
def test_an_unreadable_state_file_is_an_error_not_an_empty_state(tmp_path, content, message):
    state = tmp_path / "state.json"
    state.write_text(content)

    with pytest.raises(StateFileError, match=message):
        SimulatorServer(SimulatorConfig(state_path=state, log_requests=False)).start()

    assert state.read_text() == content
