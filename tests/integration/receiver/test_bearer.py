"""`POST /hooks` with `Authorization: Bearer`, over the wire to the real process."""

from __future__ import annotations

import json

import httpx
import pytest

from receiver.sinks.file import read_events
from tests.integration.receiver.conftest import ReceiverStarter, RunningReceiver
from tests.integration.receiver.test_process import ASSIGNED, raw_request, status_of
from tests.waiting import wait_until

NEW = "integration-new-secret-0123456789"
OLD = "integration-old-secret-abcdefghij"


@pytest.fixture
def rotating(start: ReceiverStarter) -> RunningReceiver:
    """A receiver mid-rotation, logging every request."""
    return start(env={"RECEIVER_SECRET": f"{NEW},{OLD}", "RECEIVER_LOG_LEVEL": "DEBUG"})


def post_raw(receiver: RunningReceiver, header_lines: str, path: str = "/hooks") -> bytes:
    """POSTs the event with the given header lines exactly as written; returns the reply."""
    body = json.dumps(ASSIGNED).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{header_lines}Connection: close\r\n\r\n"
    )
    return raw_request(receiver, head.encode() + body)


@pytest.mark.parametrize("secret", [NEW, OLD])
def test_either_rotating_secret_is_accepted_as_a_bearer_token(
    rotating: RunningReceiver, secret: str
) -> None:
    response = httpx.post(
        f"{rotating.base_url}/hooks", json=ASSIGNED, headers={"Authorization": f"Bearer {secret}"}
    )

    assert response.status_code == 200
    [event] = read_events(rotating.sink_path)
    assert event.delivery_key == response.json()["deliveryKey"]


@pytest.mark.parametrize(
    ("header_lines", "status"),
    [
        (f"authorization: bearer {NEW}\r\n", 200),
        # Whitespace before a field value is not part of it (RFC 9110 5.5); the parser drops it.
        (f"Authorization:    Bearer {OLD}\r\n", 200),
        ("", 401),
        ("Authorization: Bearer\r\n", 401),
        (f"Authorization: Basic {NEW}\r\n", 401),
        (f"Authorization: Bearer  {NEW}\r\n", 401),
        (f"Authorization: Bearer {NEW} \r\n", 401),
        (f"Authorization: Bearer {NEW}\r\nAuthorization: Bearer {NEW}\r\n", 401),
    ],
)
def test_the_header_as_sent_on_the_wire(
    rotating: RunningReceiver, header_lines: str, status: int
) -> None:
    reply = post_raw(rotating, header_lines)

    assert status_of(reply) == status
    if status == 401:
        head, _, body = reply.partition(b"\r\n\r\n")
        assert b"www-authenticate: Bearer" in head.split(b"\r\n")
        assert json.loads(body) == {"error": "missing or invalid bearer token"}


def test_the_path_form_still_works_and_a_header_with_it_must_match(
    rotating: RunningReceiver,
) -> None:
    assert status_of(post_raw(rotating, "", path=f"/hooks/{OLD}")) == 200
    assert status_of(post_raw(rotating, f"Authorization: Bearer {NEW}\r\n", f"/hooks/{OLD}")) == 200
    assert status_of(post_raw(rotating, "Authorization: Bearer nope\r\n", f"/hooks/{OLD}")) == 401
    assert status_of(post_raw(rotating, f"Authorization: Bearer {NEW}\r\n", "/hooks/nope")) == 404


def test_other_methods_on_the_bare_hook_are_405(rotating: RunningReceiver) -> None:
    response = httpx.get(f"{rotating.base_url}/hooks")

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_no_secret_reaches_the_process_log(rotating: RunningReceiver) -> None:
    requests = 0
    for header_lines in [
        f"Authorization: Bearer {NEW}\r\n",
        f"Authorization: Basic {OLD}\r\n",
        f"Authorization: Bearer {NEW}x\r\n",
        f"Authorization: Bearer  {OLD}\r\n",
        f"Authorization: Bearer {NEW}\r\nAuthorization: Bearer {OLD}\r\n",
    ]:
        post_raw(rotating, header_lines)
        post_raw(rotating, header_lines, path=f"/hooks/{NEW}")
        requests += 2
    # A head the parser refuses, the secret in it.
    raw_request(
        rotating, f"POST /hooks HTTP/1.1\r\nAuthorization: Bearer {NEW}\x01\r\n\r\n".encode()
    )
    requests += 1
    # Lines of a loop turn are written on the next one, after the response; in order, so
    # once the last request's line is there, every line before it is too.
    wait_until(lambda: rotating.log().count('"httpRequest"') == requests, 10, "every log line")

    log = rotating.log()
    statuses = {
        json.loads(line)["httpRequest"]["status"]
        for line in log.splitlines()
        if "httpRequest" in line
    }
    assert {200, 401} <= statuses
    assert NEW not in log
    assert OLD not in log
