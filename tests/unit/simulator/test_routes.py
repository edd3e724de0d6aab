"""Route matching."""

from __future__ import annotations

import pytest

from simulator.errors import ApiError
from simulator.routes import match

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
