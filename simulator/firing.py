"""``POST /_sim/fire``: deliver an event to every active subscription and record its run.

Conditions and loaders are not evaluated: every active scenario whose request action sends
the fired ``eventName`` delivers, which is what a receiver test wants (see README).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from simulator.ids import new_object_id, now_ms
from simulator.render import RenderError, render
from simulator.revisions import Revision
from simulator.samples import entities_for
from simulator.store import ScenarioStore
from simulator.validation import Problems, check_string, check_unknown_keys, require_object

Poster = Callable[..., requests.Response]


@dataclass(frozen=True)
class FireRequest:
    event_name: str
    sample: dict[str, Any] | None = None
    trigger_event: str | None = None


def parse_fire_request(body: Any) -> FireRequest:
    problems = Problems()
    obj = require_object(body)
    check_unknown_keys(obj, ("eventName", "sample", "triggerEvent"), "", problems, lenient=False)
    check_string(obj, "eventName", "", problems, required=True, non_blank=True)
    check_string(obj, "triggerEvent", "", problems, required=False, non_blank=True)
    if "sample" in obj and not isinstance(obj["sample"], dict):
        problems.add("sample", "must be a JSON object")
    problems.raise_if_any()
    return FireRequest(obj["eventName"], obj.get("sample"), obj.get("triggerEvent"))


def _sends(revision: Revision, event_name: str) -> bool:
    for action in revision.get("actions", []):
        if not isinstance(action, dict) or action.get("name") != "request":
            continue
        params = action.get("params")
        if isinstance(params, dict):
            data = params.get("data")
            if isinstance(data, dict) and data.get("eventName") == event_name:
                return True
    return False


def _elapsed_ms(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


class EventFirer:
    def __init__(
        self, store: ScenarioStore, timeout_s: float, post: Poster = requests.request
    ) -> None:
        self._store = store
        self._timeout_s = timeout_s
        self._post = post

    def fire(self, request: FireRequest) -> list[dict[str, Any]]:
        fired = []
        for scenario in self._store.scenarios(include_system=True):
            revision = scenario.get("activeRevision")
            if revision is not None and _sends(revision, request.event_name):
                fired.append(self._run(scenario["_id"], revision, request))
        return fired

    def _run(self, scenario_id: str, revision: Revision, request: FireRequest) -> dict[str, Any]:
        started = now_ms()
        clock = time.perf_counter()
        trigger = request.trigger_event or next(iter(revision.get("triggerEvents", [])), "")
        steps: list[dict[str, Any]] = [{"type": "event", "name": trigger, "executionTime": 0}]
        entities = entities_for(request.event_name, started, request.sample)
        for index, action in enumerate(revision.get("actions", [])):
            # Only request actions exist in subscriptions; other kinds are not simulated.
            if isinstance(action, dict) and action.get("name") == "request":
                params = action.get("params")
                params = params if isinstance(params, dict) else {}
                steps.append(self._deliver(index, params, entities))
        action_steps = [s for s in steps if s["type"] == "action"]
        failed = [s for s in action_steps if "error" in s]
        reported = failed[0] if failed else action_steps[-1]
        run = {
            "_id": new_object_id(),
            "scenarioId": scenario_id,
            "version": revision.get("version"),
            "success": not failed,
            "started": started,
            "executionTime": _elapsed_ms(clock),
            "conditionsResult": True,
            "steps": steps,
        }
        self._store.add_run(run)
        result: dict[str, Any] = {
            "scenarioId": scenario_id,
            "runId": run["_id"],
            "status": reported.get("output", {}).get("status"),
            "success": not failed,
        }
        if failed:
            result["error"] = failed[0]["error"]
        return result

    def _deliver(
        self, index: int, params: dict[str, Any], entities: dict[str, Any]
    ) -> dict[str, Any]:
        clock = time.perf_counter()
        step: dict[str, Any] = {"type": "action", "name": "request", "index": index}
        try:
            payload = render(params.get("data", {}), entities, path="params.data")
            response = self._post(
                str(params.get("method", "post")).upper(),
                str(params.get("url", "")),
                json=payload,
                timeout=self._timeout_s,
            )
        except RenderError as exc:
            step["error"] = f"cannot render the request body: {exc}"
        except requests.RequestException as exc:
            step["error"] = f"request failed: {type(exc).__name__}: {exc}"
        else:
            step["output"] = {"status": response.status_code}
            if not 200 <= response.status_code < 300:
                step["error"] = f"webhook answered HTTP {response.status_code}"
            response.close()
        step["executionTime"] = _elapsed_ms(clock)
        return step
