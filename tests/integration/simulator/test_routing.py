"""Unknown routes, wrong methods, query parameters and the error body shape."""

from __future__ import annotations

import http.client

from simulator.ids import new_object_id
from tests.integration.simulator.client import Api
from tests.integration.simulator.templates import filled_template


def test_unknown_routes_are_404(api):
    response = api.call("GET", f"/scenarios/manage/{new_object_id()}/pause")

    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


def test_paths_outside_the_api_prefix_are_404(sim):
    response = Api(sim).session.get(f"{sim.root_url}/scenarios/manage", timeout=5)

    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


def test_wrong_methods_are_405_with_allow(api):
    # The import path is also `DELETE /scenarios/manage/{id}` with id "import".
    response = api.call("GET", "/scenarios/manage/import")

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST, DELETE"
    assert response.json()["error"]["status"] == 405


def test_unknown_query_parameters_are_400(api):
    response = api.list(params={"limit": "10"})

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "query.limit: unknown query parameter"


def test_lenient_query_ignores_unknown_parameters(make_simulator):
    api = Api(make_simulator(lenient_query=True))

    assert api.list(params={"limit": "10"}).status_code == 200


def test_connections_are_kept_alive_even_after_a_failed_request_with_a_body(sim):
    connection = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    headers = {"Authorization": f"Bearer {sim.token}", "Content-Type": "application/json"}
    sim.add_fault("import", "500")
    try:
        connection.request("POST", "/server/api/v2/scenarios/manage/import", "{}", headers)
        failed = connection.getresponse()
        failed.read()
        first_socket = connection.sock
        connection.request("GET", "/server/api/v2/scenarios/manage", headers=headers)
        listed = connection.getresponse()
        listed.read()
        second_socket = connection.sock
    finally:
        connection.close()

    assert (failed.status, failed.version, failed.will_close) == (500, 11, False)
    assert listed.status == 200
    assert first_socket is not None
    assert second_socket is first_socket  # the unread body would have broken this request
    assert [e["status"] for e in sim.request_log()] == [500, 200]


def test_oversized_bodies_are_413(make_simulator):
    api = Api(make_simulator(max_body_bytes=100))

    response = api.import_(filled_template("chatPending", "https://h.example/x"))

    assert response.status_code == 413
    assert response.json()["error"]["status"] == 413
    assert response.headers["Connection"] == "close"
    assert api.server.scenarios() == []
