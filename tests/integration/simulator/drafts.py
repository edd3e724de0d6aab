"""Helpers shared by the Update Draft and revision tests."""

from __future__ import annotations

from typing import Any

import requests

from simulator.ids import new_object_id
from tests.integration.simulator.client import Api
from tests.integration.simulator.templates import filled_template

HOOK = "https://hooks.example.com/texter/abc123"
OTHER_HOOK = "https://other.example.com/texter/def456"
DESCRIPTION = "  managed-by: pulumi/texter-webhooks urn=é✓ \n\ttrailing  "
CONDITION = {"name": "filtrex", "params": {"expression": 'direction == "incoming"'}}


def request_action(url: str = OTHER_HOOK, event: str = "chatPending") -> dict[str, Any]:
    return {
        "name": "request",
        "params": {
            "url": url,
            "method": "post",
            "json": True,
            "data": {"eventName": event, "eventData": {}},
        },
        "confidentialData": False,
    }


def import_scenario(
    api: Api, status: str = "active", event: str = "chatPending", url: str = HOOK
) -> dict[str, Any]:
    body = filled_template(event, url, asStatus=status)
    body["data"]["description"] = DESCRIPTION
    response = api.import_(body)
    assert response.status_code == 201, response.text
    return response.json()


def update(api: Api, scenario_id: str, *operations: Any) -> dict[str, Any]:
    response = api.update_draft(scenario_id, {"operations": list(operations)})
    assert response.status_code == 200, response.text
    return response.json()


def publish(api: Api, scenario_id: str, comment: str = "change") -> dict[str, Any]:
    response = api.create_revision(scenario_id, {"revisionComment": comment})
    assert response.status_code == 201, response.text
    return response.json()


def the_draft(scenario: dict[str, Any]) -> dict[str, Any]:
    [draft] = scenario["drafts"]
    return draft


def error(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["status"] == status
    message: str = body["message"]
    return message


def listed(api: Api, scenario_id: str) -> dict[str, Any]:
    [scenario] = [s for s in api.list().json()["scenarios"] if s["_id"] == scenario_id]
    return scenario


def seeded_revision(scenario_id: str, version: int, status: str, name: str) -> dict[str, Any]:
    """A complete revision as Texter lists one, for scenarios built with /_sim/seed."""
    return {
        "_id": new_object_id(),
        "scenarioId": scenario_id,
        "name": name,
        "description": DESCRIPTION,
        "status": status,
        "version": version,
        "parentVersion": version - 1 or None,
        "revisionComment": "",
        "triggerEvents": ["domain.chat.pending"],
        "conditions": [],
        "loaders": {},
        "actions": [request_action(HOOK)],
        "loops": [],
        "tags": [],
        "attachedData": {},
        "options": {"unorderedActions": False},
        "metadata": {"authorUid": "u", "created": 1, "modified": 1, "activations": []},
    }
