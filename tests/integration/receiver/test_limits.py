"""The receiver on its own, with no front end: what a sender sees over the wire when a body is
too large or compressed, and what slow, huge or idle connections can hold."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from receiver.sinks.file import read_events
from tests.integration.receiver.conftest import ReceiverStarter, RunningReceiver

MiB = 1024 * 1024
VALID = json.dumps({"eventName": "chatAssigned", "eventData": {"chat": {"_id": "c1"}}}).encode()
# Short limits so the tests take seconds; the defaults are documented in the README.
FAST_LIMITS = {
    "RECEIVER_HEADER_TIMEOUT_SECONDS": "1",
    "RECEIVER_BODY_TIMEOUT_SECONDS": "1",
}


def head(receiver: RunningReceiver, headers: dict[str, str], path: str | None = None) -> bytes:
    lines = [f"POST {path or receiver.hook_path} HTTP/1.1", "Host: x"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def connect(receiver: RunningReceiver, timeout: float = 10) -> socket.socket:
    return socket.create_connection((receiver.host, receiver.port), timeout=timeout)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response off the socket: status, headers, body (by Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body


def closed_by_peer(sock: socket.socket, within: float) -> bytes | None:
    """What the server sent before closing, if it closed within `within` seconds."""
    sock.settimeout(0.2)
    received = b""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    return None


def rss_mb(receiver: RunningReceiver) -> float:
    for line in Path(f"/proc/{receiver.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def chunked(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


@pytest.mark.parametrize("size_mib", [2, 8, 16, 32])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_sender_that_writes_a_whole_oversize_body_reads_the_413(
    receiver: RunningReceiver, size_mib: int, framing: str
) -> None:
    body = b" " * (size_mib * MiB)
    if framing == "content-length":
        request = head(
            receiver, {"Content-Type": "application/json", "Content-Length": str(len(body))}
        )
        pieces: Iterator[bytes] = iter([body])
    else:
        request = head(
            receiver, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        )
        pieces = chunked(body)

    with connect(receiver) as sock:
        # What most clients do: write the whole request, then read the response.
        sock.sendall(request)
        for piece in pieces:
            sock.sendall(piece)
        status, headers, reply = read_response(sock)

        assert status == 413
        assert json.loads(reply) == {"error": "the body is too large"}
        # The body was read to its end, so the connection carries the next request.
        assert headers.get("connection") != "close"
        sock.sendall(
            head(receiver, {"Content-Type": "application/json", "Content-Length": str(len(VALID))})
            + VALID
        )
        assert read_response(sock)[0] == 200
    assert len(read_events(receiver.sink_path)) == 1


def test_a_compressed_body_is_415_over_the_wire(receiver: RunningReceiver) -> None:
    import gzip

    body = gzip.compress(VALID)
    request = head(
        receiver,
        {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "Content-Length": str(len(body)),
        },
    )
    with connect(receiver) as sock:
        sock.sendall(request + body)
        status, headers, _ = read_response(sock)

    assert status == 415
    assert headers["accept-encoding"] == "identity"
    assert read_events(receiver.sink_path) == []


def test_two_content_types_are_400_over_the_wire(receiver: RunningReceiver) -> None:
    request = head(
        receiver,
        {"Content-Type": "text/plain", "Content-Length": str(len(VALID))},
    ).replace(b"Host: x\r\n", b"Host: x\r\nContent-Type: application/json\r\n")
    with connect(receiver) as sock:
        sock.sendall(request + VALID)
        status, _, _ = read_response(sock)

    assert status == 400
    assert read_events(receiver.sink_path) == []


def test_a_slowloris_head_is_cut_off_with_a_408(start: ReceiverStarter) -> None:
    receiver = start(env=FAST_LIMITS)
    with connect(receiver) as sock:
        sock.sendall(f"POST {receiver.hook_path} HTTP/1.1\r\nHost: x\r\n".encode())
        started = time.monotonic()
        # A header line every 0.2 s: each arrives well within any per-read timeout.
        for n in range(15):
            try:
                sock.sendall(f"X-Slow-{n}: y\r\n".encode())
            except OSError:
                break
            time.sleep(0.2)
        sent = closed_by_peer(sock, within=5)

    assert sent is not None, "the connection was still open"
    assert sent.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < 4


def test_a_connection_that_sends_nothing_is_closed(start: ReceiverStarter) -> None:
    receiver = start(env=FAST_LIMITS)
    with connect(receiver) as sock:
        assert closed_by_peer(sock, within=4) == b""


def test_a_body_trickled_in_is_cut_off_with_a_408(start: ReceiverStarter) -> None:
    receiver = start(env=FAST_LIMITS)
    body = VALID
    with connect(receiver) as sock:
        sock.sendall(
            head(receiver, {"Content-Type": "application/json", "Content-Length": str(len(body))})
        )
        started = time.monotonic()
        for byte in body[:15]:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.2)
        sent = closed_by_peer(sock, within=5)

    assert sent is not None, "the connection was still open"
    assert sent.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < 4
    assert read_events(receiver.sink_path) == []


def test_a_64_mib_header_is_refused_early_without_growing_the_process(
    start: ReceiverStarter,
) -> None:
    receiver = start()
    before = rss_mb(receiver)
    sent = 0
    reply = b""
    with connect(receiver) as sock:
        sock.sendall(f"POST {receiver.hook_path} HTTP/1.1\r\nHost: x\r\nX-Big: ".encode())
        piece = b"a" * (256 * 1024)
        with contextlib.suppress(OSError):
            while sent < 64 * MiB:
                sock.sendall(piece)
                sent += len(piece)
        with contextlib.suppress(OSError):
            reply = closed_by_peer(sock, within=5) or b""

    # Refused once the head passed its cap (32 KiB), long before 64 MiB was sent.
    assert sent < 16 * MiB
    assert reply == b"" or reply.startswith(b"HTTP/1.1 431 ")
    assert rss_mb(receiver) - before < 16
    with connect(receiver) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock)[0] == 200


def test_a_head_at_a_few_kib_is_served(receiver: RunningReceiver) -> None:
    headers = {f"X-Header-{n}": "v" * 200 for n in range(40)}
    request = head(
        receiver,
        {"Content-Type": "application/json", "Content-Length": str(len(VALID)), **headers},
    )
    with connect(receiver) as sock:
        sock.sendall(request + VALID)
        assert read_response(sock)[0] == 200


def test_idle_connections_past_the_cap_are_refused_and_all_expire(
    start: ReceiverStarter,
) -> None:
    receiver = start(env={**FAST_LIMITS, "RECEIVER_MAX_CONNECTIONS": "200"})
    before = rss_mb(receiver)
    idle: list[socket.socket] = []
    try:
        for _ in range(3000):
            idle.append(connect(receiver, timeout=5))
        time.sleep(0.5)
        # The connections past the cap are closed at once: the process does not hold 3,000.
        held = len(list(Path(f"/proc/{receiver.process.pid}/fd").iterdir()))
        assert held < 400
        assert rss_mb(receiver) - before < 32

        # Past the head timeout, none is left open.
        time.sleep(2)
        still_open = [sock for sock in idle if closed_by_peer(sock, within=0.01) is None]
        assert still_open == []
    finally:
        for sock in idle:
            sock.close()

    with connect(receiver) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock)[0] == 200
