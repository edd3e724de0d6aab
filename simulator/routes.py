"""The API route table (paths relative to ``/server/api/v2``) and how a request finds its route.

Paths are written as templates with an ``{id}`` placeholder for the scenario id and, on
delete_revision, a ``{version}`` placeholder for the revision number; each stands for one path
segment. The table can be served with other paths (``SimulatorConfig.route_paths``), so a
tool that must notice when Texter's routes are not the ones the client assumes can be tested
against a simulator that serves different ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property

from simulator import scopes
from simulator.errors import ApiError

# The names a path template may hold as ``{name}``; handlers read them from ``path_params``.
PLACEHOLDERS: tuple[str, ...] = ("id", "version")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str  # template, e.g. /scenarios/manage/{id}/activate
    scopes: tuple[str, ...]
    query_params: tuple[str, ...] = ()

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return compile_path(self.path)

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The placeholder names of the path, in path order (``("id", "version")``)."""
        return placeholders_of(self.path)


def placeholders_of(path: str) -> tuple[str, ...]:
    return tuple(_PLACEHOLDER.findall(path))


def compile_path(path: str) -> re.Pattern[str]:
    """The regular expression matching a path template; each placeholder is one path segment."""
    pattern, end = "", 0
    for found in _PLACEHOLDER.finditer(path):
        pattern += re.escape(path[end : found.start()]) + f"(?P<{found.group(1)}>[^/]+)"
        end = found.end()
    return re.compile(pattern + re.escape(path[end:]))


ROUTES: tuple[Route, ...] = (
    Route("import", "POST", "/scenarios/manage/import", (scopes.CREATE, scopes.MANAGE_ON_BEHALF)),
    Route(
        "list",
        "GET",
        "/scenarios/manage",
        (scopes.VIEW, scopes.MANAGE_ON_BEHALF),
        query_params=("includeSystem",),
    ),
    Route(
        "activate",
        "POST",
        "/scenarios/manage/{id}/activate",
        (scopes.ACTIVATE, scopes.MANAGE_ON_BEHALF),
    ),
    Route(
        "inactivate",
        "POST",
        "/scenarios/manage/{id}/inactivate",
        (scopes.ACTIVATE, scopes.MANAGE_ON_BEHALF),
    ),
    Route("delete", "DELETE", "/scenarios/manage/{id}", (scopes.DELETE, scopes.MANAGE_ON_BEHALF)),
    Route(
        "runs", "GET", "/scenarios/manage/{id}/runs", (scopes.VIEW_RUNS, scopes.MANAGE_ON_BEHALF)
    ),
    Route("copy", "POST", "/scenarios/manage/{id}/copy", (scopes.CREATE, scopes.MANAGE_ON_BEHALF)),
    Route(
        "update_draft",
        "POST",
        "/scenarios/manage/{id}/draft",
        (scopes.EDIT, scopes.MANAGE_ON_BEHALF),
    ),
    Route(
        "create_revision",
        "POST",
        "/scenarios/manage/{id}/revisions",
        (scopes.EDIT, scopes.MANAGE_ON_BEHALF),
    ),
    Route(
        "delete_revision",
        "DELETE",
        "/scenarios/manage/{id}/revisions/{version}",
        (scopes.EDIT, scopes.MANAGE_ON_BEHALF),
    ),
)
ROUTE_NAMES: tuple[str, ...] = tuple(route.name for route in ROUTES)


def build_routes(paths: Mapping[str, str] | None = None) -> tuple[Route, ...]:
    """The route table with some paths replaced (route name -> path template).

    Raises ValueError naming the problem: an unknown route name, a path that is not a
    template this table can serve, or two routes left answering the same method and path.
    """
    overrides = dict(paths or {})
    unknown = sorted(set(overrides) - set(ROUTE_NAMES))
    if unknown:
        raise ValueError(
            f"unknown route name(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(ROUTE_NAMES)}"
        )
    routes = tuple(
        replace(route, path=_checked_path(route, overrides[route.name]))
        if route.name in overrides
        else route
        for route in ROUTES
    )
    _refuse_clashes(routes)
    return routes


def _checked_path(route: Route, path: str) -> str:
    where = f"route {route.name!r}"
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"{where}: the path must start with '/', got {path!r}")
    if any(ch.isspace() or ch in "?#" for ch in path):
        raise ValueError(f"{where}: the path must not contain whitespace, '?' or '#': {path!r}")
    if "{" in _PLACEHOLDER.sub("", path) or "}" in _PLACEHOLDER.sub("", path):
        allowed = ", ".join(f"{{{name}}}" for name in route.placeholders) or "none"
        raise ValueError(f"{where}: the only placeholder(s) its path may hold: {allowed}: {path!r}")
    # The handlers read each parameter from the path, so every placeholder count is fixed.
    found = placeholders_of(path)
    for name in PLACEHOLDERS:
        wanted = 1 if name in route.placeholders else 0
        if found.count(name) != wanted:
            needs = f"exactly one {{{name}}}" if wanted else f"no {{{name}}}"
            raise ValueError(f"{where}: the path needs {needs}: {path!r}")
    return path


def _refuse_clashes(routes: tuple[Route, ...]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for route in routes:
        key = (route.method, route.path)
        if key in seen:
            raise ValueError(
                f"routes {seen[key]!r} and {route.name!r} would both answer "
                f"{route.method} {route.path}"
            )
        seen[key] = route.name


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
