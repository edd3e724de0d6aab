"""Route matching."""

from __future__ import annotations

import pytest

from simulator.errors import ApiError
from simulator.routes import ROUTES, build_routes, match

ID = "0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("method", "path", "name", "params"),
    [
        ("POST", "/scenarios/manage/import", "import", {}),
        ("GET", "/scenarios/manage", "list", {}),
        ("POST", f"/scenarios/manage/{ID}/activate", "activate", {"id": ID}),
        ("POST", f"/scenarios/manage/{ID}/inactivate", "inactivate", {"id": ID}),
        ("DELETE", f"/scenarios/manage/{ID}", "delete", {"id": ID}),
        ("GET", f"/scenarios/manage/{ID}/runs", "runs", {"id": ID}),
        ("POST", f"/scenarios/manage/{ID}/copy", "copy", {"id": ID}),
        ("DELETE", "/scenarios/manage/import", "delete", {"id": "import"}),
    ],
)
def test_routes_match_with_their_parameters(method, path, name, params):
    route, found = match(method, path)

    assert (route.name, found) == (name, params)


def test_a_known_path_with_another_method_is_405_listing_the_allowed_ones():
    with pytest.raises(ApiError) as raised:
        match("GET", "/scenarios/manage/import")

    assert raised.value.status == 405
    assert raised.value.headers == {"Allow": "POST, DELETE"}


def test_an_unknown_path_is_404():
    with pytest.raises(ApiError) as raised:
        match("GET", f"/scenarios/manage/{ID}/revisions")

    assert raised.value.status == 404


def test_an_overridden_route_is_served_at_its_new_path_only():
    routes = build_routes({"inactivate": "/scenarios/manage/{id}/pause"})

    route, found = match("POST", f"/scenarios/manage/{ID}/pause", routes)
    with pytest.raises(ApiError) as raised:
        match("POST", f"/scenarios/manage/{ID}/inactivate", routes)

    assert (route.name, found) == ("inactivate", {"id": ID})
    assert raised.value.status == 404
    # The other routes keep their paths.
    assert match("POST", f"/scenarios/manage/{ID}/activate", routes)[0].name == "activate"


def test_no_override_is_the_default_table():
    assert build_routes(None) == build_routes({}) == ROUTES


def test_literal_characters_in_an_overridden_path_are_not_regex():
    routes = build_routes({"list": "/scenarios/manage.all"})

    assert match("GET", "/scenarios/manage.all", routes)[0].name == "list"
    with pytest.raises(ApiError):
        match("GET", "/scenarios/manageXall", routes)


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        ({"pause": "/scenarios/manage/{id}/pause"}, "unknown route name(s) 'pause'; known: import"),
        ({"inactivate": "scenarios/manage/{id}/pause"}, "must start with '/'"),
        ({"inactivate": "/scenarios/manage/pause"}, "exactly one {id}"),
        ({"delete": "/scenarios/{id}/manage/{id}"}, "exactly one {id}"),
        ({"list": "/scenarios/{id}"}, "no {id}"),
        ({"runs": "/scenarios/{scenarioId}/runs"}, "only placeholder"),
        ({"runs": "/scenarios/{id}/runs?all=1"}, "must not contain"),
        ({"inactivate": "/scenarios/manage/{id}/activate"}, "'activate' and 'inactivate'"),
    ],
)
def test_bad_overrides_are_refused_naming_the_problem(paths, message):
    with pytest.raises(ValueError) as raised:  # noqa: PT011 - the message is checked below
        build_routes(paths)

    assert message in str(raised.value)
