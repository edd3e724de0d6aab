"""What the process promises when it is stopped: kill -9 loses nothing acknowledged, and SIGTERM
lets requests in flight finish."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from receiver.sinks.file import read_events
from tests.integration.receiver.conftest import ReceiverStarter, RunningReceiver

CLIENTS = 4
MAX_REQUESTS_PER_CLIENT = 150
KILL_AFTER_ACKNOWLEDGED = 150
LOAD_DEADLINE_SECONDS = 30.0


def envelope(client: int, sequence: int) -> bytes:
    return json.dumps(
        {"eventName": "newMessage", "eventData": {"message": {"id": f"{client}-{sequence}"}}}
    ).encode()


class Client(threading.Thread):
    """Posts distinct deliveries on one keep-alive connection until the server goes away."""

    def __init__(self, receiver: RunningReceiver, number: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.receiver = receiver
        self.number = number
        self.stop = stop
        self.acknowledged: list[str] = []
        self.failures = 0

    def run(self) -> None:
        connection = http.client.HTTPConnection(self.receiver.host, self.receiver.port, timeout=10)
        try:
            for sequence in range(MAX_REQUESTS_PER_CLIENT):
                if self.stop.is_set():
                    return
                try:
                    connection.request(
                        "POST",
                        self.receiver.hook_path,
                        body=envelope(self.number, sequence),
                        headers={"Content-Type": "application/json"},
                    )
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    # The kill: whatever was in flight was never acknowledged.
                    self.failures += 1
                    return
                if 200 <= response.status < 300:
                    self.acknowledged.append(f"{self.number}-{sequence}")
        finally:
            connection.close()


def test_kill_9_under_load_loses_no_acknowledged_delivery(start: ReceiverStarter) -> None:
    receiver = start()
    stop = threading.Event()
    clients = [Client(receiver, number, stop) for number in range(CLIENTS)]
    for client in clients:
        client.start()

    deadline = time.monotonic() + LOAD_DEADLINE_SECONDS
    while sum(len(c.acknowledged) for c in clients) < KILL_AFTER_ACKNOWLEDGED:
        assert time.monotonic() < deadline, "the load never reached the kill point"
        assert any(c.is_alive() for c in clients), "every client stopped early"
        time.sleep(0.005)
    os.kill(receiver.process.pid, signal.SIGKILL)
    receiver.process.wait(timeout=10)
    stop.set()
    for client in clients:
        client.join(timeout=15)

    acknowledged = {ack for client in clients for ack in client.acknowledged}
    stored = {
        event.envelope()["eventData"]["message"]["id"] for event in read_events(receiver.sink_path)
    }
    assert receiver.process.returncode == -signal.SIGKILL
    assert len(acknowledged) >= KILL_AFTER_ACKNOWLEDGED
    assert acknowledged <= stored

    # A restart on the same file carries on from what survived.
    restarted = start(sink_path=receiver.sink_path)
    connection = http.client.HTTPConnection(restarted.host, restarted.port, timeout=10)
    connection.request(
        "POST", restarted.hook_path, envelope(99, 0), {"Content-Type": "application/json"}
    )
    assert connection.getresponse().status == 200
    connection.close()
    after = {
        event.envelope()["eventData"]["message"]["id"] for event in read_events(receiver.sink_path)
    }
    assert after == stored | {"99-0"}


def send_head_and_half_a_body(receiver: RunningReceiver) -> tuple[socket.socket, bytes]:
    body = envelope(0, 0)
    sock = socket.create_connection((receiver.host, receiver.port), timeout=10)
    sock.sendall(
        (
            f"POST {receiver.hook_path} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body[: len(body) // 2]
    )
    # So that the request is in flight when the signal lands: the server reads connections in
    # the order their bytes arrived, so once it has answered a request sent after this one,
    # it has parsed this one's head (and handed the request to the app).
    with socket.create_connection((receiver.host, receiver.port), timeout=10) as probe:
        probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert probe.recv(65536).startswith(b"HTTP/1.1 200 ")
    return sock, body[len(body) // 2 :]


def refuses_connections(receiver: RunningReceiver) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection((receiver.host, receiver.port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        time.sleep(0.05)
    return False


def test_sigterm_lets_a_request_in_flight_finish_then_exits_0(start: ReceiverStarter) -> None:
    receiver = start()
    sock, rest = send_head_and_half_a_body(receiver)

    receiver.process.send_signal(signal.SIGTERM)
    assert refuses_connections(receiver)
    sock.sendall(rest)
    reply = sock.recv(65536)
    sock.close()

    assert reply.startswith(b"HTTP/1.1 200 ")
    assert receiver.process.wait(timeout=15) == 0
    [event] = read_events(receiver.sink_path)
    assert event.body == envelope(0, 0)


def test_sigterm_gives_up_on_a_stalled_request_after_the_timeout(
    start: ReceiverStarter,
) -> None:
    receiver = start(env={"RECEIVER_SHUTDOWN_TIMEOUT_SECONDS": "1"})
    sock, _ = send_head_and_half_a_body(receiver)

    receiver.process.send_signal(signal.SIGTERM)

    # Still draining half a second later: the request is in flight (with none, the
    # process exits at once and this test would prove nothing).
    with pytest.raises(subprocess.TimeoutExpired):
        receiver.process.wait(timeout=0.5)
    # The rest of the body never comes; the process must still exit, storing nothing.
    assert receiver.process.wait(timeout=15) == 0
    sock.close()
    assert read_events(receiver.sink_path) == []
