"""The bootstrapped engine runs a dynamic resource through its whole life, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi.automation import ConfigValue

from tests.conftest import ProjectFactory
from tooling import engine_probe

pytestmark = pytest.mark.e2e


def test_engine_runs_a_dynamic_resource_through_up_preview_refresh_destroy(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    engine = make_project("engine-probe")
    store = tmp_path / "notes.json"
    version = engine.cli("version").stdout.strip()
    assert version == "v" + __import__("importlib.metadata").metadata.version("pulumi")

    stack = engine.stack("probe", engine_probe.program)
    stack.set_config("engine-probe:text", _value("hello"))
    stack.set_config("engine-probe:store", _value(str(store)))

    up = stack.up(show_secrets=False)
    assert up.summary.result == "succeeded"
    assert up.summary.resource_changes == {"create": 2}  # the stack and the note
    note_id = up.outputs["noteId"].value
    assert up.outputs["length"].value == 5
    assert json.loads(store.read_text()) == {note_id: "hello"}

    preview = stack.preview(json=True)
    assert json.loads(preview.stdout)["changeSummary"] == {"same": 2}

    # The note changes behind the engine's back: refresh takes the live value into state.
    store.write_text(json.dumps({note_id: "changed remotely"}))
    refresh = stack.refresh(show_secrets=False)
    assert refresh.summary.resource_changes == {"same": 1, "update": 1}
    deployment = stack.export_stack().deployment
    assert deployment is not None
    assert deployment["resources"][-1]["outputs"]["text"] == "changed remotely"

    # The next up puts the declared value back.
    repair = stack.up(show_secrets=False)
    assert repair.summary.resource_changes == {"same": 1, "update": 1}
    assert json.loads(store.read_text()) == {note_id: "hello"}

    destroy = stack.destroy(show_secrets=False)
    assert destroy.summary.result == "succeeded"
    assert destroy.summary.resource_changes == {"delete": 2}
    assert json.loads(store.read_text()) == {}
    history = engine.cli_json("stack", "history", "--stack", "probe")
    assert [entry["kind"] for entry in history] == ["destroy", "update", "refresh", "update"]


def _value(text: str) -> ConfigValue:
    return ConfigValue(value=text)
