"""The scenario endpoints: authentication, authorisation, input checks, then the change."""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from simulator import draft_ops, revisions
from simulator.auth import authenticate, authorize
from simulator.config import SimulatorConfig
from simulator.errors import ApiError
from simulator.ids import is_object_id, now_ms
from simulator.import_body import NAME_MAX, validate_import
from simulator.messages import ApiRequest, Response, plain_ok
from simulator.routes import Route
from simulator.store import ScenarioStore, not_found
from simulator.validation import (
    Problems,
    check_positive_int,
    check_string,
    check_unknown_keys,
    find_placeholders,
    parse_json,
    require_object,
)

Handler = Callable[[ApiRequest], Response]

# Delete Revision's documented pattern for its `version` path parameter (S9), capped so the
# number stays a number any JSON reader holds exactly.
VERSION_PARAM = re.compile(r"[0-9]{1,15}")
# A change note; Texter documents no limit, so the description's is borrowed.
REVISION_COMMENT_MAX = 2000


class ScenarioApi:
    def __init__(
        self, store: ScenarioStore, config: SimulatorConfig, tokens: Mapping[str, frozenset[str]]
    ) -> None:
        self._store = store
        self._config = config
        self._tokens = tokens
        self._handlers: dict[str, Handler] = {
            "import": self._import,
            "list": self._list,
            "activate": self._activate,
            "inactivate": self._inactivate,
            "delete": self._delete,
            "runs": self._runs,
            "copy": self._copy,
            "update_draft": self._update_draft,
            "create_revision": self._create_revision,
            "delete_revision": self._delete_revision,
        }

    def handle(self, route: Route, request: ApiRequest) -> Response:
        """Answer one routed request; every failure becomes a Texter-shaped error response."""
        try:
            granted = authenticate(request.header("Authorization"), self._tokens)
            authorize(granted, route.scopes)
            self._check_query(route, request)
            if "id" in request.path_params:
                self._check_id(request.path_params["id"])
            if "version" in request.path_params:
                _check_version(request.path_params["version"])
            return self._handlers[route.name](request)
        except ApiError as err:
            return Response(err.status, err.body(), err.headers)
        except Exception:
            # A simulator bug: answer like a failing server and leave the trace for the developer.
            traceback.print_exc(file=sys.stderr)
            return Response(500, ApiError(500, "internal simulator error").body())

    def _check_query(self, route: Route, request: ApiRequest) -> None:
        if self._config.lenient_query:
            return
        problems = Problems()
        for name, values in request.query.items():
            if name not in route.query_params:
                problems.add(f"query.{name}", "unknown query parameter")
            elif len(values) > 1:
                problems.add(f"query.{name}", "given more than once")
        problems.raise_if_any()

    def _check_id(self, scenario_id: str) -> None:
        if is_object_id(scenario_id):
            return
        if self._config.malformed_id_status == 404:
            raise not_found(scenario_id)
        raise ApiError(400, "scenarioId: must be a 24-character hexadecimal id")

    def _author(self, body: Mapping[str, Any]) -> str:
        author = body.get("authorUid")
        return author if isinstance(author, str) else self._config.default_author_uid

    def _body(
        self, request: ApiRequest, allowed: tuple[str, ...], *, required: bool
    ) -> dict[str, Any]:
        raw = parse_json(request.body, request.header("Content-Type"), required=required)
        body = {} if raw is None else require_object(raw)
        problems = Problems()
        body = check_unknown_keys(body, allowed, "", problems, lenient=self._config.lenient_import)
        check_string(body, "authorUid", "", problems, required=False, non_blank=True)
        problems.raise_if_any()
        return body

    def _import(self, request: ApiRequest) -> Response:
        raw = parse_json(request.body, request.header("Content-Type"), required=True)
        parsed = validate_import(raw, lenient=self._config.lenient_import)
        author = parsed.author_uid or self._config.default_author_uid
        scenario = revisions.imported_scenario(
            parsed.data, parsed.as_status, author=author, now=now_ms()
        )
        return Response(201, self._store.add(scenario))

    def _list(self, request: ApiRequest) -> Response:
        flag = request.query.get("includeSystem", ["false"])[-1]
        if flag not in ("true", "false"):
            raise ApiError(400, "query.includeSystem: must be true or false")
        scenarios = self._store.scenarios(include_system=flag == "true")
        return Response(200, {"total": len(scenarios), "scenarios": scenarios})

    def _activate(self, request: ApiRequest) -> Response:
        body = self._body(request, ("version", "authorUid"), required=False)
        problems = Problems()
        check_positive_int(body, "version", "", problems, required=False)
        problems.raise_if_any()
        author, version = self._author(body), body.get("version")
        scenario = self._store.update(
            request.path_params["id"],
            lambda s: revisions.activate(
                s,
                version,
                author=author,
                now=now_ms(),
                idempotent=self._config.idempotent_toggles,
            ),
        )
        return self._changed(Response(200, scenario))

    def _inactivate(self, request: ApiRequest) -> Response:
        self._body(request, ("authorUid",), required=False)
        scenario = self._store.update(
            request.path_params["id"],
            lambda s: revisions.inactivate(s, idempotent=self._config.idempotent_toggles),
        )
        return self._changed(Response(200, scenario))

    def _delete(self, request: ApiRequest) -> Response:
        scenario_id = request.path_params["id"]
        self._store.delete(scenario_id)
        return self._changed(Response(200, {"_id": scenario_id, "deleted": True}))

    def _changed(self, response: Response) -> Response:
        """The success answer of activate/inactivate/delete(_revision) in the configured reading."""
        return plain_ok() if self._config.plain_ok_replies else response

    def _runs(self, request: ApiRequest) -> Response:
        runs = self._store.runs(request.path_params["id"])
        return Response(200, {"total": len(runs), "runs": runs})

    def _copy(self, request: ApiRequest) -> Response:
        body = self._body(request, ("fromVersion", "newName", "authorUid"), required=True)
        problems = Problems()
        check_positive_int(body, "fromVersion", "", problems, required=True)
        check_string(body, "newName", "", problems, required=True, max_len=NAME_MAX, non_blank=True)
        for path, placeholder in find_placeholders(body.get("newName"), "newName"):
            problems.add(path, f"contains the unfilled placeholder {placeholder}")
        problems.raise_if_any()
        source = self._store.require(request.path_params["id"])
        scenario = revisions.copied_scenario(
            source, body["fromVersion"], body["newName"], author=self._author(body), now=now_ms()
        )
        return Response(201, self._store.add(scenario))

    def _update_draft(self, request: ApiRequest) -> Response:
        body = self._body(request, ("operations", "authorUid"), required=True)
        operations = draft_ops.parse_operations(body, lenient=self._config.lenient_import)
        author = self._author(body)
        scenario = self._store.update(
            request.path_params["id"],
            lambda s: revisions.update_draft(s, operations, author=author, now=now_ms()),
        )
        return Response(200, scenario)

    def _create_revision(self, request: ApiRequest) -> Response:
        body = self._body(request, ("revisionComment", "authorUid"), required=False)
        problems = Problems()
        check_string(
            body, "revisionComment", "", problems, required=False, max_len=REVISION_COMMENT_MAX
        )
        problems.raise_if_any()
        comment, author = body.get("revisionComment", ""), self._author(body)
        scenario = self._store.update(
            request.path_params["id"],
            lambda s: revisions.create_revision(s, comment, author=author, now=now_ms()),
        )
        return Response(201, scenario)

    def _delete_revision(self, request: ApiRequest) -> Response:
        version = int(request.path_params["version"])
        scenario = self._store.update(
            request.path_params["id"], lambda s: revisions.delete_revision(s, version)
        )
        return self._changed(Response(200, scenario))


def _check_version(version: str) -> None:
    if VERSION_PARAM.fullmatch(version) is None:
        raise ApiError(400, "version: must be a revision number (1 to 15 digits)")
