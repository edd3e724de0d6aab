"""Route overrides (`route_paths` / `--route`): what a path may be, and literal matching."""

from __future__ import annotations

import pytest

from simulator.errors import ApiError
from simulator.routes import build_routes, match


def test_literal_characters_in_an_overridden_path_are_not_regex():
    routes = build_routes({"list": "/scenarios/manage.all"})

    assert match("GET", "/scenarios/manage.all", routes)[0].name == "list"
    with pytest.raises(ApiError):
        match("GET", "/scenarios/manageXall", routes)


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        ({"inactivate": "scenarios/manage/{id}/pause"}, "must start with '/'"),
        ({"delete": "/scenarios/{id}/manage/{id}"}, "exactly one {id}"),
        ({"runs": "/scenarios/{scenarioId}/runs"}, "only placeholder"),
        ({"inactivate": "/scenarios/manage/{id}/activate"}, "'activate' and 'inactivate'"),
    ],
    ids=["relative", "id-count", "other-placeholder", "clash"],
)
def test_bad_overrides_are_refused_naming_the_problem(paths, message):
    with pytest.raises(ValueError) as raised:  # noqa: PT011 - the message is checked below
        build_routes(paths)

    assert message in str(raised.value)
