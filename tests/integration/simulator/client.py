"""A thin requests wrapper for the scenario API and the /_sim/ controls of one simulator."""

from __future__ import annotations

from typing import Any

import requests

from simulator.server import SimulatorServer

MANAGE = "/scenarios/manage"
# The token, with every scope, that the fixtures configure by default.
ALL_TOKEN = "test-token-all-scopes"


class Api:
    def __init__(self, server: SimulatorServer, token: str | None = None) -> None:
        self.server = server
        self.token = token if token is not None else server.token
        self.session = requests.Session()

    def _headers(self, token: str | None) -> dict[str, str]:
        value = token if token is not None else self.token
        # An empty token sends no Authorization header at all.
        return {"Authorization": f"Bearer {value}"} if value else {}

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        all_headers = {**self._headers(token), **(headers or {})}
        return self.session.request(
            method,
            self.server.base_url + path,
            json=json,
            headers=all_headers,
            timeout=10,
            **kwargs,
        )

    def import_(self, body: Any, **kwargs: Any) -> requests.Response:
        return self.call("POST", f"{MANAGE}/import", json=body, **kwargs)

    def list(self, **kwargs: Any) -> requests.Response:
        return self.call("GET", MANAGE, **kwargs)

    def activate(self, scenario_id: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.call("POST", f"{MANAGE}/{scenario_id}/activate", json=body, **kwargs)

    def inactivate(self, scenario_id: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.call("POST", f"{MANAGE}/{scenario_id}/inactivate", json=body, **kwargs)

    def delete(self, scenario_id: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", f"{MANAGE}/{scenario_id}", **kwargs)

    def runs(self, scenario_id: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", f"{MANAGE}/{scenario_id}/runs", **kwargs)

    def copy(self, scenario_id: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.call("POST", f"{MANAGE}/{scenario_id}/copy", json=body, **kwargs)

    def update_draft(self, scenario_id: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.call("POST", f"{MANAGE}/{scenario_id}/draft", json=body, **kwargs)

    def create_revision(
        self, scenario_id: str, body: Any = None, **kwargs: Any
    ) -> requests.Response:
        return self.call("POST", f"{MANAGE}/{scenario_id}/revisions", json=body, **kwargs)

    def delete_revision(self, scenario_id: str, version: Any, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", f"{MANAGE}/{scenario_id}/revisions/{version}", **kwargs)

    def control(self, method: str, name: str, body: Any = None) -> requests.Response:
        return requests.request(
            method, f"{self.server.root_url}/_sim/{name}", json=body, timeout=15
        )

    def close(self) -> None:
        self.session.close()
