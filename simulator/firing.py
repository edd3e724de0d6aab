"""``POST /_sim/fire``: deliver an event to every active subscription and record its run.

Conditions and loaders are not evaluated: every active scenario whose request action sends
the fired ``eventName`` delivers, which is what a receiver test wants (see README). The run
still has the steps of Texter's documented Scenario Run (docs/texter-api.md §6): one per loader,
condition, action and loop of the revision. ``conditionsResult: false`` in the fire request
records the conditions as failed instead: a filtered run, success and no delivery.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from simulator.ids import new_object_id, now_ms
from simulator.import_body import HEADER_VALUE_MAX, is_header_value
from simulator.render import RenderError, render
from simulator.revisions import Revision
from simulator.samples import entities_for
from simulator.store import ScenarioStore
from simulator.validation import (
    Problems,
    check_string,
    check_unknown_keys,
    key_path,
    require_object,
)

Poster = Callable[..., requests.Response]


@dataclass(frozen=True)
class FireRequest:
    event_name: str
    sample: dict[str, Any] | None = None
    trigger_event: str | None = None
    # False: the revision's conditions are recorded as failed (the event is filtered out).
    conditions_pass: bool = True


def parse_fire_request(body: Any) -> FireRequest:
    problems = Problems()
    obj = require_object(body)
    known = ("eventName", "sample", "triggerEvent", "conditionsResult")
    check_unknown_keys(obj, known, "", problems, lenient=False)
    check_string(obj, "eventName", "", problems, required=True, non_blank=True)
    check_string(obj, "triggerEvent", "", problems, required=False, non_blank=True)
    if "sample" in obj and not isinstance(obj["sample"], dict):
        problems.add("sample", "must be a JSON object")
    if "conditionsResult" in obj and not isinstance(obj["conditionsResult"], bool):
        problems.add("conditionsResult", "must be a boolean")
    problems.raise_if_any()
    return FireRequest(
        obj["eventName"],
        obj.get("sample"),
        obj.get("triggerEvent"),
        obj.get("conditionsResult", True),
    )


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


@dataclass(frozen=True)
class _Outgoing:
    """One rendered webhook request, and the header values no record may quote."""

    method: str
    url: str
    payload: Any
    headers: dict[str, str]
    secrets: tuple[str, ...]


def _outgoing(params: dict[str, Any], entities: dict[str, Any]) -> _Outgoing:
    """The request an action sends; RenderError, with the run's error text, when it cannot."""
    try:
        payload = render(params.get("data", {}), entities, path="params.data")
    except RenderError as exc:
        raise RenderError(f"cannot render the request body: {exc}") from None
    given = params.get("headers")
    given = given if isinstance(given, dict) else {}
    headers = {name: _rendered_header(name, value, entities) for name, value in given.items()}
    return _Outgoing(
        method=str(params.get("method", "post")).upper(),
        url=str(params.get("url", "")),
        payload=payload,
        headers=headers,
        secrets=tuple(_secret_parts([*map(str, given.values()), *headers.values()])),
    )


def _secret_parts(values: Iterable[str]) -> Iterator[str]:
    """Each value, and the credentials of a ``<scheme> <credentials>`` one (Authorization):
    the credentials may show up elsewhere alone, e.g. in a URL an error text quotes."""
    for value in values:
        yield value
        credentials = value.partition(" ")[2].strip()
        if credentials:
            yield credentials


def _rendered_header(name: str, value: Any, entities: dict[str, Any]) -> str:
    """A header value with its references resolved, like the body's strings.

    The errors name the header only: a render error quotes the reference, and so a part of
    the value, which may be a secret.
    """
    path = key_path("params.headers", name)
    try:
        rendered = render(value, entities, path=path)
    except RenderError:
        raise RenderError(
            f"cannot render the request headers: {path}: a reference does not resolve"
        ) from None
    # A whole-string reference keeps its JSON type; a header needs text, as embedded ones get.
    text = rendered if isinstance(rendered, str) else json.dumps(rendered)
    if len(text) > HEADER_VALUE_MAX or not is_header_value(text):
        raise RenderError(
            f"cannot render the request headers: {path}: the rendered value is not a valid "
            "header value"
        )
    return text


REDACTED = "<redacted>"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced, longest first (so a secret
    holding a shorter one goes whole)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _elapsed_ms(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _loader_steps(revision: Revision, position: str) -> list[dict[str, Any]]:
    loaders = revision.get("loaders")
    found = _items(loaders.get(position)) if isinstance(loaders, dict) else []
    return [
        {
            "type": "loader",
            "name": str(loader.get("name", "")),
            "position": position,
            "index": index,
            "executionTime": 0,
        }
        for index, loader in enumerate(found)
    ]


def _condition_steps(revision: Revision, passed: bool) -> list[dict[str, Any]]:
    """One step per condition; when they fail, each group stops at its first (AND)."""
    steps = []
    groups = revision.get("conditions")
    for group_index, group in enumerate(groups if isinstance(groups, list) else []):
        for index, condition in enumerate(_items(group)):
            steps.append(
                {
                    "type": "condition",
                    "name": str(condition.get("name", "")),
                    "groupIndex": group_index,
                    "index": index,
                    "result": passed,
                    "executionTime": 0,
                }
            )
            if not passed:
                break
    return steps


def _loop_steps(revision: Revision) -> list[dict[str, Any]]:
    # Loops are stored but not run: each is recorded with no iterations.
    return [
        {"type": "loop", "name": "loop", "index": index, "iterations": [], "executionTime": 0}
        for index, _ in enumerate(_items(revision.get("loops")))
    ]


class EventFirer:
    def __init__(
        self,
        store: ScenarioStore,
        timeout_s: float,
        post: Poster = requests.request,
        *,
        record_output: bool = True,
    ) -> None:
        self._store = store
        self._timeout_s = timeout_s
        self._post = post
        # Texter records an action's `output` "when recorded": False leaves it out of runs.
        self._record_output = record_output

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
        steps += _loader_steps(revision, "beforeConditions")
        conditions = _condition_steps(revision, request.conditions_pass)
        steps += conditions
        # With no conditions there is nothing to filter the event out.
        conditions_result = request.conditions_pass or not conditions
        statuses: list[int | None] = []
        if conditions_result:
            steps += _loader_steps(revision, "afterConditions")
            entities = entities_for(request.event_name, started, request.sample)
            for index, action in enumerate(revision.get("actions", [])):
                # Only request actions exist in subscriptions; other kinds are not simulated.
                if isinstance(action, dict) and action.get("name") == "request":
                    params = action.get("params")
                    params = params if isinstance(params, dict) else {}
                    step, status = self._deliver(index, params, entities)
                    steps.append(step)
                    statuses.append(status)
            steps += _loop_steps(revision)
        action_steps = [s for s in steps if s["type"] == "action"]
        failed = [s for s in action_steps if "error" in s]
        reported = action_steps.index(failed[0]) if failed else len(action_steps) - 1
        run = {
            "_id": new_object_id(),
            "scenarioId": scenario_id,
            "version": revision.get("version"),
            "success": not failed,
            "started": started,
            "executionTime": _elapsed_ms(clock),
            "conditionsResult": conditions_result,
            "steps": steps,
        }
        self._store.add_run(run)
        result: dict[str, Any] = {
            "scenarioId": scenario_id,
            "runId": run["_id"],
            "status": statuses[reported] if statuses else None,
            "success": not failed,
        }
        if failed:
            result["error"] = failed[0]["error"]
        return result

    def _deliver(
        self, index: int, params: dict[str, Any], entities: dict[str, Any]
    ) -> tuple[dict[str, Any], int | None]:
        """The action's run step, and the HTTP status the receiver answered (None: none)."""
        clock = time.perf_counter()
        step: dict[str, Any] = {"type": "action", "name": "request", "index": index}
        status: int | None = None
        try:
            outgoing = _outgoing(params, entities)
        except RenderError as exc:
            step["error"] = str(exc)
        else:
            status = self._send(outgoing, step)
        step["executionTime"] = _elapsed_ms(clock)
        return step, status

    def _send(self, outgoing: _Outgoing, step: dict[str, Any]) -> int | None:
        """POST (or whatever the action's method is) and record the outcome in ``step``.

        The given headers go along with the HTTP client's own; one of the same name
        (case-insensitively) replaces the client's.
        """
        try:
            response = self._post(
                outgoing.method,
                outgoing.url,
                json=outgoing.payload,
                headers=outgoing.headers,
                timeout=self._timeout_s,
            )
        except requests.RequestException as exc:
            # An exception's text may quote what was sent: no header value reaches a run.
            step["error"] = redact(f"request failed: {type(exc).__name__}: {exc}", outgoing.secrets)
            return None
        status = response.status_code
        if self._record_output:
            step["output"] = {"status": status}
        if not 200 <= status < 300:
            step["error"] = f"webhook answered HTTP {status}"
        response.close()
        return status
