"""The update path's pure parts: draft transitions never touch their input, and the firer
hands the action's headers to the HTTP call while keeping their values out of runs."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest
import requests

from simulator import draft_ops, revisions
from simulator.errors import ApiError
from simulator.firing import EventFirer, FireRequest, redact
from simulator.store import ScenarioStore

TOKEN = "tok-3f9a7c1e"
DATA: dict[str, Any] = {
    "version": "v1",
    "name": "(SUB) Test",
    "description": "marker: abc",
    "triggerEvents": ["domain.chat.pending"],
    "actions": [
        {
            "name": "request",
            "params": {
                "url": "https://h.example/hook",
                "method": "post",
                "data": {"eventName": "chatPending", "eventData": {}},
                "headers": {"Authorization": f"Bearer {TOKEN}", "X-Chat": "%chat:_id%"},
            },
        }
    ],
}


def _operations(*items: dict[str, Any]) -> list[draft_ops.Operation]:
    return draft_ops.parse_operations({"operations": list(items)}, lenient=False)


def test_transitions_leave_the_scenario_they_are_given_unchanged():
    scenario = revisions.imported_scenario(DATA, "active", author="u", now=1)
    given = copy.deepcopy(scenario)

    drafted = revisions.update_draft(
        scenario, _operations({"rename": "(SUB) B"}), author="u", now=2
    )
    published = revisions.create_revision(drafted, "c", author="u", now=3)
    drafted_copy = copy.deepcopy(drafted)
    trimmed = revisions.delete_revision(
        revisions.activate(published, 2, author="u", now=4, idempotent=False), 1
    )

    assert scenario == given
    assert drafted == drafted_copy
    assert [r["version"] for r in trimmed["inactiveRevisions"]] == []
    assert trimmed["activeRevision"]["name"] == "(SUB) B"


def test_a_refused_batch_raises_before_anything_is_returned():
    scenario = revisions.imported_scenario(DATA, "active", author="u", now=1)
    given = copy.deepcopy(scenario)
    operations = _operations({"rename": "(SUB) B"}, {"removeAction": 3})

    with pytest.raises(ApiError) as raised:
        revisions.update_draft(scenario, operations, author="u", now=2)

    assert raised.value.status == 422
    assert raised.value.message.startswith("operations[1].removeAction: ")
    assert scenario == given


class _Recorder:
    """A stand-in for requests.request: records each call, then answers or raises."""

    def __init__(self, fail: bool) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail = fail

    def __call__(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.calls.append({"method": method, "url": url, **kwargs})
        if self.fail:
            # requests quotes a refused header value in its exception text, like this.
            raise requests.exceptions.InvalidHeader(
                f"Invalid return character in header value: {kwargs['headers']['Authorization']!r}"
            )
        response = requests.Response()
        response.status_code = 204
        response.raw = io.BytesIO()  # what close() releases
        return response


def _fire(fail: bool) -> tuple[_Recorder, dict[str, Any], list[dict[str, Any]]]:
    store = ScenarioStore()
    scenario = store.add(revisions.imported_scenario(DATA, "active", author="u", now=1))
    post = _Recorder(fail)
    fired = EventFirer(store, 1.0, post).fire(FireRequest("chatPending"))
    return post, fired[0], store.runs(scenario["_id"])


def test_the_firer_sends_the_rendered_headers():
    post, result, _ = _fire(fail=False)

    [call] = post.calls
    assert result["success"] is True
    assert call["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert call["headers"]["X-Chat"] == "67bf11038b24880cc966f799"
    assert call["json"] == {"eventName": "chatPending", "eventData": {}}


def test_an_exception_quoting_a_header_value_is_redacted_in_the_run():
    _, result, [run] = _fire(fail=True)

    [step] = [s for s in run["steps"] if s["type"] == "action"]
    assert step["error"] == (
        "request failed: InvalidHeader: Invalid return character in header value: '<redacted>'"
    )
    assert result["error"] == step["error"]
    assert TOKEN not in repr(run)


def test_redact_replaces_the_longest_secret_whole():
    assert redact("a Bearer xyz b xyz", ["xyz", "Bearer xyz"]) == "a <redacted> b <redacted>"
    assert redact("nothing", ["", "zzz"]) == "nothing"
