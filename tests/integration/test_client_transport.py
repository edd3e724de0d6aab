"""A connection cut in the middle of an answer: retried when harmless, else ambiguous."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from texter_webhooks.texter import errors
from texter_webhooks.texter.client import RetryPolicy, TexterClient

TRUNCATED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    b'{"total": 0, "scen'
)


@pytest.fixture
def truncating_server() -> Iterator[tuple[str, list[int]]]:
    """Answers every request with headers and half a body, then closes."""
    listener = socket.create_server(("127.0.0.1", 0))
    served: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(TRUNCATED)
                served.append(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/server/api/v2", served
    stop.set()
    thread.join()
    listener.close()


def test_cut_answers_are_typed_retried_for_reads_and_ambiguous_for_imports(
    truncating_server: tuple[str, list[int]],
) -> None:
    base_url, served = truncating_server
    client = TexterClient(
        base_url, "token", policy=RetryPolicy(deadline=0.6, backoff_initial=0.01, backoff_max=0.05)
    )
    with pytest.raises(errors.UnavailableError, match="answer was cut off"):
        client.list_scenarios()
    assert len(served) > 1  # retried
    served.clear()
    with pytest.raises(errors.AmbiguousWriteError, match="answer was cut off"):
        client.import_scenario({"data": {}})
    assert len(served) == 1  # never blindly re-sent
