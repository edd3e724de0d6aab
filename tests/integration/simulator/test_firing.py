"""Event delivery through /_sim/fire, for every template, and the runs it records (§6, §7)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.simulator.client import Api
from tests.integration.simulator.templates import event_names, filled_template, load_template


def _event_data_keys(event_name: str) -> set[str]:
    template = load_template(event_name)
    return set(template["data"]["actions"][0]["params"]["data"]["eventData"])


def _assert_fully_rendered(value: Any) -> None:
    text = json.dumps(value)
    assert "##provide" not in text
    assert "%messageStatusRequest:" not in text
    assert "%chat:" not in text


def _import(api: Api, event: str, url: str, **overrides: Any) -> str:
    response = api.import_(filled_template(event, url, **overrides))
    assert response.status_code == 201, response.text
    return response.json()["_id"]


@pytest.mark.parametrize("event", event_names())
def test_every_template_delivers_a_fully_rendered_event(api, capture, event):
    scenario_id = _import(api, event, f"{capture.url}/hooks/{event}?key=s3cret")

    fired = api.control("POST", "fire", {"eventName": event})

    assert fired.status_code == 200
    [result] = fired.json()["fired"]
    assert result["scenarioId"] == scenario_id
    assert result["status"] == 200
    assert result["success"] is True
    assert "error" not in result
    [delivery] = capture.received
    assert delivery["method"] == "POST"
    assert delivery["path"] == f"/hooks/{event}?key=s3cret"
    assert delivery["headers"]["Content-Type"] == "application/json"
    body = delivery["body"]
    assert set(body) == {"eventName", "eventData"}
    assert body["eventName"] == event
    assert set(body["eventData"]) == _event_data_keys(event)
    _assert_fully_rendered(body)


def test_sample_overrides_change_the_delivered_data(api, capture):
    _import(api, "chatLabelsUpdated", capture.url)
    _import(api, "messageStatusChanged", capture.url)

    api.control(
        "POST",
        "fire",
        {
            "eventName": "chatLabelsUpdated",
            "sample": {"chat": {"title": "Ada"}, "addedLabels": ["x"]},
        },
    )
    api.control(
        "POST", "fire", {"eventName": "messageStatusChanged", "sample": {"messageStatus": 2}}
    )

    labels, status = capture.bodies()
    assert labels["eventData"]["chat"]["title"] == "Ada"
    assert labels["eventData"]["chat"]["_id"]  # the rest of the sample chat is kept
    assert labels["eventData"]["addedLabels"] == ["x"]
    assert status["eventData"]["messageStatus"] == 2


def test_every_active_scenario_sending_that_event_fires_and_only_those(api, capture):
    first = _import(api, "chatPending", f"{capture.url}/a")
    _import(api, "chatPending", capture.url, asStatus="inactive")
    _import(api, "chatPending", capture.url, asStatus="draft")
    _import(api, "chatResolved", capture.url)
    second = _import(api, "chatPending", f"{capture.url}/b")

    fired = api.control("POST", "fire", {"eventName": "chatPending"}).json()["fired"]

    assert [f["scenarioId"] for f in fired] == [first, second]
    assert sorted(r["path"] for r in capture.received) == ["/a", "/b"]


def test_a_successful_delivery_is_recorded_as_a_run(api, capture):
    scenario_id = _import(api, "chatResolved", capture.url)
    api.control("POST", "fire", {"eventName": "chatResolved"})

    response = api.runs(scenario_id)

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    [run] = body["runs"]
    assert run["scenarioId"] == scenario_id
    assert run["version"] == 1
    assert run["success"] is True
    assert run["conditionsResult"] is True
    assert isinstance(run["started"], int)
    assert isinstance(run["executionTime"], int)
    event_step, action_step = run["steps"]
    assert event_step["type"] == "event"
    assert event_step["name"] == "domain.chat.resolved"
    assert action_step["type"] == "action"
    assert action_step["name"] == "request"
    assert action_step["output"] == {"status": 200}
    assert "error" not in action_step


def test_a_non_2xx_answer_is_a_failed_run(api, capture):
    capture.status = 503
    scenario_id = _import(api, "chatResolved", capture.url)

    [result] = api.control("POST", "fire", {"eventName": "chatResolved"}).json()["fired"]
    [run] = api.runs(scenario_id).json()["runs"]

    assert result["success"] is False
    assert result["status"] == 503
    assert "503" in result["error"]
    assert run["success"] is False
    assert run["steps"][1]["output"] == {"status": 503}
    assert "503" in run["steps"][1]["error"]


def test_an_unreachable_receiver_is_a_failed_run(api, refused_port):
    scenario_id = _import(api, "chatResolved", f"http://127.0.0.1:{refused_port}/hook")

    [result] = api.control("POST", "fire", {"eventName": "chatResolved"}).json()["fired"]
    [run] = api.runs(scenario_id).json()["runs"]

    assert result["success"] is False
    assert result["status"] is None
    assert "request failed" in result["error"]
    assert run["success"] is False
    assert "output" not in run["steps"][1]
    assert "request failed" in run["steps"][1]["error"]


def test_runs_are_listed_newest_first(api, capture):
    scenario_id = _import(api, "chatResolved", capture.url)
    capture.status = 500
    api.control("POST", "fire", {"eventName": "chatResolved"})
    capture.status = 200
    api.control("POST", "fire", {"eventName": "chatResolved"})

    runs = api.runs(scenario_id).json()["runs"]

    assert [r["success"] for r in runs] == [True, False]


def test_an_unresolvable_reference_fails_the_run_without_posting(sim, api, capture):
    body = filled_template("chatPending", capture.url)
    body["data"]["actions"][0]["params"]["data"]["eventData"]["extra"] = {
        "##provide": {"provider": "chat", "key": "noSuchField"}
    }
    scenario_id = api.import_(body).json()["_id"]

    [result] = api.control("POST", "fire", {"eventName": "chatPending"}).json()["fired"]

    assert result["success"] is False
    assert "noSuchField" in result["error"]
    assert capture.received == []
    assert sim.runs(scenario_id)[0]["success"] is False


def test_an_invalid_fire_request_is_400_naming_the_field(api):
    response = api.control("POST", "fire", {"eventName": "x", "sample": []})

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("sample:")


# The documented Scenario Run (docs/texter-api.md, "Scenario Run"): a step per loader,
# condition and action, in the order they ran; `output` only when recorded.


def test_a_run_has_a_step_per_loader_condition_and_action(api, capture):
    # messageFailed: two condition groups of one condition each, an afterConditions loader.
    template = load_template("messageFailed")["data"]
    scenario_id = _import(api, "messageFailed", capture.url)
    api.control("POST", "fire", {"eventName": "messageFailed"})

    [run] = api.runs(scenario_id).json()["runs"]

    assert run["conditionsResult"] is True
    assert [step["type"] for step in run["steps"]] == [
        "event",
        "condition",
        "condition",
        "loader",
        "action",
    ]
    conditions = [s for s in run["steps"] if s["type"] == "condition"]
    assert [(s["groupIndex"], s["index"], s["result"]) for s in conditions] == [
        (0, 0, True),
        (1, 0, True),
    ]
    assert [s["name"] for s in conditions] == [g[0]["name"] for g in template["conditions"]]
    [loader] = [s for s in run["steps"] if s["type"] == "loader"]
    assert loader["position"] == "afterConditions"
    assert loader["index"] == 0
    assert loader["name"] == template["loaders"]["afterConditions"][0]["name"]
    assert all(isinstance(step["executionTime"], int) for step in run["steps"])


def test_a_before_conditions_loader_comes_before_the_conditions(api, capture):
    scenario_id = _import(api, "newMessage", capture.url)
    api.control("POST", "fire", {"eventName": "newMessage"})

    [run] = api.runs(scenario_id).json()["runs"]

    assert [(s["type"], s.get("position")) for s in run["steps"]] == [
        ("event", None),
        ("loader", "beforeConditions"),
        ("action", None),
    ]


def test_conditions_that_fail_filter_the_event_out(api, capture):
    scenario_id = _import(api, "messageFailed", capture.url)

    [result] = api.control(
        "POST", "fire", {"eventName": "messageFailed", "conditionsResult": False}
    ).json()["fired"]
    [run] = api.runs(scenario_id).json()["runs"]

    assert capture.received == []
    assert result["success"] is True
    assert result["status"] is None
    assert run["success"] is True
    assert run["conditionsResult"] is False
    # Each group stops at its first failing condition; no loader after them, no action.
    assert [(s["type"], s.get("result")) for s in run["steps"]] == [
        ("event", None),
        ("condition", False),
        ("condition", False),
    ]


def test_conditions_result_must_be_a_boolean(api):
    response = api.control("POST", "fire", {"eventName": "chatAssigned", "conditionsResult": 0})

    assert response.status_code == 400
    assert "conditionsResult" in response.text


def test_runs_leave_out_the_output_when_it_is_not_recorded(make_simulator, capture):
    api = Api(make_simulator(record_action_output=False))
    try:
        capture.status = 503
        scenario_id = _import(api, "chatResolved", capture.url)

        [result] = api.control("POST", "fire", {"eventName": "chatResolved"}).json()["fired"]
        [run] = api.runs(scenario_id).json()["runs"]
    finally:
        api.close()

    assert result["status"] == 503  # the control reply still says what the receiver answered
    action = run["steps"][-1]
    assert action["type"] == "action"
    assert "output" not in action
    assert "503" in action["error"]
    assert run["success"] is False
