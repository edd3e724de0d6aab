"""The API route table (paths relative to ``/server/api/v2``) and how a request finds its route."""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator import scopes
from simulator.errors import ApiError

_ID = r"(?P<id>[^/]+)"


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    pattern: re.Pattern[str]
    scopes: tuple[str, ...]
    query_params: tuple[str, ...] = ()


ROUTES: tuple[Route, ...] = (
    Route(
        "import",
        "POST",
        re.compile(r"/scenarios/manage/import"),
        (scopes.CREATE, scopes.MANAGE_ON_BEHALF),
    ),
    Route(
        "list",
        "GET",
        re.compile(r"/scenarios/manage"),
        (scopes.VIEW, scopes.MANAGE_ON_BEHALF),
        query_params=("includeSystem",),
    ),
    Route(
        "activate",
        "POST",
        re.compile(rf"/scenarios/manage/{_ID}/activate"),
        (scopes.ACTIVATE, scopes.MANAGE_ON_BEHALF),
    ),
    Route(
        "inactivate",
        "POST",
        re.compile(rf"/scenarios/manage/{_ID}/inactivate"),
        (scopes.ACTIVATE, scopes.MANAGE_ON_BEHALF),
    ),
    Route(
        "delete",
        "DELETE",
        re.compile(rf"/scenarios/manage/{_ID}"),
        (scopes.DELETE, scopes.MANAGE_ON_BEHALF),
    ),
    Route(
        "runs",
        "GET",
        re.compile(rf"/scenarios/manage/{_ID}/runs"),
        (scopes.VIEW_RUNS, scopes.MANAGE_ON_BEHALF),
    ),
    Route(
        "copy",
        "POST",
        re.compile(rf"/scenarios/manage/{_ID}/copy"),
        (scopes.CREATE, scopes.MANAGE_ON_BEHALF),
    ),
)
ROUTE_NAMES: tuple[str, ...] = tuple(route.name for route in ROUTES)


def match(
    method: str, path: str, routes: tuple[Route, ...] = ROUTES
) -> tuple[Route, dict[str, str]]:
    """The route for ``method path``; 404 when no path matches, 405 (with Allow) otherwise.

    Literal routes are listed before parameterised ones, so ``POST /scenarios/manage/import``
    is an import, while ``DELETE /scenarios/manage/import`` is a delete of id "import".
    """
    allowed: list[str] = []
    for route in routes:
        found = route.pattern.fullmatch(path)
        if found is None:
            continue
        if route.method == method:
            return route, found.groupdict()
        if route.method not in allowed:
            allowed.append(route.method)
    if allowed:
        raise ApiError(
            405,
            f"method {method} is not allowed on {path}; allowed: {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )
    raise ApiError(404, f"no such endpoint: {method} {path}")
