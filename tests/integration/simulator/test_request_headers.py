"""`headers` in request actions (contract §4, S14): what is accepted, what is sent when an event
fires, and that no header value shows in the request log, runs, fire results or messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.simulator.client import Api
from tests.integration.simulator.drafts import error, import_scenario, request_action, update
from tests.integration.simulator.templates import filled_template

HOOK = "https://hooks.example.com/texter/abc123"
SECRET = "Bearer s3cr3t-t0ken-value"
HEADERS_PATH = "data.actions[0].params.headers"


def _with_headers(headers: Any, url: str = HOOK) -> dict[str, Any]:
    body = filled_template("chatPending", url)
    body["data"]["actions"][0]["params"]["headers"] = headers
    return body


def _import(api: Api, headers: Any, url: str = HOOK) -> dict[str, Any]:
    response = api.import_(_with_headers(headers, url))
    assert response.status_code == 201, response.text
    return response.json()


def _named(headers: dict[str, str], name: str) -> list[str]:
    return [value for key, value in headers.items() if key.lower() == name.lower()]


def test_headers_are_accepted_and_stored_as_given(api):
    headers = {"Authorization": SECRET, "X-Empty": "", "X-Tab": "a\tb"}

    scenario = _import(api, headers)

    assert scenario["activeRevision"]["actions"][0]["params"]["headers"] == headers
    listed = api.list().json()["scenarios"][0]["activeRevision"]
    assert listed["actions"][0]["params"]["headers"] == headers


REFUSED = [
    ([], HEADERS_PATH, "must be a JSON object of header names to string values"),
    ({"X-Num": 5}, f"{HEADERS_PATH}.X-Num", "must be a string"),
    ({"Bad Name": "v"}, f"{HEADERS_PATH}.Bad Name", "the name must be an HTTP token"),
    ({"X:Y": "v"}, f"{HEADERS_PATH}.X:Y", "the name must be an HTTP token"),
    ({"": "v"}, f"{HEADERS_PATH}.", "the name must be an HTTP token"),
    ({"Host": "evil.example"}, f"{HEADERS_PATH}.Host", "is set by the HTTP client"),
    ({"content-length": "5"}, f"{HEADERS_PATH}.content-length", "is set by the HTTP client"),
    ({"Transfer-Encoding": "chunked"}, f"{HEADERS_PATH}.Transfer-Encoding", "is set by"),
    ({"X-Split": f"{SECRET}\r\nX-Injected: 1"}, f"{HEADERS_PATH}.X-Split", "must be printable"),
    ({"X-Lead": f" {SECRET}"}, f"{HEADERS_PATH}.X-Lead", "must be printable"),
    ({"X-Utf": f"{SECRET}é"}, f"{HEADERS_PATH}.X-Utf", "must be printable ASCII"),
    ({"X-Long": "a" * 8193}, f"{HEADERS_PATH}.X-Long", "must be at most 8192 characters"),
    ({f"X-{i}": "v" for i in range(51)}, HEADERS_PATH, "must hold at most 50 headers"),
    ({"X-Key": "a", "x-key": "b"}, f"{HEADERS_PATH}.x-key", "is given twice"),
    (
        {"Authorization": "Bearer {{apiToken}}"},
        f"{HEADERS_PATH}.Authorization",
        "contains an unfilled {{...}} placeholder",
    ),
]


@pytest.mark.parametrize(
    ("headers", "path", "expected"),
    REFUSED,
    ids=[
        "not-an-object",
        "not-a-string",
        "space-in-name",
        "colon-in-name",
        "empty-name",
        "host",
        "content-length",
        "transfer-encoding",
        "crlf",
        "leading-space",
        "non-ascii",
        "too-long",
        "too-many",
        "twice",
        "placeholder",
    ],
)
def test_bad_headers_are_400_naming_the_header_but_never_its_value(api, headers, path, expected):
    message = error(api.import_(_with_headers(headers)), 400)

    assert f"{path}: {expected}" in message
    assert "s3cr3t" not in message
    assert "apiToken" not in message
    assert api.list().json()["total"] == 0


def test_the_lenient_reading_still_checks_headers(make_simulator):
    api = Api(make_simulator(lenient_import=True))

    message = error(api.import_(_with_headers({"Host": "x.example"})), 400)

    assert f"{HEADERS_PATH}.Host: is set by the HTTP client" in message


def test_add_action_takes_and_checks_headers_like_an_import(api):
    scenario = import_scenario(api)
    good = request_action()
    good["params"]["headers"] = {"Authorization": SECRET}
    bad = request_action()
    bad["params"]["headers"] = {"X-Split": f"{SECRET}\n"}

    draft = update(api, scenario["_id"], {"addAction": good})["drafts"][0]
    refused = api.update_draft(scenario["_id"], {"operations": [{"addAction": bad}]})

    assert draft["actions"][-1]["params"]["headers"] == {"Authorization": SECRET}
    message = error(refused, 400)
    assert message.startswith("operations[0].addAction.params.headers.X-Split: must be printable")
    assert "s3cr3t" not in message


def test_firing_sends_the_given_headers_besides_the_simulator_s_own(api, capture):
    _import(api, {"Authorization": SECRET, "X-Tenant": "acme"}, capture.url)

    [result] = api.control("POST", "fire", {"eventName": "chatPending"}).json()["fired"]

    assert result["success"] is True
    [delivery] = capture.received
    assert _named(delivery["headers"], "Authorization") == [SECRET]
    assert _named(delivery["headers"], "X-Tenant") == ["acme"]
    assert _named(delivery["headers"], "Content-Type") == ["application/json"]
    assert _named(delivery["headers"], "User-Agent")  # the HTTP client's own stays
    assert delivery["body"]["eventName"] == "chatPending"


def test_a_given_header_replaces_the_default_of_the_same_name_in_any_case(api, capture):
    given = {"user-agent": "texter/1.0", "CONTENT-TYPE": "application/json; charset=utf-8"}
    _import(api, given, capture.url)

    api.control("POST", "fire", {"eventName": "chatPending"})

    [delivery] = capture.received
    assert _named(delivery["headers"], "User-Agent") == ["texter/1.0"]
    assert _named(delivery["headers"], "Content-Type") == ["application/json; charset=utf-8"]
    assert delivery["body"]["eventName"] == "chatPending"


def test_header_values_are_rendered_like_the_body(api, capture):
    headers = {"X-Chat": "chat-%chat:_id%", "X-Labels": "%chat:labels%"}
    _import(api, headers, capture.url)

    api.control("POST", "fire", {"eventName": "chatPending", "sample": {"chat": {"_id": "c-1"}}})

    [delivery] = capture.received
    assert _named(delivery["headers"], "X-Chat") == ["chat-c-1"]
    # A whole-value reference to a list is sent as JSON text.
    assert json.loads(_named(delivery["headers"], "X-Labels")[0]) == ["VIP", "billing"]


def test_a_header_that_cannot_render_fails_the_run_without_quoting_it(api, capture):
    scenario = _import(api, {"Authorization": "Bearer %vault:s3cr3t%"}, capture.url)

    [result] = api.control("POST", "fire", {"eventName": "chatPending"}).json()["fired"]

    assert result["success"] is False
    assert result["error"] == (
        "cannot render the request headers: params.headers.Authorization: "
        "a reference does not resolve"
    )
    assert capture.received == []
    [run] = api.runs(scenario["_id"]).json()["runs"]
    assert "s3cr3t" not in json.dumps(run)


def test_a_header_value_never_shows_in_the_log_runs_or_fire_results(make_simulator, capfd):
    sim = make_simulator(log_requests=True)
    api = Api(sim)
    # Nothing listens on port 9; the secret is also in the URL, which the error text quotes.
    token = "s3cr3t-t0ken-value"
    scenario = _import(api, {"Authorization": f"Bearer {token}"}, f"http://127.0.0.1:9/{token}")

    fired = api.control("POST", "fire", {"eventName": "chatPending"}).json()["fired"]
    runs = api.runs(scenario["_id"]).json()

    [result] = fired
    assert result["success"] is False
    assert result["error"].startswith("request failed: ConnectionError: ")
    assert "<redacted>" in result["error"]
    for record in (fired, runs, sim.request_log(), api.control("GET", "requests").json()):
        assert token not in json.dumps(record)
    out, err = capfd.readouterr()
    assert token not in out + err
    assert "POST /server/api/v2/scenarios/manage/import 201" in err
