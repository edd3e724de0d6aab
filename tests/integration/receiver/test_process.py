"""The real `python -m receiver` process over HTTP on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from receiver.sinks.file import read_events
from tests.integration.receiver.conftest import (
    REPO_ROOT,
    ReceiverStarter,
    RunningReceiver,
    receiver_env,
)
from tests.waiting import wait_until

ASSIGNED = {"eventName": "chatAssigned", "eventData": {"chat": {"_id": "c1"}}}


def raw_request(receiver: RunningReceiver, request: bytes) -> bytes:
    """Sends bytes exactly as given (no client-side path normalisation); returns the reply."""
    with socket.create_connection((receiver.host, receiver.port), timeout=10) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def test_a_delivery_is_in_the_file_sink_once_acknowledged(receiver: RunningReceiver) -> None:
    response = httpx.post(receiver.hook_url, json=ASSIGNED)

    assert response.status_code == 200
    [event] = read_events(receiver.sink_path)
    assert event.delivery_key == response.json()["deliveryKey"]
    assert event.event_name == "chatAssigned"
    assert event.envelope() == ASSIGNED


def test_the_file_sink_holds_each_body_byte_for_byte(receiver: RunningReceiver) -> None:
    # Numbers past a double and a 64-bit integer, an escape, pretty-printing: all kept, and
    # bodies a parser reads alike are two deliveries.
    bodies = [
        b'{\n "eventName": "chatAssigned",\n "eventData": {"n": %s, "t": "\\u00e9\xc3\xa9"}\n}'
        % number
        for number in (
            b"123456789012345678901234567890",
            b"123456789012345678901234567891",
            b"0.10000000000000000001",
            b"0.1",
        )
    ]

    statuses = [
        httpx.post(
            receiver.hook_url, content=body, headers={"content-type": "application/json"}
        ).json()["status"]
        for body in bodies
    ]

    assert statuses == ["accepted"] * 4
    assert [event.body for event in read_events(receiver.sink_path)] == bodies


def test_a_redelivery_is_acknowledged_and_not_stored_twice(receiver: RunningReceiver) -> None:
    first = httpx.post(receiver.hook_url, json=ASSIGNED)
    second = httpx.post(receiver.hook_url, json=ASSIGNED)

    assert (first.json()["status"], second.json()["status"]) == ("accepted", "duplicate")
    assert len(read_events(receiver.sink_path)) == 1


def test_log_lines_are_json_and_hold_no_secret(start: ReceiverStarter) -> None:
    # DEBUG: a line for every request, the acknowledged ones included.
    receiver = start(env={"RECEIVER_LOG_LEVEL": "DEBUG"})
    httpx.post(receiver.hook_url, json=ASSIGNED)
    httpx.post(f"{receiver.base_url}/hooks/not-the-secret-0123456789", json=ASSIGNED)
    httpx.get(f"{receiver.base_url}/typo/{receiver.secret}")

    log = receiver.log()
    assert receiver.secret not in log
    entries = [json.loads(line) for line in log.splitlines()]
    requests = [entry for entry in entries if "httpRequest" in entry]
    assert [entry["httpRequest"]["status"] for entry in requests[-3:]] == [200, 404, 404]
    assert all(entry["severity"] in ("DEBUG", "INFO", "WARNING", "ERROR") for entry in entries)


def test_by_default_only_requests_not_acknowledged_are_logged(receiver: RunningReceiver) -> None:
    httpx.post(receiver.hook_url, json=ASSIGNED)
    httpx.get(f"{receiver.base_url}/healthz")
    httpx.post(f"{receiver.base_url}/hooks/not-the-secret-0123456789", json=ASSIGNED)
    httpx.post(receiver.hook_url, content=b"{", headers={"content-type": "application/json"})

    def statuses() -> list[int]:
        entries = [json.loads(line) for line in receiver.log().splitlines()]
        return [entry["httpRequest"]["status"] for entry in entries if "httpRequest" in entry]

    # Lines of a loop turn are written on the next one, after the response; in order, so
    # once the last request's line is there, every line before it is too.
    wait_until(lambda: 400 in statuses(), 10, "the log line of the last request")
    assert statuses() == [404, 400]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/hooks/../healthz", 404),
        ("/hooks/%2e%2e/healthz", 404),
        ("/hooks/{secret}/extra", 404),
        ("/hooks/{secret}%2Fextra", 404),
        ("/hooks/{secret}/..", 404),
        ("/hooks/./{secret}", 404),
        ("//hooks/{secret}", 404),
        ("/hooks/%ff%fe", 404),
        ("/HOOKS/{secret}", 404),
        ("/hooks/{secret}?x=1", 200),
    ],
)
def test_path_tricks_over_the_wire(receiver: RunningReceiver, target: str, expected: int) -> None:
    body = json.dumps(ASSIGNED).encode()
    path = target.format(secret=receiver.secret)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body

    assert status_of(raw_request(receiver, request)) == expected


def test_a_percent_encoded_secret_is_the_same_url(receiver: RunningReceiver) -> None:
    # RFC 3986: %XX of an unreserved character is that character.
    encoded = "".join(f"%{ord(char):02X}" for char in receiver.secret)

    response = httpx.post(f"{receiver.base_url}/hooks/{encoded}", json=ASSIGNED)

    assert response.status_code == 200


def test_a_declared_oversized_body_is_refused_without_being_sent(
    receiver: RunningReceiver,
) -> None:
    head = (
        f"POST {receiver.hook_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\n\r\n"
    ).encode()

    reply = raw_request(receiver, head + b"{")

    assert status_of(reply) == 413
    assert read_events(receiver.sink_path) == []


def test_a_chunked_oversized_body_is_refused(receiver: RunningReceiver) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(2 * 1024):
            yield b" " * 1024

    response = httpx.post(
        receiver.hook_url, content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413


def test_a_bad_configuration_exits_naming_the_setting() -> None:
    secret = "integration-secret-0123456789"
    completed = subprocess.run(
        [sys.executable, "-m", "receiver"],
        cwd=REPO_ROOT,
        env=receiver_env({"RECEIVER_SECRET": secret, "PORT": "not-a-port"}),
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert completed.returncode == 2
    assert "RECEIVER_SINK" in completed.stderr
    assert secret not in completed.stderr + completed.stdout
