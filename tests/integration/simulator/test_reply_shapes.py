"""Every reply carries the fields docs/texter-api.md documents, and none it does not.

The key lists are the contract's, written once here: §1 (list reply), §5 (Scenario, Revision,
drafts, metadata) and §6 (Scenario Run and its steps).
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from simulator.server import SimulatorServer
from tests.integration.simulator.capture import CaptureServer
from tests.integration.simulator.client import Api
from tests.integration.simulator.templates import filled_template

# §1: `{ "total": number, "scenarios": Scenario[] }`.
LIST_REPLY_KEYS = {"total", "scenarios"}
# §5 Scenario: `activeRevision` is absent when paused, `system` only on built-in scenarios.
SCENARIO_KEYS = {"_id", "inactiveRevisions", "drafts"}
SCENARIO_OPTIONAL_KEYS = {"activeRevision", "system"}
# §5 Revision. `description` is optional text; `system` belongs to built-in scenarios.
REVISION_KEYS = {
    "_id",
    "scenarioId",
    "name",
    "status",
    "version",
    "parentVersion",
    "revisionComment",
    "triggerEvents",
    "conditions",
    "loaders",
    "actions",
    "loops",
    "tags",
    "attachedData",
    "options",
    "metadata",
}
REVISION_OPTIONAL_KEYS = {"description", "system"}
# §5 drafts: a revision without `version`/`revisionComment`. A draft the simulator starts
# from a revision names it in `parentVersion` (its choice, §3); one imported as draft has none.
DRAFT_KEYS = REVISION_KEYS - {"version", "parentVersion", "revisionComment"}
DRAFT_OPTIONAL_KEYS = {"parentVersion"}
# §5 metadata: `activated` exists once a revision has been activated.
METADATA_KEYS = {"authorUid", "created", "modified", "activations"}
METADATA_OPTIONAL_KEYS = {"activated"}
DRAFT_METADATA_KEYS = {"authorUid", "created", "modified"}
ACTIVATION_KEYS = {"timestamp", "userUid"}
# §6 Scenario Run.
RUN_KEYS = {
    "_id",
    "scenarioId",
    "version",
    "success",
    "started",
    "executionTime",
    "conditionsResult",
    "steps",
}
STEP_KEYS = {"type", "name", "executionTime"}
STEP_OPTIONAL_KEYS = {"error", "result", "groupIndex", "index", "position", "output", "iterations"}
STEP_TYPES = {"event", "loader", "condition", "action", "loop"}
# §1 leaves the runs envelope undocumented; the simulator mirrors the list reply.
RUNS_REPLY_KEYS = {"total", "runs"}


def _assert_keys(obj: dict[str, Any], required: Set[str], optional: Set[str] = frozenset()) -> None:
    keys = set(obj)
    assert required <= keys, f"missing {sorted(required - keys)}"
    assert keys <= required | optional, f"undocumented {sorted(keys - required - optional)}"


def _assert_revision(revision: dict[str, Any], *, draft: bool = False) -> None:
    if draft:
        _assert_keys(revision, DRAFT_KEYS, REVISION_OPTIONAL_KEYS | DRAFT_OPTIONAL_KEYS)
        _assert_keys(revision["metadata"], DRAFT_METADATA_KEYS)
        return
    _assert_keys(revision, REVISION_KEYS, REVISION_OPTIONAL_KEYS)
    _assert_keys(revision["metadata"], METADATA_KEYS, METADATA_OPTIONAL_KEYS)
    for activation in revision["metadata"]["activations"]:
        _assert_keys(activation, ACTIVATION_KEYS)


def _assert_scenario(scenario: dict[str, Any]) -> None:
    _assert_keys(scenario, SCENARIO_KEYS, SCENARIO_OPTIONAL_KEYS)
    if "activeRevision" in scenario:
        _assert_revision(scenario["activeRevision"])
    for revision in scenario["inactiveRevisions"]:
        _assert_revision(revision)
    for draft in scenario["drafts"]:
        _assert_revision(draft, draft=True)


def _import(api: Api, url: str, status: str) -> dict[str, Any]:
    body = filled_template("chatAssigned", url, asStatus=status)
    body["data"]["tags"] = ["contract"]
    response = api.import_(body)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_list_reply_is_total_and_scenarios_with_documented_fields(api):
    for status in ("active", "inactive", "draft"):
        _import(api, "https://hooks.example.com/x", status)

    reply = api.list().json()

    _assert_keys(reply, LIST_REPLY_KEYS)
    assert reply["total"] == len(reply["scenarios"]) == 3
    for scenario in reply["scenarios"]:
        _assert_scenario(scenario)


def test_writes_reply_with_documented_scenarios(api):
    imported = _import(api, "https://hooks.example.com/x", "inactive")
    activated = api.activate(imported["_id"]).json()
    inactivated = api.inactivate(imported["_id"]).json()
    copied = api.copy(imported["_id"], {"fromVersion": 1, "newName": "(SUB) Copy"}).json()

    for scenario in (imported, activated, inactivated, copied):
        _assert_scenario(scenario)


def test_the_update_path_replies_with_documented_scenarios(api):
    imported = _import(api, "https://hooks.example.com/x", "active")
    drafted = api.update_draft(imported["_id"], {"operations": [{"rename": "(SUB) B"}]}).json()
    published = api.create_revision(imported["_id"], {"revisionComment": "c"}).json()
    reverted = api.activate(imported["_id"], {"version": 2}).json()
    trimmed = api.delete_revision(imported["_id"], 1).json()

    assert drafted["drafts"][0]["parentVersion"] == 1
    for scenario in (drafted, published, reverted, trimmed):
        _assert_scenario(scenario)


def test_a_system_scenario_shows_its_system_field(sim: SimulatorServer, api):
    sim.seed({"system": "welcome"})

    [scenario] = api.list(params={"includeSystem": "true"}).json()["scenarios"]

    _assert_scenario(scenario)
    assert scenario["system"] == "welcome"


def test_the_runs_reply_carries_documented_runs_and_steps(sim: SimulatorServer, api):
    capture = CaptureServer().start()
    try:
        delivered = _import(api, capture.url, "active")
        failed = _import(api, "http://127.0.0.1:9/nothing-listens", "active")
        sim.fire("chatAssigned")
    finally:
        capture.stop()

    for scenario in (delivered, failed):
        reply = api.runs(scenario["_id"]).json()
        _assert_keys(reply, RUNS_REPLY_KEYS)
        [run] = reply["runs"]
        assert reply["total"] == 1
        _assert_keys(run, RUN_KEYS)
        for step in run["steps"]:
            _assert_keys(step, STEP_KEYS, STEP_OPTIONAL_KEYS)
            assert step["type"] in STEP_TYPES
