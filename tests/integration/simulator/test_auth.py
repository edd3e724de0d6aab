"""Bearer authentication (401) and per-endpoint scopes (403), contract §2.

One representative route per rule: every route goes through the same check, with the scopes
of its row in the route table.
"""

from __future__ import annotations

import pytest

from simulator import scopes
from simulator.ids import new_object_id
from tests.integration.simulator.client import ALL_TOKEN, Api
from tests.integration.simulator.templates import filled_template

HOOK = "https://hooks.example.com/hook"


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "missing Authorization header"),
        ("Basic dXNlcjpwdw==", "malformed Authorization header"),
        ("Bearer not-a-known-token", "invalid or revoked API token"),
    ],
    ids=["missing", "not-bearer", "unknown-token"],
)
def test_requests_without_a_valid_token_are_401(sim, authorization, reason):
    headers = {} if authorization is None else {"Authorization": authorization}

    response = Api(sim, token="").import_(filled_template("chatPending", HOOK), headers=headers)

    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) == {"status", "message"}
    assert error["status"] == 401
    assert reason in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "not-a-known-token" not in response.text
    assert sim.scenarios() == []


def test_bearer_scheme_is_case_insensitive(api):
    response = api.list(headers={"Authorization": f"bearer {ALL_TOKEN}"})

    assert response.status_code == 200


def test_a_token_lacking_one_required_scope_is_403_naming_only_that_one(make_simulator):
    server = make_simulator(tokens={"limited": scopes.ALL_SCOPES - {scopes.CREATE}})

    response = Api(server, token="limited").import_(filled_template("chatPending", HOOK))

    assert response.status_code == 403
    message = response.json()["error"]["message"]
    assert scopes.UI_NAMES[scopes.CREATE] in message
    assert scopes.UI_NAMES[scopes.MANAGE_ON_BEHALF] not in message
    assert server.scenarios() == []


def test_a_token_with_no_scopes_lists_every_missing_one(make_simulator):
    api = Api(make_simulator(tokens={"bare": frozenset()}), token="bare")

    message = api.list().json()["error"]["message"]

    assert scopes.UI_NAMES[scopes.VIEW] in message
    assert scopes.UI_NAMES[scopes.MANAGE_ON_BEHALF] in message


def test_exactly_the_required_scopes_are_enough(make_simulator):
    exact = frozenset({scopes.DELETE, scopes.MANAGE_ON_BEHALF})
    server = make_simulator(tokens={"exact": exact, ALL_TOKEN: scopes.ALL_SCOPES})
    created = Api(server, token=ALL_TOKEN).import_(filled_template("chatPending", HOOK)).json()

    response = Api(server, token="exact").delete(created["_id"])

    assert response.status_code == 200, response.text
    assert server.scenarios() == []


def test_scope_check_happens_before_the_scenario_lookup(make_simulator):
    api = Api(make_simulator(tokens={"viewer": frozenset({scopes.VIEW})}), token="viewer")

    assert api.delete(new_object_id()).status_code == 403
