"""Bearer authentication (401) and per-endpoint scopes (403), contract §2."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from simulator import scopes
from simulator.ids import new_object_id
from tests.integration.simulator.client import ALL_TOKEN, Api
from tests.integration.simulator.templates import filled_template

HOOK = "https://hooks.example.com/hook"

REQUIRED = {
    "import": {scopes.CREATE, scopes.MANAGE_ON_BEHALF},
    "list": {scopes.VIEW, scopes.MANAGE_ON_BEHALF},
    "activate": {scopes.ACTIVATE, scopes.MANAGE_ON_BEHALF},
    "inactivate": {scopes.ACTIVATE, scopes.MANAGE_ON_BEHALF},
    "delete": {scopes.DELETE, scopes.MANAGE_ON_BEHALF},
    "runs": {scopes.VIEW_RUNS, scopes.MANAGE_ON_BEHALF},
    "copy": {scopes.CREATE, scopes.MANAGE_ON_BEHALF},
}


def _call(api: Api, route: str, scenario_id: str, **kwargs: Any) -> requests.Response:
    calls = {
        "import": lambda: api.import_(filled_template("chatPending", HOOK), **kwargs),
        "list": lambda: api.list(**kwargs),
        "activate": lambda: api.activate(scenario_id, **kwargs),
        "inactivate": lambda: api.inactivate(scenario_id, **kwargs),
        "delete": lambda: api.delete(scenario_id, **kwargs),
        "runs": lambda: api.runs(scenario_id, **kwargs),
        "copy": lambda: api.copy(scenario_id, {"fromVersion": 1, "newName": "c"}, **kwargs),
    }
    return calls[route]()


@pytest.mark.parametrize("route", sorted(REQUIRED))
@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "missing Authorization header"),
        ("Basic dXNlcjpwdw==", "malformed Authorization header"),
        ("Bearer", "malformed Authorization header"),
        ("Bearer not-a-known-token", "invalid or revoked API token"),
    ],
)
def test_requests_without_a_valid_token_are_401(sim, route, authorization, reason):
    headers = {} if authorization is None else {"Authorization": authorization}

    response = _call(Api(sim, token=""), route, new_object_id(), headers=headers)

    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) == {"status", "message"}
    assert error["status"] == 401
    assert reason in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "not-a-known-token" not in response.text


def test_bearer_scheme_is_case_insensitive(api):
    response = api.list(headers={"Authorization": f"bearer {ALL_TOKEN}"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("route", "missing"),
    [(route, scope) for route, needed in sorted(REQUIRED.items()) for scope in sorted(needed)],
)
def test_a_token_lacking_one_required_scope_is_403_naming_it(make_simulator, route, missing):
    limited = "limited-token"
    server = make_simulator(tokens={limited: scopes.ALL_SCOPES - {missing}})
    api = Api(server, token=limited)

    response = _call(api, route, new_object_id())

    assert response.status_code == 403
    message = response.json()["error"]["message"]
    assert scopes.UI_NAMES[missing] in message
    others = REQUIRED[route] - {missing}
    assert all(scopes.UI_NAMES[o] not in message for o in others)


@pytest.mark.parametrize("route", sorted(REQUIRED))
def test_exactly_the_required_scopes_are_enough(make_simulator, route):
    exact = "exact-token"
    server = make_simulator(
        tokens={exact: frozenset(REQUIRED[route]), ALL_TOKEN: scopes.ALL_SCOPES}
    )
    admin = Api(server, token=ALL_TOKEN)
    created = admin.import_(filled_template("chatPending", HOOK)).json()

    response = _call(Api(server, token=exact), route, created["_id"])

    assert response.status_code not in (401, 403), response.text


def test_a_token_with_no_scopes_lists_every_missing_one(make_simulator):
    api = Api(make_simulator(tokens={"bare": frozenset()}), token="bare")

    message = api.list().json()["error"]["message"]

    assert scopes.UI_NAMES[scopes.VIEW] in message
    assert scopes.UI_NAMES[scopes.MANAGE_ON_BEHALF] in message


def test_scope_check_happens_before_the_scenario_lookup(make_simulator):
    api = Api(make_simulator(tokens={"viewer": frozenset({scopes.VIEW})}), token="viewer")

    assert api.delete(new_object_id()).status_code == 403
