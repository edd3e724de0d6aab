"""Route templates with two path parameters (`{id}` and `{version}`) and their overrides."""

from __future__ import annotations

import pytest

from simulator.errors import ApiError
from simulator.routes import ROUTES, build_routes, compile_path, match


def test_each_placeholder_matches_one_segment_by_name():
    pattern = compile_path("/scenarios/manage/{id}/revisions/{version}")

    found = pattern.fullmatch("/scenarios/manage/abc/revisions/12")

    assert found is not None
    assert found.groupdict() == {"id": "abc", "version": "12"}
    assert pattern.fullmatch("/scenarios/manage/abc/revisions/1/2") is None


def test_delete_revision_is_matched_with_both_parameters():
    route, params = match("DELETE", "/scenarios/manage/abc/revisions/3")

    assert route.name == "delete_revision"
    assert route.placeholders == ("id", "version")
    assert params == {"id": "abc", "version": "3"}


def test_the_revisions_path_allows_post_and_the_version_path_delete_only():
    with pytest.raises(ApiError) as revisions:
        match("GET", "/scenarios/manage/abc/revisions")
    with pytest.raises(ApiError) as version:
        match("POST", "/scenarios/manage/abc/revisions/3")

    assert revisions.value.headers == {"Allow": "POST"}
    assert version.value.headers == {"Allow": "DELETE"}


def test_the_new_routes_need_edit_and_manage_on_behalf():
    scopes = {route.name: route.scopes for route in ROUTES}

    for name in ("update_draft", "create_revision", "delete_revision"):
        assert scopes[name] == ("edit", "manage_on_behalf"), name


def test_an_override_may_put_the_parameters_in_any_order():
    routes = build_routes({"delete_revision": "/revisions/{version}/of/{id}"})

    route, params = match("DELETE", "/revisions/4/of/abc", routes)

    assert route.name == "delete_revision"
    assert params == {"id": "abc", "version": "4"}


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        ({"delete_revision": "/scenarios/manage/{id}/revisions"}, "exactly one {version}"),
        ({"delete_revision": "/revisions/{version}/{version}/{id}"}, "exactly one {version}"),
        ({"delete_revision": "/revisions/{version}"}, "exactly one {id}"),
        ({"runs": "/scenarios/manage/{id}/runs/{version}"}, "no {version}"),
        ({"list": "/scenarios/{id}"}, "no {id}"),
        ({"delete_revision": "/r/{id}/{rev}"}, "placeholder(s) its path may hold: {id}, {version}"),
        ({"list": "/scenarios/{all}"}, "placeholder(s) its path may hold: none"),
        (
            {"update_draft": "/scenarios/manage/{id}/copy"},
            "routes 'copy' and 'update_draft' would both answer",
        ),
    ],
    ids=[
        "no-version",
        "two-versions",
        "no-id",
        "version-elsewhere",
        "id-on-list",
        "unknown-placeholder",
        "placeholder-on-list",
        "clash",
    ],
)
def test_bad_overrides_are_refused_naming_the_problem(paths, message):
    with pytest.raises(ValueError) as raised:  # noqa: PT011 - the message is checked below
        build_routes(paths)

    assert message in str(raised.value)
