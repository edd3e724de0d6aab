"""What the client reports when an import does not go through: safe to resend or unknown,
and how long a rate limit asks to wait, within the call's deadline."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import tenacity.nap

from simulator.server import SimulatorServer
from tests.conftest import TEXTER_TOKEN
from texter_webhooks.texter import content, errors
from texter_webhooks.texter.body import BodySpec, render, request_urls
from texter_webhooks.texter.client import RetryPolicy, TexterClient
from texter_webhooks.texter.ownership import Marker

RECEIVER = "https://receiver.example.com/hooks/receiver-secret"
MARKER = "stack:outcomes"


def body() -> dict[str, Any]:
    return Marker.marked(render(BodySpec(url=RECEIVER, event="chatAssigned"), stack="test"), MARKER)


class NoSleepPast:
    """Stands in for the `time` module tenacity sleeps with: a wait past `limit` fails at
    once instead of stalling the test for it."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        if seconds > self.limit:
            raise AssertionError(f"the client waited {seconds}s, past its {self.limit}s deadline")
        time.sleep(seconds)


def test_a_refused_connection_on_import_is_retried_and_reported_unavailable_not_ambiguous(
    monkeypatch: pytest.MonkeyPatch, refused_port: int
) -> None:
    port = refused_port
    policy = RetryPolicy(deadline=1, backoff_initial=0.01, backoff_max=0.05)
    client = TexterClient(f"http://127.0.0.1:{port}/server/api/v2", TEXTER_TOKEN, policy=policy)
    attempts: list[str] = []
    send = requests.Session.request

    def counted(session: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
        attempts.append(f"{method} {urlsplit(url).path}")
        return send(session, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", counted)

    with pytest.raises(errors.TexterAPIError) as caught:
        client.import_scenario(body())

    # Nothing reached Texter: safe to send again, so no "unknown outcome" for the provider
    # to look up, and it was sent again within the deadline.
    assert type(caught.value) is errors.UnavailableError
    assert not isinstance(caught.value, errors.AmbiguousWriteError)
    assert f"connection to 127.0.0.1:{port} failed" in str(caught.value)
    assert len(attempts) > 1
    assert set(attempts) == {"POST /server/api/v2/scenarios/manage/import"}


def test_a_429_asking_for_an_hour_fails_the_import_within_its_deadline_saying_when(
    texter_sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    deadline = 5.0
    sleeps = NoSleepPast(deadline)
    monkeypatch.setattr(tenacity.nap, "time", sleeps)
    client = TexterClient(texter_sim.base_url, TEXTER_TOKEN, policy=RetryPolicy(deadline=deadline))
    texter_sim.add_fault("import", "429", count=1, retry_after=3600)
    started = time.monotonic()

    with pytest.raises(errors.RateLimitedError) as caught:
        client.import_scenario(body())

    assert time.monotonic() - started < deadline
    assert sleeps.waits == []  # no wait it could not finish before the deadline
    message = str(caught.value)
    assert "retry in 3600s" in message
    assert re.search(r"\(after \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)", message), message
    assert caught.value.status == 429
    assert [r["route"] for r in texter_sim.request_log()] == ["import"]
    assert texter_sim.scenarios() == []


def test_a_scenario_texter_made_from_an_import_body_has_that_body_as_its_live_body(
    texter_sim: SimulatorServer,
) -> None:
    client = TexterClient(texter_sim.base_url, TEXTER_TOKEN)
    sent = body()
    client.import_scenario(sent)
    [scenario] = client.list_scenarios()

    live = content.live_body(scenario)

    # The import body's data fields, bar its format `version` (a revision's is a number).
    assert live == {"data": {k: v for k, v in sent["data"].items() if k != "version"}}
    assert request_urls(live) == [RECEIVER]
