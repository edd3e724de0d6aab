"""The Texter client against the simulator: every endpoint, error class and fault."""

from __future__ import annotations

import logging
import time

import pytest

from simulator.config import SimulatorConfig
from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN
from texter_webhooks.texter import errors
from texter_webhooks.texter.body import BodySpec, render
from texter_webhooks.texter.client import RetryPolicy, TexterClient
from texter_webhooks.texter.scenario import scenario_description, scenario_status

FAST = RetryPolicy(deadline=5, backoff_initial=0.01, backoff_max=0.05, read_timeout=2)
URL = "http://127.0.0.1:9/hooks/receiver-secret"


def body(event: str = "chatAssigned", status: str = "active", marker: str = "m-1") -> dict:
    spec = BodySpec(
        url=URL, event=event, status=status, description=f"d [texter-webhooks:{marker}]"
    )
    return render(spec, stack="test")


@pytest.fixture
def client(texter_sim: SimulatorServer) -> TexterClient:
    return TexterClient(texter_sim.base_url, TEXTER_TOKEN, policy=FAST)


def api_calls(sim: SimulatorServer, route: str | None = None) -> list[dict]:
    return [r for r in sim.request_log() if route is None or r["route"] == route]


def test_import_list_toggle_runs_delete_round_trip(client: TexterClient, texter_sim) -> None:
    made = client.import_scenario(body())
    assert len(made["_id"]) == 24
    assert scenario_status(made) == "active"
    [listed] = client.list_scenarios()
    assert listed["_id"] == made["_id"]
    assert client.get_scenario(made["_id"]) == listed
    assert client.get_scenario("0" * 24) is None
    assert [s["_id"] for s in client.find_by_marker("[texter-webhooks:m-1]")] == [made["_id"]]

    assert scenario_status(client.inactivate(made["_id"])) == "inactive"
    assert scenario_status(client.activate(made["_id"])) == "active"
    texter_sim.fire("chatAssigned")  # nothing listens on port 9: a failed run is recorded
    [run] = client.list_runs(made["_id"])
    assert run["success"] is False
    client.delete(made["_id"])
    assert client.list_scenarios() == []


def test_import_honours_as_status_and_keeps_the_description(client: TexterClient) -> None:
    made = client.import_scenario(body(status="inactive", marker="keep-me"))
    assert scenario_status(made) == "inactive"
    assert scenario_description(made).endswith("[texter-webhooks:keep-me]")


@pytest.mark.parametrize(
    ("call", "error", "status"),
    [
        (lambda c: c.delete("0" * 24), errors.NotFoundError, 404),
        (lambda c: c.inactivate("0" * 24), errors.NotFoundError, 404),
        (lambda c: c.list_runs("0" * 24), errors.NotFoundError, 404),
        (lambda c: c.import_scenario({"data": {}}), errors.ValidationError, 400),
    ],
)
def test_client_errors_are_typed_and_carry_texters_message(client, call, error, status) -> None:
    with pytest.raises(error) as caught:
        call(client)
    assert caught.value.status == status
    assert caught.value.detail  # the API's own message


def test_validation_error_names_the_field(client: TexterClient) -> None:
    bad = body()
    bad["data"]["actions"][0]["params"]["url"] = "not-a-url"
    with pytest.raises(errors.ValidationError, match=r"data\.actions\[0\]\.params\.url"):
        client.import_scenario(bad)


def test_toggling_into_the_current_state_is_a_conflict(client: TexterClient) -> None:
    made = client.import_scenario(body())
    with pytest.raises(errors.ConflictError):
        client.activate(made["_id"])


def test_bad_token_is_an_auth_error_and_never_echoed(texter_sim: SimulatorServer) -> None:
    client = TexterClient(texter_sim.base_url, "wrong-token-value", policy=FAST)
    with pytest.raises(errors.AuthError) as caught:
        client.list_scenarios()
    assert caught.value.status == 401
    assert "wrong-token-value" not in str(caught.value)
    assert "wrong-token-value" not in repr(client)


def test_missing_scope_is_a_forbidden_error() -> None:
    config = SimulatorConfig(tokens={"view-only": frozenset({"view", "manage_on_behalf"})})
    with SimulatorServer(config) as sim:
        client = TexterClient(sim.base_url, "view-only", policy=FAST)
        assert client.list_scenarios() == []
        with pytest.raises(errors.ForbiddenError, match="(?i)create"):
            client.import_scenario(body())


@pytest.mark.parametrize("fault", ["500", "503", "reset"])
def test_idempotent_calls_retry_through_server_errors_and_resets(client, texter_sim, fault) -> None:
    texter_sim.add_fault("list", fault, count=2)
    assert client.list_scenarios() == []
    assert len(api_calls(texter_sim, "list")) == 3


def test_429_honours_retry_after(client: TexterClient, texter_sim: SimulatorServer) -> None:
    texter_sim.add_fault("import", "429", count=1, retry_after=1)
    made = client.import_scenario(body())
    assert len(texter_sim.scenarios()) == 1
    assert made["_id"] == texter_sim.scenarios()[0]["_id"]
    times = [r["ts"] for r in api_calls(texter_sim, "import")]
    assert len(times) == 2
    assert times[1] - times[0] >= 900  # ms: waited as told, not the 10 ms backoff


def test_a_retry_after_past_the_deadline_fails_at_once_saying_when(
    texter_sim: SimulatorServer,
) -> None:
    client = TexterClient(texter_sim.base_url, TEXTER_TOKEN, policy=RetryPolicy(deadline=5))
    texter_sim.add_fault("list", "429", count=1, retry_after=3600)
    started = time.monotonic()
    with pytest.raises(errors.RateLimitedError, match=r"retry in 3600s \(after 20\d\d-") as caught:
        client.list_scenarios()
    assert time.monotonic() - started < 2  # no pointless wait for a deadline it cannot meet
    assert caught.value.status == 429


def test_a_storm_past_the_deadline_fails_with_a_typed_error(texter_sim: SimulatorServer) -> None:
    client = TexterClient(
        texter_sim.base_url, TEXTER_TOKEN, policy=RetryPolicy(deadline=0.5, backoff_initial=0.05)
    )
    texter_sim.add_fault("list", "500", count=1_000_000)
    with pytest.raises(errors.UnavailableError, match="Texter list failed") as caught:
        client.list_scenarios()
    assert caught.value.status == 500


@pytest.mark.parametrize("fault", ["500", "commit_then_drop"])
def test_import_is_not_blindly_resent_after_an_unknown_outcome(client, texter_sim, fault) -> None:
    texter_sim.add_fault("import", fault, count=1)
    with pytest.raises(errors.AmbiguousWriteError):
        client.import_scenario(body())
    assert len(api_calls(texter_sim, "import")) == 1
    # the caller looks before writing again: commit_then_drop made it, 500 did not
    found = client.find_by_marker("[texter-webhooks:m-1]")
    assert len(found) == (1 if fault == "commit_then_drop" else 0)


def test_a_reset_import_is_an_unknown_outcome_and_is_not_sent_again(
    client: TexterClient, texter_sim: SimulatorServer
) -> None:
    # A reset may come before or after the request was read: the client cannot tell, so
    # it reports an unknown outcome (the provider looks first) rather than risk a twin.
    texter_sim.add_fault("import", "reset", count=1)
    with pytest.raises(errors.AmbiguousWriteError):
        client.import_scenario(body())
    assert len(api_calls(texter_sim, "import")) == 1
    assert texter_sim.scenarios() == []


def test_timeouts_are_bounded_by_the_read_timeout(texter_sim: SimulatorServer) -> None:
    client = TexterClient(
        texter_sim.base_url,
        TEXTER_TOKEN,
        policy=RetryPolicy(deadline=3, backoff_initial=0.01, read_timeout=0.3),
    )
    texter_sim.add_fault("list", "delay", count=1, delay_ms=1500)
    assert client.list_scenarios() == []  # the second attempt answers
    texter_sim.add_fault("import", "delay", count=1, delay_ms=1500)
    with pytest.raises(errors.AmbiguousWriteError, match="no answer within 0.3s"):
        client.import_scenario(body())


def test_unreachable_texter_is_unavailable_naming_the_host() -> None:
    policy = RetryPolicy(deadline=1, backoff_initial=0.01, backoff_max=0.05)
    client = TexterClient("http://127.0.0.1:9/server/api/v2", TEXTER_TOKEN, policy=policy)
    with pytest.raises(errors.UnavailableError, match="connection to 127.0.0.1:9 failed"):
        client.list_scenarios()


def test_the_token_is_in_no_log_line(
    client: TexterClient, texter_sim: SimulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texter_sim.add_fault("list", "500", count=1)
    client.import_scenario(body())
    client.list_scenarios()
    assert caplog.records  # urllib3 logs each request at debug level
    assert all(TEXTER_TOKEN not in r.getMessage() for r in caplog.records)


def test_the_client_refuses_to_be_pickled(client: TexterClient) -> None:
    import pickle

    with pytest.raises(TypeError, match="token"):
        pickle.dumps(client)
